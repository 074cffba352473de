"""The course's CLI matrix (outline.md) must come out right through the engine."""
from __future__ import annotations

import pytest

from labkit.policy import Request, evaluate, evaluate_all
from tests.policy import course
from tests.policy.course import ANALYST, ENGINEER, IDENTITY, MATRIX, steps


def run_row(command: str, user: str) -> str:
    for action, bucket, key, ctx in steps(command):
        resource = f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")
        d = evaluate(Request(user, action, resource, ctx), IDENTITY[user],
                     course.BUCKET_POLICIES[bucket])
        if not d.allowed:
            return "DENY"
    return "ALLOW"


@pytest.mark.parametrize("command,engineer,analyst", MATRIX)
def test_matrix_row(command, engineer, analyst):
    assert run_row(command, ENGINEER) == engineer
    assert run_row(command, ANALYST) == analyst


def test_unencrypted_upload_names_the_bucket_policy():
    d = evaluate(Request(ENGINEER, "s3:PutObject", "arn:aws:s3:::demo-analysis/test/hw.txt"),
                 IDENTITY[ENGINEER], course.BUCKET_POLICIES["demo-analysis"])
    assert d.decision == "explicit_deny" and d.denied_by == "resource"
    assert [str(r) for r in d.reasons] == [
        "bucket policy demo-analysis/Sid DenyWrongEncryption (Deny)",
        "bucket policy demo-analysis/Sid DenyMissingEncryption (Deny)"]
    assert str(d).endswith("with an explicit deny in a resource-based policy")


def test_kms_upload_is_allowed_and_other_algorithms_denied():
    res = "arn:aws:s3:::demo-analysis/x"
    for value, want in (("aws:kms", "allowed"), ("AES256", "allowed"), ("aes256", "explicit_deny"),
                        ("aws:kms:dsse", "explicit_deny")):
        d = evaluate(Request(ANALYST, "s3:PutObject", res,
                             {"s3:x-amz-server-side-encryption": value}),
                     IDENTITY[ANALYST], course.BUCKET_POLICIES["demo-analysis"])
        assert d.decision == want, value


def test_analyst_denial_message_matches_aws_wording():
    d = evaluate(Request(ANALYST, "s3:PutObject", "arn:aws:s3:::demo-landing-zone/test/hw.txt",
                         {"s3:x-amz-server-side-encryption": "AES256"}),
                 IDENTITY[ANALYST], course.BUCKET_POLICIES["demo-landing-zone"])
    assert str(d) == (
        "User: arn:aws:iam::123456789012:user/analyst-demo is not authorized to perform: "
        "s3:PutObject on resource: \"arn:aws:s3:::demo-landing-zone/test/hw.txt\" because no "
        "identity-based policy allows the s3:PutObject action")
    assert d.message() == str(d) and d.denied_by == "identity" and d.reasons == []


# --- access points: both the access point policy and the bucket policy must permit ---

AP = course.access_point_arn(course.LANDING)
OBJ_AP = f"{AP}/object/raw/test.csv"
OBJ = f"arn:aws:s3:::{course.LANDING}/raw/test.csv"
AP_CTX = {"s3:DataAccessPointAccount": course.ACCOUNT, "s3:DataAccessPointArn": AP}
NOBODY = f"arn:aws:iam::{course.ACCOUNT}:user/nobody"


def through_ap(user, bucket_doc, identity=()):
    return evaluate_all(
        Request(user, "s3:GetObject", OBJ_AP, AP_CTX),
        identity,
        [("access point policy", course.access_point_policy(course.LANDING, ANALYST), OBJ_AP),
         ("bucket policy", bucket_doc, OBJ)])


def test_access_point_needs_bucket_delegation():
    # AP policy allows the analyst but the bucket policy neither allows nor delegates.
    d = through_ap(ANALYST, course.bucket_policy(course.LANDING))
    assert d.decision == "implicit_deny" and d.denied_by == "resource"
    d = through_ap(ANALYST, course.delegating_bucket_policy(course.LANDING))
    assert d.allowed
    assert [r.policy for r in d.reasons] == ["access point policy", "bucket policy"]


def test_access_point_denies_principals_it_does_not_name():
    d = through_ap(NOBODY, course.delegating_bucket_policy(course.LANDING))
    assert d.decision == "implicit_deny"


def test_identity_allow_passes_every_gate_in_same_account():
    d = through_ap(ENGINEER, course.bucket_policy(course.LANDING), IDENTITY[ENGINEER])
    assert d.allowed


def test_explicit_deny_in_bucket_policy_applies_through_access_point():
    bucket = course.delegating_bucket_policy(course.LANDING)
    bucket["Statement"].append({"Sid": "NoRaw", "Effect": "Deny", "Principal": "*",
                                "Action": "s3:GetObject",
                                "Resource": f"arn:aws:s3:::{course.LANDING}/raw/*"})
    d = through_ap(ANALYST, bucket)
    assert d.decision == "explicit_deny" and "bucket policy/Sid NoRaw (Deny)" in map(str, d.reasons)


def test_resource_policy_list_is_accepted_by_evaluate():
    d = evaluate(Request(ANALYST, "s3:GetObject", OBJ_AP, AP_CTX), [],
                 resource_policy=[("ap", course.access_point_policy(course.LANDING, ANALYST)),
                                  ("bucket", course.delegating_bucket_policy(course.LANDING))])
    # One resource ARN for both gates: the bucket policy's Resource does not name the AP ARN.
    assert d.decision == "implicit_deny"
