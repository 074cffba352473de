"""simulate_custom_policy / simulate_principal_policy, shaped like IAM's API."""
from __future__ import annotations

import json

import pytest

from labkit.policy import simulate_custom_policy, simulate_principal_policy
from tests.policy import course
from tests.policy.helpers import ACCOUNT, allow, deny, doc

POLICY_TEXT = json.dumps(doc(allow("s3:GetObject", "arn:aws:s3:::b/*", Sid="Read"),
                             deny("s3:DeleteObject", "*", Sid="NoDelete")), indent=2)


def test_custom_policy_results_shape():
    out = simulate_custom_policy(PolicyInputList=[POLICY_TEXT],
                                 ActionNames=["s3:GetObject", "s3:DeleteObject", "s3:PutObject"],
                                 ResourceArns=["arn:aws:s3:::b/k"])
    assert out["IsTruncated"] is False
    got = [(r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"])
           for r in out["EvaluationResults"]]
    assert got == [("s3:GetObject", "arn:aws:s3:::b/k", "allowed"),
                   ("s3:DeleteObject", "arn:aws:s3:::b/k", "explicitDeny"),
                   ("s3:PutObject", "arn:aws:s3:::b/k", "implicitDeny")]
    matched = out["EvaluationResults"][0]["MatchedStatements"]
    assert matched == [{"SourcePolicyId": "PolicyInputList.1", "SourcePolicyType": "none",
                        "StartPosition": {"Line": 4, "Column": 5},
                        "EndPosition": {"Line": 9, "Column": 6}}]
    assert out["EvaluationResults"][2]["MatchedStatements"] == []


def test_custom_policy_context_entries_and_missing_values():
    pol = json.dumps(doc(allow(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})))
    base = dict(PolicyInputList=[pol], ActionNames=["s3:GetObject"])
    missing = simulate_custom_policy(**base)["EvaluationResults"][0]
    assert missing["EvalDecision"] == "implicitDeny"
    assert missing["MissingContextValues"] == ["aws:SourceIp"]
    ok = simulate_custom_policy(**base, ContextEntries=[
        {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["203.0.113.9"],
         "ContextKeyType": "ip"}])["EvaluationResults"][0]
    assert ok["EvalDecision"] == "allowed" and ok["MissingContextValues"] == []


