"""Examples from the AWS IAM user guide ("Example IAM identity-based policies",
"Conditions with multiple context keys or values"), each checked both ways."""
from __future__ import annotations

import pytest

from labkit.policy import Request, evaluate
from tests.policy.helpers import ACCOUNT, doc

USER = f"arn:aws:iam::{ACCOUNT}:user/bob"


def check(policy, action, resource, context, principal=USER):
    return evaluate(Request(principal, action, resource, context), [policy]).decision


# "AWS: Allows access within specific dates"
DATES = doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {
    "DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
    "DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"}}})

# "AWS: Denies access to AWS based on the source IP"
SOURCE_IP = doc(
    {"Effect": "Allow", "Action": "*", "Resource": "*"},
    {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {
        "NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]},
        "Bool": {"aws:ViaAWSService": "false"}}})

# "AWS: Denies access to AWS based on the requested Region" is similar; here MFA:
# "AWS: Allows MFA-authenticated IAM users to manage their own credentials" (the deny part)
MFA = doc(
    {"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam::*:user/${aws:username}"},
    {"Sid": "DenyAllExceptListedIfNoMFA", "Effect": "Deny",
     "NotAction": ["iam:ChangePassword", "iam:GetUser", "sts:GetSessionToken"], "Resource": "*",
     "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})

# "Conditions with multiple context keys or values": all keys ANDed, values ORed
MULTI = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {
    "StringEquals": {"aws:PrincipalTag/department": ["finance", "hr", "legal"],
                     "aws:PrincipalTag/role": ["audit", "security"]},
    "ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::222222222222:user/Ana",
                                     "arn:aws:iam::222222222222:user/Mary"]}}})
ANA = "arn:aws:iam::222222222222:user/Ana"


@pytest.mark.parametrize("policy,action,resource,context,principal,want", [
    (DATES, "s3:GetObject", "arn:aws:s3:::b/k", {"aws:CurrentTime": "2020-05-01T00:00:00Z"}, USER,
     "allowed"),
    (DATES, "s3:GetObject", "arn:aws:s3:::b/k", {"aws:CurrentTime": "2020-07-01T00:00:00Z"}, USER,
     "implicit_deny"),
    (DATES, "s3:GetObject", "arn:aws:s3:::b/k", {}, USER, "implicit_deny"),  # now is past 2020
    (SOURCE_IP, "ec2:RunInstances", "*", {"aws:SourceIp": "203.0.113.5", "aws:ViaAWSService": "false"},
     USER, "allowed"),
    (SOURCE_IP, "ec2:RunInstances", "*", {"aws:SourceIp": "198.51.100.5", "aws:ViaAWSService": "false"},
     USER, "explicit_deny"),
    (SOURCE_IP, "ec2:RunInstances", "*", {"aws:SourceIp": "198.51.100.5", "aws:ViaAWSService": "true"},
     USER, "allowed"),
    (MFA, "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/bob", {}, USER, "explicit_deny"),
    (MFA, "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/bob",
     {"aws:MultiFactorAuthPresent": "true"}, USER, "allowed"),
    (MFA, "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/eve",
     {"aws:MultiFactorAuthPresent": "true"}, USER, "implicit_deny"),
    (MFA, "iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/bob", {}, USER, "allowed"),
    (MULTI, "s3:GetObject", "arn:aws:s3:::b/k",
     {"aws:PrincipalTag/department": "hr", "aws:PrincipalTag/role": "audit"}, ANA, "allowed"),
    (MULTI, "s3:GetObject", "arn:aws:s3:::b/k",
     {"aws:PrincipalTag/department": "hr"}, ANA, "implicit_deny"),
    (MULTI, "s3:GetObject", "arn:aws:s3:::b/k",
     {"aws:PrincipalTag/department": "hr", "aws:PrincipalTag/role": "audit"},
     "arn:aws:iam::222222222222:user/Bob", "implicit_deny"),
])
def test_aws_example(policy, action, resource, context, principal, want):
    assert check(policy, action, resource, context, principal) == want
