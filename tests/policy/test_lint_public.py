"""lint() findings and is_public() (S3 "The meaning of public")."""
from __future__ import annotations

import pytest

from labkit.policy import PolicyError, is_public, lint
from tests.policy import course
from tests.policy.helpers import ACCOUNT, allow, doc, deny

B = "arn:aws:s3:::b/*"


def codes(policy, **kw):
    return sorted(f.code for f in lint(policy, **kw))


def pub(**extra):
    return dict({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": B}, **extra)


def test_public_principal_is_an_error():
    findings = lint(doc(pub(Sid="Open")))
    errs = [f for f in findings if f.code == "public-principal"]
    assert errs and errs[0].level == "error" and errs[0].statement == "Sid Open"
    assert "public-principal" in codes(doc(pub(Principal={"AWS": "*"})))


def test_public_principal_fixed_by_condition_is_a_warning():
    st = pub(Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})
    assert "public-principal-conditioned" in codes(doc(st))
    assert "public-principal" not in codes(doc(st))


def test_star_on_star():
    assert "allow-star-star" in codes(doc(allow("*", "*")))
    assert "allow-star-star" not in codes(doc(allow("s3:*", "*")))
    assert "allow-star-star" not in codes(doc(deny("*", "*")))


def test_not_action_with_allow():
    found = lint(doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))
    assert [f.code for f in found] == ["allow-notaction"] and found[0].level == "warning"
    assert codes(doc({"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"})) == []


def test_unknown_operator_is_reported_not_raised():
    found = lint(doc(allow(Condition={"StringEqual": {"aws:username": "a"},
                                      "Bool": {"aws:SecureTransport": "true"}})))
    assert [f.code for f in found] == ["unknown-operator"]
    assert "StringEqual" in found[0].message


def test_malformed_is_a_finding():
    found = lint('{"Statement": [}')
    assert [(f.level, f.code) for f in found] == [("error", "malformed")]
    found = lint(doc({"Effect": "Allow", "Resource": "*"}))
    assert found[0].code == "malformed" and "Action" in found[0].message


def test_bucket_policy_without_guards_gets_advice():
    bare = doc(dict(allow(resource=B), Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/a"}))
    found = lint(bare)
    assert sorted(f.code for f in found) == ["no-encryption-guard", "no-tls-guard"]
    assert all(f.level == "advice" for f in found)


def test_course_bucket_policy_has_encryption_guard():
    got = codes(course.bucket_policy(course.LANDING))
    assert "no-encryption-guard" not in got and "no-tls-guard" in got
    tls = course.bucket_policy(course.LANDING)
    tls["Statement"].append({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": B,
                             "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    assert codes(tls) == []


def test_course_identity_policies_lint_clean():
    assert lint(course.ENGINEER_ACCESS) == [] and lint(course.ANALYST_ACCESS) == []


def test_variables_without_version():
    old = {"Statement": [allow(resource="arn:aws:s3:::b/${aws:username}/*")]}
    assert codes(old) == ["variables-need-version"]


def test_finding_str():
    f = lint(doc(pub(Sid="Open")))[0]
    assert str(f).startswith("error public-principal [Sid Open]: ")


# --- is_public -----------------------------------------------------------------------

PUBLIC_CASES = [
    (doc(pub()), True),
    (doc(pub(Principal={"AWS": "*"})), True),
    (doc(pub(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/a"})), False),
    (doc(pub(Principal={"AWS": ACCOUNT})), False),
    (doc(pub(Principal={"Service": "cloudtrail.amazonaws.com"})), False),
    (doc(dict(pub(), Effect="Deny")), False),
    (doc(pub(Condition={"Bool": {"aws:SecureTransport": "true"}})), True),
    (doc(pub(Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}})), False),
    (doc(pub(Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})), False),
    (doc(pub(Condition={"StringLike": {"aws:PrincipalOrgID": "o-*"}})), True),
    (doc(pub(Condition={"StringEquals": {"s3:DataAccessPointAccount": ACCOUNT}})), False),
    (doc(pub(Condition={"StringNotEquals": {"aws:SourceAccount": ACCOUNT}})), True),
    (doc(pub(Condition={"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}})), True),
    (doc(pub(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})), False),
    (doc(pub(Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}})), True),
    (doc(pub(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})), False),
    (doc({"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/a"},
          "Action": "s3:GetObject", "Resource": B}), True),
    (course.delegating_bucket_policy(course.LANDING), False),
    (course.bucket_policy(course.LANDING), False),
    (course.access_point_policy(course.LANDING, course.ANALYST), False),
]


@pytest.mark.parametrize("policy,public", PUBLIC_CASES)
def test_is_public(policy, public):
    assert is_public(policy) is public


def test_is_public_rejects_malformed():
    with pytest.raises(PolicyError):
        is_public('{"Statement": []}')


def test_trust_policy_is_linted_as_trust():
    trust = doc({"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                 "Action": "sts:AssumeRole"})
    assert lint(trust) == []
