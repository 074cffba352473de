"""is_public(doc, access_point=...): the S3 User Guide's "The meaning of "public"", rule by rule.

Each case names the doc statement it checks. Quotes are from the S3 User
Guide, "Blocking public access to your Amazon S3 storage".
"""
from __future__ import annotations

import json

import pytest

from labkit.policy import PolicyError, is_public
from tests.policy.helpers import ACCOUNT, doc

REGION = "us-west-2"  # the docs' own example Region, inside an ARN string only
B = "arn:aws:s3:::b/*"
AP = f"arn:aws:s3:{REGION}:{ACCOUNT}:accesspoint/ap/object/*"
ROLE_ID = "AROAEXAMPLEROLEID0001"


def pub(condition=None, principal="*", resource=B):
    st = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": resource}
    if condition:
        st["Condition"] = condition
    return doc(st)


def ap_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:s3:{REGION}:{account}:accesspoint/{name}"


# (policy, public as a bucket policy, public as an access point policy)
CASES = {
    # s3:DataAccessPointArn note: "When used in a bucket policy, this value can
    # contain a wildcard for the access point name without rendering the policy
    # public, as long as the account id is fixed." Access points: "An access
    # point policy that grants access to a set of access points using
    # s3:DataAccessPointArn is considered public."
    "ap-name-wildcard": (pub({"StringLike": {"s3:DataAccessPointArn": ap_arn("*")}}), False, True),
    "ap-name-prefix-wildcard": (pub({"ArnLike": {"s3:DataAccessPointArn": ap_arn("team-*")}}),
                                False, True),
    "ap-account-wildcard": (pub({"StringLike": {"s3:DataAccessPointArn": ap_arn("*", "*")}}),
                            True, True),
    "ap-region-wildcard": (pub({"StringLike": {"s3:DataAccessPointArn":
                                               f"arn:aws:s3:*:{ACCOUNT}:accesspoint/*"}}),
                           True, True),
    "ap-name-variable": (pub({"StringLike": {"s3:DataAccessPointArn": ap_arn("${aws:username}")}}),
                         True, True),
    "ap-fixed": (pub({"StringEquals": {"s3:DataAccessPointArn": ap_arn("ap")}}), False, False),
    # "aws:userid, outside the pattern "AROLEID:*"".
    "userid-role-any-session": (pub({"StringLike": {"aws:userid": f"{ROLE_ID}:*"}}), True, True),
    "userid-role-session": (pub({"StringEquals": {"aws:userid": f"{ROLE_ID}:alice"}}), False, False),
    "userid-mixed": (pub({"StringLike": {"aws:userid": [f"{ROLE_ID}:alice", f"{ROLE_ID}:*"]}}),
                     True, True),
    # "An AWS principal, user, role, or service principal (e.g. aws:PrincipalOrgID)".
    "principal-account-key": (pub({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}), False, False),
    "principal-arn-key": (pub({"ArnEquals": {"aws:PrincipalArn":
                                             f"arn:aws:iam::{ACCOUNT}:role/analyst"}}), False, False),
    "principal-arn-key-wildcard": (pub({"ArnLike": {"aws:PrincipalArn":
                                                    f"arn:aws:iam::{ACCOUNT}:role/*"}}), True, True),
    "principal-account-not-equals": (pub({"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}}),
                                     True, True),
    # Fixed values: "values that don't contain a wildcard or ... Policy Variable";
    # a wildcard principal ARN is answered (public), not refused.
    "principal-arn-wildcard-account": (pub(principal={"AWS": "arn:aws:iam::*:root"}), True, True),
    "principal-arn-wildcard-role": (pub(principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/*"}),
                                    True, True),
    "principal-arn-wildcard-fixed-by-vpce": (
        pub({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
            principal={"AWS": ["arn:aws:iam::*:root", ACCOUNT]}), False, False),
    "principal-wildcard-service": (pub(principal={"Service": "*.amazonaws.com"}), True, True),
    "principal-fixed-role": (pub(principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/analyst"}),
                             False, False),
    # First example of a public bucket policy: Principal {"Federated": "graph.facebook.com"}.
    "principal-federated": (pub(principal={"Federated": "graph.facebook.com"}), True, True),
    # aws:SourceIp: "values broader than /8 for IPv4 and /32 for IPv6 (excluding
    # RFC1918 private ranges)" are public; the example is 0.0.0.0/1.
    "ip-docs-example": (pub({"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}}), True, True),
    "ip-v4-slash8": (pub({"IpAddress": {"aws:SourceIp": "12.0.0.0/8"}}), False, False),
    "ip-v4-slash7": (pub({"IpAddress": {"aws:SourceIp": "12.0.0.0/7"}}), True, True),
    "ip-v4-private": (pub({"IpAddress": {"aws:SourceIp": "172.16.0.0/12"}}), False, False),
    "ip-v4-host": (pub({"IpAddress": {"aws:SourceIp": "203.0.113.7"}}), False, False),
    "ip-v6-slash32": (pub({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}), False, False),
    "ip-v6-slash31": (pub({"IpAddress": {"aws:SourceIp": "2001:db8::/31"}}), True, True),
    "ip-one-broad-range": (pub({"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "0.0.0.0/1"]}}),
                           True, True),
    "ip-not-address": (pub({"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}), True, True),
    "ip-if-exists": (pub({"IpAddressIfExists": {"aws:SourceIp": "192.0.2.0/24"}}), True, True),
    # A key outside the docs' list confines nothing.
    "secure-transport": (pub({"Bool": {"aws:SecureTransport": "true"}}), True, True),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_meaning_of_public(name):
    policy, bucket_public, access_point_public = CASES[name]
    assert is_public(policy) is bucket_public
    assert is_public(policy, access_point=True) is access_point_public


def test_access_point_policy_with_fixed_principal_is_not_public():
    policy = pub(principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/analyst"}, resource=AP)
    assert is_public(policy, access_point=True) is False


def test_wildcard_principal_arn_answers_for_text_and_bytes():
    text = json.dumps(pub(principal={"AWS": "arn:aws:iam::*:root"}))
    assert is_public(text) is True
    assert is_public(text.encode()) is True


def test_wildcard_principal_does_not_hide_other_faults():
    bad = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::*:root"}, "Action": "s3:GetObject",
         "Resource": "not-an-arn"}]}
    with pytest.raises(PolicyError, match="must be an ARN"):
        is_public(bad)


def test_input_document_is_not_modified():
    policy = {"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::*:root"]}, "Action": "s3:GetObject",
        "Resource": B}}
    before = json.dumps(policy, sort_keys=True)
    assert is_public(policy) is True
    assert json.dumps(policy, sort_keys=True) == before

