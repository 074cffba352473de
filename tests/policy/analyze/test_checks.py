"""The three checks on AWS documentation examples and on cases sampling would miss.

AWS references: IAM Access Analyzer API Reference (CheckAccessNotGranted,
CheckNoNewAccess, CheckNoPublicAccess); IAM User Guide, "Example IAM
identity-based policies" (per-user home folders with ${aws:username}, "Allows
read and write access to objects in an S3 bucket"), "IAM JSON policy elements:
NotAction / NotResource", "Condition operators" (IpAddress, Numeric, Null,
ForAllValues/ForAnyValue); S3 User Guide, "The meaning of public".
"""
from __future__ import annotations

import pytest

from labkit.policy import ANONYMOUS, evaluate
from labkit.policy.analyze import (check_access_not_granted, check_no_new_access,
                                   check_no_public_access)
from tests.policy.helpers import ACCOUNT, OTHER, allow, deny, doc

LANDING = "arn:aws:s3:::landing"
WRITE_DELETE = ["s3:PutObject", "s3:DeleteObject"]


def fails_with_counterexample(result):
    assert result.result == "FAIL", result
    assert result.counterexample is not None and result.verify(), result
    return result.counterexample


# --- AWS documentation examples --------------------------------------------------------

def test_iam_guide_read_write_bucket_example():
    """IAM User Guide example "Amazon S3: Allows read and write access to objects in an S3
    bucket"."""
    policy = doc({"Sid": "ListObjectsInBucket", "Effect": "Allow", "Action": ["s3:ListBucket"],
                  "Resource": ["arn:aws:s3:::bucket-name"]},
                 {"Sid": "AllObjectActions", "Effect": "Allow", "Action": "s3:*Object",
                  "Resource": ["arn:aws:s3:::bucket-name/*"]})
    assert check_access_not_granted(policy, ["s3:DeleteBucket", "s3:PutBucketPolicy"]).passed
    r = check_access_not_granted(policy, ["s3:DeleteObject"])
    c = fails_with_counterexample(r)
    assert c.resource.startswith("arn:aws:s3:::bucket-name/")
    assert r.reasons == [{"description": "One or more of the listed actions or resources in the "
                                         "statement with sid: AllObjectActions.",
                          "statementIndex": 1, "statementId": "AllObjectActions"}]


def test_iam_guide_home_folder_example_with_variables():
    """IAM User Guide: "Allows IAM users to access their own home directory in Amazon S3"."""
    policy = doc(allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                       "arn:aws:s3:::bucket/home/${aws:username}/*"))
    c = fails_with_counterexample(
        check_access_not_granted(policy, ["s3:PutObject"], ["arn:aws:s3:::bucket/home/bob/*"]))
    assert c.principal.endswith(":user/bob")  # only bob writes in bob's home
    assert check_access_not_granted(policy, ["s3:PutObject"],
                                    ["arn:aws:s3:::bucket/shared/*"]).passed


def test_s3_public_meaning_examples():
    """S3 User Guide, "The meaning of public": fixed principals, org ids, VPC endpoints are not."""
    public = doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                  "Resource": "arn:aws:s3:::b/*"})
    c = fails_with_counterexample(check_no_public_access(public, "AWS::S3::Bucket"))
    assert c.principal == ANONYMOUS
    for condition in ({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
                      {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
                      {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}):
        fixed = doc(dict(public["Statement"][0], Condition=condition))
        assert check_no_public_access(fixed, "AWS::S3::Bucket").passed, condition
    broad = doc(dict(public["Statement"][0],
                     Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}}))
    assert check_no_public_access(broad, "AWS::S3::Bucket").result == "FAIL"


def test_kms_key_policy_and_trust_policy():
    """KMS Developer Guide default key policy; IAM trust policy for a service."""
    key = doc({"Sid": "Enable IAM User Permissions", "Effect": "Allow",
               "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
               "Resource": "*"})
    assert check_no_public_access(key, "AWS::KMS::Key").passed
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    assert check_no_public_access(trust, "AWS::IAM::AssumeRolePolicyDocument").passed
    open_trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "AWS": "*"}, "Action": "sts:AssumeRole"}]}
    assert check_no_public_access(open_trust, "AWS::IAM::AssumeRolePolicyDocument").result == "FAIL"


# --- what ten sampled requests would miss ---------------------------------------------

def test_unsatisfiable_condition_is_proved_harmless():
    policy = doc(allow("s3:PutObject", "*", Condition={
        "StringEquals": {"s3:prefix": "a"}, "Null": {"s3:prefix": "true"}}))
    assert check_access_not_granted(policy, ["s3:PutObject"]).passed


