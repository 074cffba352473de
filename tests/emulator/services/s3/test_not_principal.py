"""Exact NotPrincipal in a bucket policy, through the emulator with boto3 and the aws CLI.

AWS documentation, "AWS JSON policy elements: NotPrincipal"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html):
a Deny with NotPrincipal denies everyone except the principals named; AWS checks the account,
then the role, then the user or role session, so naming a user and the account root spares that
user and the root user only, and a role session must be named by its assumed-role ARN (with the
role ARN and the account).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
AWS_CLI = Path(sys.executable).parent / "aws"
_counter = iter(range(1, 10_000))


def policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ALL_S3 = {"Effect": "Allow", "Action": ["s3:*", "sts:AssumeRole"], "Resource": "*"}


def user(em, name):
    iam = em.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(ALL_S3))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return f"arn:aws:iam::{ACCOUNT}:user/{name}", (key["AccessKeyId"], key["SecretAccessKey"])


def deny_all_but(em, bucket, *named):
    em.client("s3").put_bucket_policy(Bucket=bucket, Policy=policy({
        "Effect": "Deny", "NotPrincipal": {"AWS": list(named)}, "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}))


def code(call):
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"]


@pytest.fixture
def bucket(em):
    name = f"notprincipal-bucket-{next(_counter)}"
    em.client("s3").create_bucket(Bucket=name)
    return name


def test_user_and_account_root_named(em, bucket):
    n = next(_counter)
    alice_arn, alice = user(em, f"np-alice-{n}")
    _, bob = user(em, f"np-bob-{n}")
    deny_all_but(em, bucket, alice_arn, ROOT)
    em.client("s3", *alice).list_objects_v2(Bucket=bucket)
    em.client("s3").list_objects_v2(Bucket=bucket)          # the root user is named
    assert code(lambda: em.client("s3", *bob).list_objects_v2(Bucket=bucket)) == "AccessDenied"


def test_role_session_named_by_its_assumed_role_arn(em, bucket):
    n = next(_counter)
    _, caller = user(em, f"np-assumer-{n}")
    iam = em.client("iam")
    role = iam.create_role(RoleName=f"np-role-{n}", AssumeRolePolicyDocument=policy({
        "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"}))["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="p", PolicyDocument=policy(ALL_S3))
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/named"
    deny_all_but(em, bucket, session_arn, role["Arn"], ROOT)
    sts = em.client("sts", *caller)

    def s3_as(session_name):
        creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName=session_name)["Credentials"]
        return boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"], region_name="us-east-1").client(
            "s3", config=Config(proxies={"https": em.proxy_url}), verify=str(em.ca_bundle))

    s3_as("named").list_objects_v2(Bucket=bucket)
    assert code(lambda: s3_as("other").list_objects_v2(Bucket=bucket)) == "AccessDenied"
    # Naming the role alone (with the account) spares none of its sessions.
    deny_all_but(em, bucket, role["Arn"], ROOT)
    assert code(lambda: s3_as("named").list_objects_v2(Bucket=bucket)) == "AccessDenied"


def test_not_principal_with_the_cli(em, bucket, tmp_path):
    n = next(_counter)
    alice_arn, alice = user(em, f"np-cli-alice-{n}")
    _, bob = user(em, f"np-cli-bob-{n}")
    deny_all_but(em, bucket, alice_arn, ROOT)

    def ls(key, secret):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(em.client_environ())
        env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
                   AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=str(tmp_path / "c"),
                   AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "s"))
        return subprocess.run([str(AWS_CLI), "s3", "ls", f"s3://{bucket}"], env=env,
                              capture_output=True, text=True, timeout=120)

    assert ls(*alice).returncode == 0
    got = ls(*bob)
    assert got.returncode != 0 and "AccessDenied" in got.stderr
