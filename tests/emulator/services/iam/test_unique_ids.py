"""IAM ids shaped as AWS's (IAM User Guide, "IAM identifiers" › unique ID prefixes): 21
characters, a prefix naming the kind, upper-case letters and digits; access key ids AKIA
and 16 more; what a learner sees in get_user, STS and list calls."""
from __future__ import annotations

import json
import re

import pytest

ASSUME = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]})


def unique(prefix: str) -> re.Pattern:
    return re.compile(rf"^{prefix}[A-Z0-9]{{17}}$")


@pytest.fixture()
def iam(em):
    em.reset()
    yield em.client("iam")
    em.reset()


def test_users_groups_roles_policies_and_instance_profiles_have_aws_shaped_ids(iam):
    user = iam.create_user(UserName="ada")["User"]
    assert unique("AIDA").match(user["UserId"]), user["UserId"]
    assert iam.get_user(UserName="ada")["User"]["UserId"] == user["UserId"]
    group = iam.create_group(GroupName="analysts")["Group"]
    assert unique("AGPA").match(group["GroupId"]), group["GroupId"]
    role = iam.create_role(RoleName="worker", AssumeRolePolicyDocument=ASSUME)["Role"]
    assert unique("AROA").match(role["RoleId"]), role["RoleId"]
    policy = iam.create_policy(PolicyName="list", PolicyDocument=POLICY)["Policy"]
    assert unique("ANPA").match(policy["PolicyId"]), policy["PolicyId"]
    managed = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")["Policy"]
    assert unique("ANPA").match(managed["PolicyId"]), managed["PolicyId"]
    profile = iam.create_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    assert unique("AIPA").match(profile["InstanceProfileId"]), profile["InstanceProfileId"]


def test_access_keys_are_akia_and_16_and_sts_reports_the_user_id(iam, em):
    user_id = iam.create_user(UserName="ada")["User"]["UserId"]
    key = iam.create_access_key(UserName="ada")["AccessKey"]
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", key["AccessKeyId"]), key["AccessKeyId"]
    assert len(key["SecretAccessKey"]) == 40
    identity = em.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert identity["UserId"] == user_id and identity["Arn"].endswith(":user/ada")
