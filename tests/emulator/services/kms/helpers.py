"""Small builders shared by the KMS request-level tests."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
AWS_CLI = Path(sys.executable).parent / "aws"
_counter = iter(range(1, 100_000))


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}"


def policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def delegate_to_account() -> dict:
    """KMS "Default key policy": the statement that enables IAM policies."""
    return allow("kms:*", Principal={"AWS": ROOT}, Sid="Enable IAM User Permissions")


def make_user(em, prefix: str, *statements):
    """(name, ARN, access key id, secret) of a new IAM user with an inline policy."""
    iam = em.client("iam")
    name = unique(prefix)
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, f"arn:aws:iam::{ACCOUNT}:user/{name}", key["AccessKeyId"], key["SecretAccessKey"]


def error(call) -> tuple:
    """(code, HTTP status, message) of the ClientError CALL raises."""
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def cli(em, key_id: str, secret: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the real aws CLI against the emulator as KEY_ID."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(em.client_environ())
    env.update(AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret,
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=str(tmp_path / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"))
    return subprocess.run([str(AWS_CLI), *args], env=env, capture_output=True, text=True,
                          timeout=90)
