"""Access Analyzer's policy checks through boto3's accessanalyzer client, against the emulator.

AWS references: IAM Access Analyzer API Reference, CheckAccessNotGranted,
CheckNoNewAccess, CheckNoPublicAccess (response: result, message, reasons of
ReasonSummary: description, statementIndex, statementId) and ValidatePolicy
(ValidatePolicyFinding: findingType, issueCode, findingDetails, learnMoreLink,
locations with path and span); IAM User Guide, "Access Analyzer policy check
reference" for the issue codes.
"""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

READ_LANDING = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ReadLanding", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::landing", "arn:aws:s3:::landing/*"]}]}
WRITE_TOO = {"Version": "2012-10-17", "Statement": READ_LANDING["Statement"] + [
    {"Sid": "Write", "Effect": "Allow", "Action": "s3:Put*", "Resource": "arn:aws:s3:::landing/*"}]}
PUBLIC_BUCKET = {"Version": "2012-10-17", "Statement": [
    {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
     "Resource": "arn:aws:s3:::landing/*"}]}


@pytest.fixture(scope="module")
def aa(em):
    return em.client("accessanalyzer")


def test_check_access_not_granted_pass_and_fail(aa):
    ok = aa.check_access_not_granted(policyDocument=json.dumps(READ_LANDING),
                                     access=[{"actions": ["s3:PutObject", "s3:DeleteObject"]}],
                                     policyType="IDENTITY_POLICY")
    assert ok["result"] == "PASS" and ok["reasons"] == []
    bad = aa.check_access_not_granted(policyDocument=json.dumps(WRITE_TOO),
                                      access=[{"actions": ["s3:PutObject"],
                                               "resources": ["arn:aws:s3:::landing/raw/*"]}],
                                      policyType="IDENTITY_POLICY")
    assert bad["result"] == "FAIL"
    assert bad["reasons"] == [{"description": "One or more of the listed actions or resources in "
                                              "the statement with sid: Write.",
                               "statementIndex": 1, "statementId": "Write"}]


def test_check_no_new_access(aa):
    same = aa.check_no_new_access(newPolicyDocument=json.dumps(READ_LANDING),
                                  existingPolicyDocument=json.dumps(WRITE_TOO),
                                  policyType="IDENTITY_POLICY")
    assert same["result"] == "PASS"
    more = aa.check_no_new_access(newPolicyDocument=json.dumps(WRITE_TOO),
                                  existingPolicyDocument=json.dumps(READ_LANDING),
                                  policyType="IDENTITY_POLICY")
    assert more["result"] == "FAIL" and more["reasons"][0]["statementId"] == "Write"


def test_check_no_public_access(aa):
    public = aa.check_no_public_access(policyDocument=json.dumps(PUBLIC_BUCKET),
                                       resourceType="AWS::S3::Bucket")
    assert public["result"] == "FAIL" and public["reasons"][0]["statementId"] == "PublicRead"
    partner = {"AWS": "arn:aws:iam::111122223333:root"}
    private = dict(PUBLIC_BUCKET,
                   Statement=[dict(PUBLIC_BUCKET["Statement"][0], Principal=partner)])
    assert aa.check_no_public_access(policyDocument=json.dumps(private),
                                     resourceType="AWS::S3::Bucket")["result"] == "PASS"


def test_validate_policy_findings_have_aws_shape_and_spans(aa):
    text = ('{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow", '
            '"Action": ["s3:GetObject", "s3:GetObjekt"], "Resource": "*"}]}')
    findings = aa.validate_policy(policyDocument=text, policyType="IDENTITY_POLICY")["findings"]
    invalid = [f for f in findings if f["issueCode"] == "INVALID_ACTION"]
    assert len(invalid) == 1 and invalid[0]["findingType"] == "ERROR"
    assert "s3:GetObjekt" in invalid[0]["findingDetails"]
    assert invalid[0]["learnMoreLink"].startswith("https://docs.aws.amazon.com/IAM/latest/")
    loc = invalid[0]["locations"][0]
    assert loc["path"] == [{"value": "Statement"}, {"index": 0}, {"value": "Action"}, {"index": 1}]
    start, end = loc["span"]["start"]["offset"], loc["span"]["end"]["offset"]
    assert text[start:end] == '"s3:GetObjekt"' and loc["span"]["start"]["line"] == 4


def test_validate_policy_reports_json_errors_and_security_warnings(aa):
    bad = aa.validate_policy(policyDocument="{\"Version\": ", policyType="IDENTITY_POLICY")
    assert bad["findings"][0]["issueCode"] == "JSON_SYNTAX_ERROR"
    notp = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotPrincipal": {
        "AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::landing/*"}]}
    found = aa.validate_policy(policyDocument=json.dumps(notp), policyType="RESOURCE_POLICY",
                               validatePolicyResourceType="AWS::S3::Bucket")["findings"]
    types = {f["issueCode"]: f["findingType"] for f in found}
    assert types["ALLOW_WITH_NOT_PRINCIPAL"] == "SECURITY_WARNING"
    assert {"SUGGESTION"} <= set(types.values())


def test_bad_input_gets_a_clear_error(aa):
    with pytest.raises(ClientError) as err:
        aa.check_no_new_access(newPolicyDocument="{", existingPolicyDocument="{}",
                               policyType="IDENTITY_POLICY")
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "not valid JSON" in err.value.response["Error"]["Message"]


def test_calls_are_authorized_like_any_other(em):
    iam = em.client("iam")
    iam.create_user(UserName="aa-nobody")
    key = iam.create_access_key(UserName="aa-nobody")["AccessKey"]
    aa = em.client("accessanalyzer", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as err:
        aa.check_no_public_access(policyDocument=json.dumps(PUBLIC_BUCKET),
                                  resourceType="AWS::S3::Bucket")
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "access-analyzer:CheckNoPublicAccess" in err.value.response["Error"]["Message"]
    iam.put_user_policy(UserName="aa-nobody", PolicyName="checks", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                                "Action": "access-analyzer:CheckNoPublicAccess",
                                                "Resource": "*"}]}))
    assert aa.check_no_public_access(policyDocument=json.dumps(PUBLIC_BUCKET),
                                     resourceType="AWS::S3::Bucket")["result"] == "FAIL"
