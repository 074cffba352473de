"""The course's CLI test matrix (outline.md, lesson 04), run with the real `aws` CLI.

Users engineer-demo and analyst-demo get their permissions from groups with the
engineer_access / analyst_access managed policies; both buckets deny uploads
without server-side encryption. Each of the 10 commands runs as the engineer,
then as the analyst, and the outcome must match the outline's table exactly.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


LANDING, ANALYSIS = "demo-landing-zone", "demo-analysis"
AWS_CLI = Path(sys.executable).parent / "aws"

# The outline's matrix, as the policy engine's tests hold it: one expectation for both.
from tests.policy.course import MATRIX  # noqa: E402


def _arns(bucket: str) -> list:
    return [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


ENGINEER_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "FullS3OnLabBuckets", "Effect": "Allow", "Action": "s3:*",
         "Resource": _arns(LANDING) + _arns(ANALYSIS)},
        {"Sid": "AccessPoints", "Effect": "Allow", "Action": "s3:*",
         "Resource": ["arn:aws:s3:*:*:accesspoint/demo-*", "arn:aws:s3:*:*:accesspoint/demo-*/object/*"]},
        {"Sid": "ListBuckets", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
    ],
}
ANALYST_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ReadLandingZone", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"],
         "Resource": _arns(LANDING)},
        {"Sid": "ReadWriteAnalysis", "Effect": "Allow",
         "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": _arns(ANALYSIS)},
    ],
}


def deny_unencrypted(bucket: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyUnencryptedUploads", "Effect": "Deny", "Principal": "*",
            "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}},
        }],
    }


@pytest.fixture(scope="module")
def lab(em):
    """The lesson 01-04 set-up; returns {role: (key id, secret)}."""
    iam, s3 = em.client("iam"), em.client("s3")
    for bucket in (LANDING, ANALYSIS):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(deny_unencrypted(bucket)))
    keys = {}
    for role, doc in (("engineer", ENGINEER_ACCESS), ("analyst", ANALYST_ACCESS)):
        arn = iam.create_policy(PolicyName=f"{role}_access",
                                PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
        group = f"{role}s-demo"
        iam.create_group(GroupName=group)
        iam.attach_group_policy(GroupName=group, PolicyArn=arn)
        user = f"{role}-demo"
        iam.create_user(UserName=user)
        iam.add_user_to_group(GroupName=group, UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        keys[role] = (key["AccessKeyId"], key["SecretAccessKey"])
    return keys


def cli_env(em, key_id: str, secret: str, home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(em.client_environ())
    env.update(AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret,
               AWS_DEFAULT_REGION="us-east-1", HOME=str(home),
               AWS_CONFIG_FILE=str(home / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
               PATH=f"{AWS_CLI.parent}{os.pathsep}{env.get('PATH', '')}")
    return env


def outcome(result: subprocess.CompletedProcess) -> str:
    if result.returncode == 0:
        return "ALLOW"
    return "DENY" if "AccessDenied" in result.stderr + result.stdout else "ERROR"


def test_course_matrix_with_the_aws_cli(em, lab, tmp_path):
    actual = {}
    for column, role in ((1, "engineer"), (2, "analyst")):
        env = cli_env(em, *lab[role], tmp_path)
        for number, row in enumerate(MATRIX, start=1):
            result = subprocess.run(row[0], shell=True, env=env, capture_output=True, text=True,
                                    timeout=60)
            actual[(number, role)] = (outcome(result), result.stderr.strip()[-300:])
    expected = {(n, role): row[col] for n, row in enumerate(MATRIX, start=1)
                for col, role in ((1, "engineer"), (2, "analyst"))}
    wrong = {cell: actual[cell] for cell in expected if actual[cell][0] != expected[cell]}
    assert not wrong, f"cells differing from the outline (expected {expected}): {wrong}"


def test_denial_message_names_user_action_and_resource(em, lab, tmp_path):
    env = cli_env(em, *lab["analyst"], tmp_path)
    result = subprocess.run(MATRIX[0][0], shell=True, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert ("User: arn:aws:iam::123456789012:user/analyst-demo is not authorized to perform: "
            "s3:PutObject on resource: \"arn:aws:s3:::demo-landing-zone/test/hw.txt\" because no "
            "identity-based policy allows the s3:PutObject action") in result.stderr


def test_unencrypted_upload_denied_by_bucket_policy_message(em, lab):
    s3 = em.client("s3", *lab["engineer"])
    with pytest.raises(s3.exceptions.ClientError) as info:
        s3.put_object(Bucket=ANALYSIS, Key="test/plain.txt", Body=b"x")
    err = info.value.response["Error"]
    assert err["Code"] == "AccessDenied"
    assert err["Message"].endswith("with an explicit deny in a resource-based policy")
    s3.put_object(Bucket=ANALYSIS, Key="test/plain.txt", Body=b"x", ServerSideEncryption="AES256")
