"""Property tests: monotonicity of Deny and Allow, and order independence."""
from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from labkit.policy import ANONYMOUS, Request, evaluate
from tests.policy.helpers import ACCOUNT, OTHER

USERS = [f"arn:aws:iam::{ACCOUNT}:user/alice", f"arn:aws:iam::{ACCOUNT}:user/bob",
         f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s", f"arn:aws:iam::{OTHER}:user/carol",
         f"arn:aws:iam::{ACCOUNT}:root", ANONYMOUS]
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "ec2:RunInstances"]
RESOURCES = ["arn:aws:s3:::b/k", "arn:aws:s3:::b/home/alice/x", "arn:aws:s3:::c/k", "arn:aws:s3:::b"]
SSE = "s3:x-amz-server-side-encryption"

action_pats = st.sampled_from(["s3:GetObject", "s3:PutObject", "s3:*", "s3:Get*", "*", "ec2:*",
                               "s3:?istBucket"])
resource_pats = st.sampled_from(["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b",
                                 "arn:aws:s3:::b/home/${aws:username}/*", "arn:aws:s3:::c/*"])
conditions = st.sampled_from([
    None,
    {"StringEquals": {"aws:username": "alice"}},
    {"Null": {SSE: "true"}},
    {"StringNotEquals": {SSE: ["AES256", "aws:kms"]}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": "env*"}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}},
    {"BoolIfExists": {"aws:SecureTransport": "true"}},
])
principals = st.sampled_from(["*", {"AWS": USERS[0]}, {"AWS": ACCOUNT}, {"AWS": OTHER},
                              {"AWS": f"arn:aws:iam::{ACCOUNT}:role/r"}, {"AWS": "*"}])


def statement(effect, with_principal):
    base = {"Effect": st.just(effect), "Action": st.lists(action_pats, min_size=1, max_size=2),
            "Resource": st.lists(resource_pats, min_size=1, max_size=2)}
    if with_principal:
        base["Principal"] = principals

    @st.composite
    def build(draw):
        out = {k: draw(v) for k, v in base.items()}
        c = draw(conditions)
        if c:
            out["Condition"] = c
        return out

    return build()


def any_statement(with_principal):
    return st.one_of(statement("Allow", with_principal), statement("Deny", with_principal))


def policy(statements):
    return {"Version": "2012-10-17", "Statement": statements}


requests = st.builds(
    lambda p, a, r, sse, tags, tls: Request(p, a, r, dict(
        ({SSE: sse} if sse else {}), **({"aws:TagKeys": tags} if tags is not None else {}),
        **({"aws:SecureTransport": tls} if tls else {})), ACCOUNT),
    st.sampled_from(USERS), st.sampled_from(ACTIONS), st.sampled_from(RESOURCES),
    st.sampled_from([None, "AES256", "none"]),
    st.one_of(st.none(), st.lists(st.sampled_from(["env", "team", "owner"]), max_size=2)),
    st.sampled_from([None, "true", "false"]))

scenario = st.fixed_dictionaries({
    "identity": st.lists(any_statement(False), min_size=1, max_size=4),
    "resource": st.one_of(st.none(), st.lists(any_statement(True), min_size=1, max_size=3)),
    "boundary": st.one_of(st.none(), st.lists(any_statement(False), min_size=1, max_size=2)),
})


def run(req, s):
    return evaluate(req, [policy(s["identity"])],
                    policy(s["resource"]) if s["resource"] else None,
                    policy(s["boundary"]) if s["boundary"] else None)


def with_added(s, where, stmt):
    out = {k: (list(v) if v else v) for k, v in s.items()}
    out[where] = (out[where] or []) + [stmt]
    return out


@settings(max_examples=150, deadline=None)
@given(requests, scenario, st.sampled_from(["identity", "resource", "boundary"]), st.data())
def test_adding_deny_never_allows(req, s, where, data):
    stmt = data.draw(statement("Deny", where == "resource"))
    before, after = run(req, s), run(req, with_added(s, where, stmt))
    assert not (after.allowed and not before.allowed)


@settings(max_examples=150, deadline=None)
@given(requests, scenario, st.sampled_from(["identity", "resource", "boundary"]), st.data())
def test_adding_allow_never_denies(req, s, where, data):
    # A new permissions boundary limits; adding an Allow to an existing one cannot.
    assume(where != "boundary" or s["boundary"] is not None)
    stmt = data.draw(statement("Allow", where == "resource"))
    before, after = run(req, s), run(req, with_added(s, where, stmt))
    assert not (before.allowed and not after.allowed)


@settings(max_examples=150, deadline=None)
@given(requests, scenario, st.randoms(use_true_random=False))
def test_statement_order_never_matters(req, s, rnd):
    shuffled = {k: (rnd.sample(v, len(v)) if v else v) for k, v in s.items()}
    a, b = run(req, s), run(req, shuffled)
    assert (a.decision, a.denied_by) == (b.decision, b.denied_by)
