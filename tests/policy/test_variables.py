"""Policy variables in Resource and Condition values."""
from __future__ import annotations

import pytest

from labkit.policy import Request, evaluate
from tests.policy.helpers import ACCOUNT, allow, decide, doc

# AWS docs example: each user may list and use only their own home folder.
HOME = doc(
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::lab",
     "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}}},
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
     "Resource": "arn:aws:s3:::lab/home/${aws:username}/*"},
)
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"


def test_username_in_resource():
    assert decide(HOME, "s3:PutObject", "arn:aws:s3:::lab/home/bob/a.txt", principal=BOB) == "allowed"
    assert decide(HOME, "s3:PutObject", "arn:aws:s3:::lab/home/eve/a.txt", principal=BOB) == \
        "implicit_deny"


def test_username_in_condition():
    ok = decide(HOME, "s3:ListBucket", "arn:aws:s3:::lab", {"s3:prefix": "home/bob/x"}, principal=BOB)
    no = decide(HOME, "s3:ListBucket", "arn:aws:s3:::lab", {"s3:prefix": "home/eve/"}, principal=BOB)
    assert (ok, no) == ("allowed", "implicit_deny")


def test_variable_value_is_literal_not_a_wildcard():
    # a user named "a*" must not match every folder starting with "a"
    star = f"arn:aws:iam::{ACCOUNT}:user/a*"
    assert decide(HOME, "s3:GetObject", "arn:aws:s3:::lab/home/abc/x", principal=star) == \
        "implicit_deny"
    assert decide(HOME, "s3:GetObject", "arn:aws:s3:::lab/home/a*/x", principal=star) == "allowed"


def test_missing_variable_matches_nothing_and_default_applies():
    role_session = f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s"  # sessions have no aws:username
    assert decide(HOME, "s3:GetObject", "arn:aws:s3:::lab/home/s/x", principal=role_session) == \
        "implicit_deny"
    dflt = doc(allow(resource="arn:aws:s3:::lab/home/${aws:username, 'shared'}/*"))
    assert decide(dflt, resource="arn:aws:s3:::lab/home/shared/x", principal=role_session) == "allowed"


@pytest.mark.parametrize("resource_pattern,resource,want", [
    ("arn:aws:s3:::lab/${*}", "arn:aws:s3:::lab/*", "allowed"),
    ("arn:aws:s3:::lab/${*}", "arn:aws:s3:::lab/x", "implicit_deny"),
    ("arn:aws:s3:::lab/${?}", "arn:aws:s3:::lab/?", "allowed"),
    ("arn:aws:s3:::lab/${?}", "arn:aws:s3:::lab/x", "implicit_deny"),
    ("arn:aws:s3:::lab/${$}x", "arn:aws:s3:::lab/$x", "allowed"),
])
def test_escapes(resource_pattern, resource, want):
    assert decide(doc(allow(resource=resource_pattern)), resource=resource) == want


def test_global_keys_as_variables():
    pol = doc(allow(resource="arn:aws:s3:::lab/${aws:PrincipalAccount}/${aws:userid}/*"))
    ctx = {"aws:userid": "AIDAEXAMPLE"}
    assert decide(pol, resource=f"arn:aws:s3:::lab/{ACCOUNT}/AIDAEXAMPLE/k", context=ctx) == "allowed"
    assert decide(pol, resource=f"arn:aws:s3:::lab/{ACCOUNT}/OTHER/k", context=ctx) == "implicit_deny"


def test_principal_tag_variable_in_condition():
    pol = doc(allow(Condition={"StringEquals": {"s3:ExistingObjectTag/team": "${aws:PrincipalTag/team}"}}))
    ctx = {"aws:PrincipalTag/team": "red", "s3:ExistingObjectTag/team": "red"}
    assert decide(pol, context=ctx) == "allowed"
    ctx["s3:ExistingObjectTag/team"] = "blue"
    assert decide(pol, context=ctx) == "implicit_deny"


def test_old_version_treats_variables_as_text():
    old = doc(allow(resource="arn:aws:s3:::lab/${aws:username}/*"), version="2008-10-17")
    assert decide(old, resource="arn:aws:s3:::lab/alice/x") == "implicit_deny"
    assert decide(old, resource="arn:aws:s3:::lab/${aws:username}/x") == "allowed"


def test_reasons_for_variable_match():
    d = evaluate(Request(BOB, "s3:GetObject", "arn:aws:s3:::lab/home/bob/f"), [("home", HOME)])
    assert [str(r) for r in d.reasons] == ["home/Statement[1] (Allow)"]


@pytest.mark.parametrize("value,prefix,want", [
    ("home/${aws:username}/*", "home/bob/x", "allowed"),
    ("home/${*}", "home/*", "allowed"),          # ${*} is a literal asterisk in StringLike too
    ("home/${*}", "home/anything", "implicit_deny"),
    ("home/${?}", "home/x", "implicit_deny"),
])
def test_like_values_with_variables_and_escapes(value, prefix, want):
    pol = doc(allow("s3:ListBucket", Condition={"StringLike": {"s3:prefix": value}}))
    assert decide(pol, "s3:ListBucket", "arn:aws:s3:::lab", {"s3:prefix": prefix},
                  principal=BOB) == want


def test_variable_in_arn_condition():
    pol = doc(allow(Condition={"ArnLike": {"aws:SourceArn": "arn:aws:s3:::${aws:username}-*"}}))
    assert decide(pol, context={"aws:SourceArn": "arn:aws:s3:::bob-logs"}, principal=BOB) == "allowed"
    assert decide(pol, context={"aws:SourceArn": "arn:aws:s3:::eve-logs"}, principal=BOB) == \
        "implicit_deny"
