"""Helpers shared by the request-level emulator tests."""
from __future__ import annotations

import json


def policy(*statements) -> str:
    """A policy document holding STATEMENTS, as JSON text."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def user_keys(em, name: str, *statements, tags=()) -> tuple[str, str]:
    """Create IAM user NAME (with TAGS) holding STATEMENTS inline; its (key id, secret)."""
    iam = em.client("iam")
    iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in tags])
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]