def test_multivalued_keys_satisfy_what_one_value_cannot():
    """NumericLessThan 5 and NumericGreaterThan 10: one value never, two values do.

    Only a key the reference does not document can be multivalued and numeric; a
    documented single-valued key (s3:max-keys, of s3:ListBucket) holds one value, so
    the same conditions on it grant nothing (as AWS's own checks see it)."""
    policy = doc(allow("s3:PutObject", "*", Condition={
        "NumericLessThan": {"labkit:count": "5"}, "NumericGreaterThan": {"labkit:count": "10"}}))
    c = fails_with_counterexample(check_access_not_granted(policy, ["s3:PutObject"]))
    assert isinstance(c.context["labkit:count"], list)
    single = doc(allow("s3:PutObject", "*", Condition={
        "ForAllValues:NumericLessThan": {"labkit:count": "5"},
        "ForAnyValue:NumericGreaterThan": {"labkit:count": "10"}}))
    assert check_access_not_granted(single, ["s3:PutObject"]).passed
    documented = doc(allow("s3:ListBucket", "*", Condition={
        "NumericLessThan": {"s3:max-keys": "5"}, "NumericGreaterThan": {"s3:max-keys": "10"}}))
    assert check_access_not_granted(documented, ["s3:ListBucket"]).passed
    one = doc(allow("s3:ListBucket", "*", Condition={"NumericLessThan": {"s3:max-keys": "5"}}))
    c = fails_with_counterexample(check_access_not_granted(one, ["s3:ListBucket"]))
    # s3:ListBucket takes a bucket or an access point (Service Authorization Reference)
    assert float(c.context["s3:max-keys"]) < 5
    assert (c.resource.startswith("arn:aws:s3:::") and "/" not in c.resource) or (
        ":accesspoint/" in c.resource and c.resource.count("/") == 1)