def test_custom_policy_with_resource_policy_and_boundary():
    bucket = course.bucket_policy(course.ANALYSIS)
    out = simulate_custom_policy(
        PolicyInputList=[json.dumps(course.ANALYST_ACCESS)], ActionNames=["s3:PutObject"],
        ResourceArns=["arn:aws:s3:::demo-analysis/x"], ResourcePolicy=json.dumps(bucket),
        CallerArn=course.ANALYST,
        PermissionsBoundaryPolicyInputList=[json.dumps(doc(allow("s3:*")))])
    r = out["EvaluationResults"][0]
    assert r["EvalDecision"] == "explicitDeny"
    assert {m["SourcePolicyId"] for m in r["MatchedStatements"]} == {"ResourcePolicy"}
    assert r["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}


def test_boundary_detail_when_boundary_blocks():
    out = simulate_custom_policy(PolicyInputList=[json.dumps(doc(allow("s3:*")))],
                                 ActionNames=["s3:GetObject"],
                                 PermissionsBoundaryPolicyInputList=[json.dumps(doc(allow("ec2:*")))])
    r = out["EvaluationResults"][0]
    assert r["EvalDecision"] == "implicitDeny"
    assert r["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}


def test_resource_policy_requires_caller():
    with pytest.raises(ValueError, match="CallerArn"):
        simulate_custom_policy(PolicyInputList=[POLICY_TEXT], ActionNames=["s3:GetObject"],
                               ResourcePolicy=json.dumps(course.bucket_policy("b")))


def test_principal_policy_from_mapping():
    policies = {course.ANALYST: {"policies": [("group analysts/analyst_access",
                                               course.ANALYST_ACCESS, "group")]}}
    out = simulate_principal_policy(PolicySourceArn=course.ANALYST,
                                    ActionNames=["s3:GetObject", "s3:PutObject"],
                                    ResourceArns=["arn:aws:s3:::demo-landing-zone/raw/test.csv"],
                                    policies=policies)
    assert [r["EvalDecision"] for r in out["EvaluationResults"]] == ["allowed", "implicitDeny"]
    assert out["EvaluationResults"][0]["MatchedStatements"][0]["SourcePolicyType"] == "group"


def test_principal_policy_needs_a_source():
    with pytest.raises(ValueError, match="iam="):
        simulate_principal_policy(PolicySourceArn=course.ANALYST, ActionNames=["s3:GetObject"])


def test_principal_policy_from_moto_iam():
    import moto
    import boto3

    with moto.mock_aws():
        iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="testing",
                           aws_secret_access_key="testing")
        iam.create_user(UserName="analyst-demo")
        iam.create_group(GroupName="analysts")
        iam.add_user_to_group(GroupName="analysts", UserName="analyst-demo")
        iam.put_group_policy(GroupName="analysts", PolicyName="analyst_access",
                             PolicyDocument=json.dumps(course.ANALYST_ACCESS))
        arn = iam.create_policy(PolicyName="no-delete",
                                PolicyDocument=json.dumps(doc(deny("s3:DeleteObject"))))["Policy"]["Arn"]
        iam.attach_user_policy(UserName="analyst-demo", PolicyArn=arn)
        user_arn = f"arn:aws:iam::{ACCOUNT}:user/analyst-demo"
        out = simulate_principal_policy(
            PolicySourceArn=user_arn, ActionNames=["s3:GetObject", "s3:DeleteObject"],
            ResourceArns=["arn:aws:s3:::demo-analysis/x"], iam=iam)
    got = {r["EvalActionName"]: r for r in out["EvaluationResults"]}
    assert got["s3:GetObject"]["EvalDecision"] == "allowed"
    assert got["s3:GetObject"]["MatchedStatements"][0]["SourcePolicyId"] == \
        "group analysts/analyst_access"
    assert got["s3:DeleteObject"]["EvalDecision"] == "explicitDeny"
    assert got["s3:DeleteObject"]["MatchedStatements"][0]["SourcePolicyType"] == "user-managed"


def test_resource_specific_results_and_details():
    pol = json.dumps(doc(allow(Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}})))
    same = simulate_custom_policy(PolicyInputList=[pol], ActionNames=["s3:GetObject"],
                                  ResourceArns=["arn:aws:s3:::b/k"])["EvaluationResults"][0]
    assert same["MissingContextValues"] == [] and same["EvalDecisionDetails"] == {}
    assert same["ResourceSpecificResults"] == [{
        "EvalResourceName": "arn:aws:s3:::b/k", "EvalResourceDecision": "implicitDeny",
        "MatchedStatements": [], "MissingContextValues": ["aws:SourceVpce"]}]
    star = simulate_custom_policy(PolicyInputList=[pol], ActionNames=["s3:GetObject"])
    assert "EvalDecisionDetails" not in star["EvaluationResults"][0]


def test_cross_account_details():
    foreign = "arn:aws:iam::111122223333:user/carol"
    bucket = doc({"Effect": "Allow", "Principal": {"AWS": "111122223333"},
                  "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})
    base = dict(ActionNames=["s3:GetObject"], ResourceArns=["arn:aws:s3:::b/k"],
                ResourcePolicy=json.dumps(bucket), CallerArn=foreign, ResourceOwner=ACCOUNT)
    ok = simulate_custom_policy(PolicyInputList=[json.dumps(doc(allow()))], **base)
    r = ok["EvaluationResults"][0]
    assert r["EvalDecision"] == "allowed"
    assert r["EvalDecisionDetails"] == {"IAM Policy": "allowed", "Resource Policy": "allowed"}
    no = simulate_custom_policy(PolicyInputList=[json.dumps(doc(allow("s3:PutObject")))], **base)
    r = no["EvaluationResults"][0]
    assert r["EvalDecision"] == "implicitDeny"
    assert r["EvalDecisionDetails"] == {"IAM Policy": "implicitDeny", "Resource Policy": "allowed"}
    denied = dict(base, ResourcePolicy=json.dumps(doc(dict(bucket["Statement"][0], Effect="Deny"))))
    r = simulate_custom_policy(PolicyInputList=[json.dumps(doc(allow()))], **denied)
    assert r["EvaluationResults"][0]["EvalDecisionDetails"]["Resource Policy"] == "explicitDeny"
