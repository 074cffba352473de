"""Agreement with labkit.policy.evaluate, on random policies and requests (hypothesis).

Two properties, for every check:
- completeness: a request evaluate allows within the checked access makes the check FAIL
  (so a PASS is never contradicted by a request we can find);
- soundness of FAILs: every counterexample is a request evaluate allows (verify()).
Requests never set the keys evaluate derives from the caller (analyze.principals.DERIVED):
on AWS the caller cannot choose them either. Only requests AWS could receive count
(audit.request_problems: a resource of a type the action takes, keys the action carries,
values of the key's type, one value for a single-valued key), and every counterexample
must be one.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.policy import ANONYMOUS, Request, evaluate
from labkit.policy.analyze import checks
from labkit.policy.analyze import (ALLOW_ALL, check_access_not_granted, check_no_new_access,
                                   check_no_public_access)
from tests.policy.analyze.audit import request_problems
from tests.policy.helpers import ACCOUNT, OTHER

# A query z3 cannot settle quickly answers FAIL "might grant", which never breaks the
# properties; short timeouts keep the module to seconds.


@pytest.fixture(autouse=True, scope="module")
def _short_timeouts():
    """Short z3 timeouts for this module only (restored after: other modules need proofs)."""
    saved = checks.TIMEOUT_MS, checks.QUICK_MS
    checks.TIMEOUT_MS, checks.QUICK_MS = 1500, 400
    yield
    checks.TIMEOUT_MS, checks.QUICK_MS = saved


SETTINGS = dict(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
USERS = [f"arn:aws:iam::{ACCOUNT}:user/alice", f"arn:aws:iam::{ACCOUNT}:user/bob",
         f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s"]
CALLERS = USERS + [f"arn:aws:iam::{OTHER}:user/carol", f"arn:aws:iam::{OTHER}:root", ANONYMOUS]
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "ec2:RunInstances",
           "iam:CreateUser"]
RESOURCES = ["arn:aws:s3:::b/k", "arn:aws:s3:::b/home/alice/x", "arn:aws:s3:::c/k",
             "arn:aws:s3:::b", "arn:aws:s3:::bx/k"]
SSE = "s3:x-amz-server-side-encryption"

action_pats = st.sampled_from(["s3:GetObject", "s3:PutObject", "s3:*", "s3:Get*", "*", "ec2:*",
                               "s3:?istBucket", "s3:*Object", "iam:Create*"])
resource_pats = st.sampled_from(["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b", "arn:aws:s3:::b?/*",
                                 "arn:aws:s3:::b/home/${aws:username}/*", "arn:aws:s3:::c/*",
                                 "arn:aws:s3:::*/k"])
conditions = st.sampled_from([
    None,
    {"StringEquals": {"aws:username": "alice"}},
    {"Null": {SSE: "true"}},
    {"StringNotEquals": {SSE: ["AES256", "aws:kms"]}},
    {"StringEqualsIgnoreCase": {SSE: "aes256"}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": "env*"}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}},
    {"BoolIfExists": {"aws:SecureTransport": "true"}},
    {"Bool": {"aws:SecureTransport": "false"}},
    {"NumericLessThan": {"s3:max-keys": "10"}},
    {"NumericGreaterThanEquals": {"s3:max-keys": "2.5"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"NotIpAddressIfExists": {"aws:SourceIp": ["10.1.0.0/16", "2001:db8::/32"]}},
    {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
    {"StringLike": {"s3:prefix": ["home/${aws:username}/*", ""]}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/a*"}},
    {"StringEquals": {"aws:PrincipalAccount": OTHER}},
])
principals = st.sampled_from(["*", {"AWS": USERS[0]}, {"AWS": ACCOUNT}, {"AWS": OTHER},
                              {"AWS": f"arn:aws:iam::{ACCOUNT}:role/r"}, {"AWS": "*"}])
context_values = st.fixed_dictionaries({}, optional={
    SSE: st.sampled_from(["AES256", "aes256", "none", ""]),
    "aws:TagKeys": st.lists(st.sampled_from(["env", "team", "envx", "owner"]), max_size=3),
    "aws:SecureTransport": st.sampled_from(["true", "false", "TRUE"]),
    "s3:max-keys": st.sampled_from(["1", "5", "2.5", "20", "abc"]),
    "aws:SourceIp": st.sampled_from(["10.1.2.3", "10.2.0.0/16", "192.0.2.1", "2001:db8::1"]),
    "aws:CurrentTime": st.sampled_from(["2026-01-01T00:00:00Z", "2031-05-05T00:00:00Z"]),
    "s3:prefix": st.sampled_from(["home/alice/", "home/bob/x", "", "other"]),
})


@st.composite
def statement(draw, with_principal=False):
    out = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    out["NotAction" if draw(st.integers(0, 5)) == 0 else "Action"] = draw(
        st.lists(action_pats, min_size=1, max_size=2))
    out["NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"] = draw(
        st.lists(resource_pats, min_size=1, max_size=2))
    if with_principal:
        field = "NotPrincipal" if draw(st.integers(0, 4)) == 0 else "Principal"
        value = draw(principals)
        out[field] = {"AWS": USERS[0]} if field == "NotPrincipal" and "*" in str(value) else value
    c = draw(conditions)
    if c:
        extra = draw(conditions)
        out["Condition"] = dict(c, **(extra or {})) if extra and not set(extra) & set(c) else c
    return out


def policy(statements):
    return {"Version": "2012-10-17", "Statement": statements}


identity_policies = st.lists(statement(), min_size=1, max_size=3).map(policy)
resource_policies = st.lists(statement(True), min_size=1, max_size=3).map(policy)


def identity_request(draw_user, action, resource, ctx):
    return Request(draw_user, action, resource, ctx, ACCOUNT)


@settings(**SETTINGS)
@given(identity_policies, st.sampled_from(USERS), st.sampled_from(ACTIONS),
       st.sampled_from(RESOURCES), context_values)
def test_identity_allowed_request_makes_the_check_fail(doc, user, action, resource, ctx):
    req = Request(user, action, resource, ctx, ACCOUNT)
    allowed = evaluate(req, [doc]).allowed and not request_problems(req)
    result = check_access_not_granted(doc, [action], [resource])
    if allowed:
        assert result.result == "FAIL", (doc, req)
    if result.counterexample is not None:
        assert result.verify() and not request_problems(result.counterexample)
        c = result.counterexample
        assert c.action.lower() == action.lower() and c.resource == resource


@settings(**dict(SETTINGS, max_examples=25))
@given(identity_policies, identity_policies, st.sampled_from(USERS), st.sampled_from(ACTIONS),
       st.sampled_from(RESOURCES), context_values)
def test_new_access_found_by_a_request_makes_no_new_access_fail(new, old, user, action,
                                                                 resource, ctx):
    req = Request(user, action, resource, ctx, ACCOUNT)
    new_access = evaluate(req, [new]).allowed and not evaluate(req, [old]).allowed \
        and not request_problems(req)
    result = check_no_new_access(new, old)
    if new_access:
        assert result.result == "FAIL", (new, old, req)
    if result.counterexample is not None:
        c = result.counterexample
        assert not request_problems(c), c
        assert evaluate(c, [new]).allowed and not evaluate(c, [old]).allowed


def _granted_by_resource_policy(req, doc):
    """evaluate's answer with the caller's identity side allowing everything across accounts."""
    cross = req.principal != ANONYMOUS and req.principal.split(":")[4] != ACCOUNT
    decision = evaluate(req, [ALLOW_ALL] if cross else [], doc)
    return decision.allowed and any(r.policy_type == "resource" for r in decision.reasons)


@settings(**SETTINGS)
@given(resource_policies, st.sampled_from(CALLERS), st.sampled_from(ACTIONS),
       st.sampled_from(RESOURCES), context_values)
def test_resource_policy_grant_makes_the_check_fail(doc, caller, action, resource, ctx):
    req = Request(caller, action, resource, ctx, ACCOUNT)
    result = check_access_not_granted(doc, [action], policy_type="RESOURCE_POLICY")
    if _granted_by_resource_policy(req, doc) and not request_problems(req, None,
                                                                        "RESOURCE_POLICY"):
        assert result.result == "FAIL", (doc, req)
    if result.counterexample is not None:
        assert result.verify()
        assert not request_problems(result.counterexample, None, "RESOURCE_POLICY")


@settings(**SETTINGS)
@given(resource_policies, st.sampled_from(ACTIONS[:4]), st.sampled_from(RESOURCES),
       context_values)
def test_anonymous_access_makes_the_public_check_fail(doc, action, resource, ctx):
    ctx = {k: v for k, v in ctx.items() if k.lower() not in ("aws:sourceip",)}
    req = Request(ANONYMOUS, action, resource, ctx)
    result = check_no_public_access(doc, "AWS::S3::Bucket")
    if evaluate(req, [], doc).allowed and not request_problems(req, None, "RESOURCE_POLICY"):
        assert result.result == "FAIL", (doc, req)
    if result.counterexample is not None:
        assert result.verify()
        assert not request_problems(result.counterexample, None, "RESOURCE_POLICY")