def test_typed_keys_give_requests_aws_could_receive():
    """Issue 23: two date bounds no instant meets are PASS; keys the action never carries
    and resources of another type grant nothing; counterexample values are well-formed."""
    dates = doc(allow("s3:GetObject", "*", Condition={
        "DateGreaterThan": {"aws:CurrentTime": "2031-01-01T00:00:00Z"},
        "DateLessThan": {"aws:CurrentTime": "2029-01-01T00:00:00Z"}}))
    assert check_access_not_granted(dates, ["s3:GetObject"]).passed
    window = doc(allow("s3:GetObject", "*", Condition={
        "DateGreaterThan": {"aws:CurrentTime": "2029-01-01T00:00:00Z"},
        "DateLessThan": {"aws:CurrentTime": "2031-01-01T00:00:00Z"},
        "NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    c = fails_with_counterexample(check_access_not_granted(window, ["s3:GetObject"]))
    assert c.context["aws:currenttime"].startswith(("2029", "2030"))
    import ipaddress
    ipaddress.ip_address(c.context["aws:sourceip"])  # one address, not a network
    from labkit.policy.analyze.keys import resource_fits
    assert resource_fits("s3:GetObject", c.resource) and not c.resource.endswith("/")
    never = doc(allow("s3:*", "*", Condition={"StringEquals": {"s3:prefix": "home/"}}))
    assert check_access_not_granted(never, ["s3:GetObject"]).passed
    assert not check_access_not_granted(never, ["s3:ListBucket"]).passed
    assume = doc(allow("sts:AssumeRole", "arn:aws:s3:::*"), allow("s3:ListBucket",
                                                                  "arn:aws:s3:::b/*"))
    assert check_access_not_granted(assume, ["sts:AssumeRole", "s3:ListBucket"]).passed
    c = fails_with_counterexample(check_access_not_granted(doc(allow("s3:GetObject", "*")),
                                                           ["s3:GetObject"]))
    assert c.principal.split(":")[5].split("/")[0] in ("user", "assumed-role",
                                                       "federated-user")


def test_question_mark_wildcards():
    policy = doc(allow("s3:?utObject", "arn:aws:s3:::landin?/*"))
    c = fails_with_counterexample(check_access_not_granted(policy, ["s3:PutObject"],
                                                           [f"{LANDING}/*"]))
    assert c.action == "s3:PutObject" and c.resource.startswith(f"{LANDING}/")
    assert check_access_not_granted(policy, ["s3:PutObjectAcl"]).passed


def test_not_action_and_not_resource():
    everything_but_iam = doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    c = fails_with_counterexample(check_access_not_granted(everything_but_iam, WRITE_DELETE,
                                                           [f"{LANDING}/*"]))
    assert c.action in WRITE_DELETE
    assert check_access_not_granted(everything_but_iam, ["iam:CreateUser"]).passed
    not_analysis = doc({"Effect": "Allow", "Action": "s3:PutObject",
                        "NotResource": "arn:aws:s3:::analysis/*"})
    c = fails_with_counterexample(check_access_not_granted(not_analysis, ["s3:PutObject"],
                                                           [f"{LANDING}/*"]))
    assert c.resource.startswith(f"{LANDING}/")


def test_deny_carve_out_holds_for_every_write_action():
    policy = doc(allow("s3:*", [LANDING, f"{LANDING}/*"]),
                 deny(["s3:Put*", "s3:Delete*"], f"{LANDING}/*"))
    assert check_access_not_granted(policy, WRITE_DELETE, [f"{LANDING}/*"]).passed
    # ...but s3:RestoreObject and s3:ReplicateObject still write: the proof finds them.
    c = fails_with_counterexample(check_access_not_granted(policy, ["s3:*Object"],
                                                           [f"{LANDING}/*"]))
    assert not c.action.startswith(("s3:Put", "s3:Delete"))


def test_deny_with_variable_carve_out():
    policy = doc(allow("s3:ListBucket", "arn:aws:s3:::analysis"),
                 deny("s3:ListBucket", "arn:aws:s3:::analysis", Condition={
                     "StringLike": {"s3:prefix": "home/?*"},
                     "StringNotLike": {"s3:prefix": "home/${aws:username}/*"}}))
    c = fails_with_counterexample(check_access_not_granted(policy, ["s3:ListBucket"]))
    prefix = c.context.get("s3:prefix")
    assert prefix is None or not str(prefix).startswith("home/") or \
        str(prefix).startswith(f"home/{c.principal.rsplit('/', 1)[-1]}/") or prefix == "home/"


def test_ip_address_is_one_address():
    """In 10/8 and in neither /9: only a network (10.0.0.0/8) would be, and aws:SourceIp is
    one address (global condition keys: IP address, single-valued): no request does."""
    policy = doc(allow("s3:PutObject", "*", Condition={
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
        "NotIpAddress": {"aws:SourceIp": ["10.0.0.0/9", "10.128.0.0/9"]}}))
    assert check_access_not_granted(policy, ["s3:PutObject"]).passed
    policy["Statement"][0]["Condition"]["NotIpAddress"]["aws:SourceIp"] = ["10.0.0.0/9"]
    c = fails_with_counterexample(check_access_not_granted(policy, ["s3:PutObject"]))
    assert c.context["aws:sourceip"].startswith("10.") and "/" not in c.context["aws:sourceip"]


# --- no new access ---------------------------------------------------------------------

def test_no_new_access_between_versions():
    old = doc(allow("s3:GetObject", f"{LANDING}/*"))
    narrower = doc(allow("s3:GetObject", f"{LANDING}/raw/*"))
    assert check_no_new_access(narrower, old).passed
    wider = doc(allow("s3:Get*", f"{LANDING}/*"))
    c = fails_with_counterexample(check_no_new_access(wider, old))
    assert c.action != "s3:GetObject" and evaluate(c, [wider]).allowed
    assert not evaluate(c, [old]).allowed


def test_resource_policy_cross_account_grant():
    bucket = doc({"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": OTHER},
                  "Action": "s3:GetObject", "Resource": f"{LANDING}/*"})
    r = check_access_not_granted(bucket, ["s3:GetObject"], policy_type="RESOURCE_POLICY")
    c = fails_with_counterexample(r)
    assert f":{OTHER}:" in c.principal and r.reasons[0]["statementId"] == "Partner"
    assert check_access_not_granted(bucket, ["s3:PutObject"],
                                    policy_type="RESOURCE_POLICY").passed


def test_inexact_constructs_answer_might_grant():
    policy = doc(allow("s3:PutObject", "*", Condition={
        "BinaryEquals": {"labkit:blob": "QmluYXJ5"}}))
    r = check_access_not_granted(policy, ["s3:PutObject"])
    assert r.result == "FAIL"  # confirmed or "might grant": never PASS
    if r.counterexample is None:
        assert r.might_grant and r.reasons[0]["description"].startswith("might grant")


def test_bad_input_is_explained():
    with pytest.raises(ValueError, match="actions or resources"):
        check_access_not_granted(doc(allow()), [])
    with pytest.raises(ValueError, match="resource_type"):
        check_no_public_access(doc(allow()), "AWS::Nope::Thing")
    with pytest.raises(ValueError, match="policy_type"):
        check_no_new_access(doc(allow()), doc(allow()), "BUCKET")
