"""Shared set-up for the CloudTrail tests: users, keys, a log bucket CloudTrail may write to."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from labkit.emulator.services.cloudtrail.store import STORE
from tests.emulator.test_authz_course import cli_env  # noqa: F401 - one CLI environment

ACCOUNT = "123456789012"
AWS_CLI = Path(sys.executable).parent / "aws"


def user_with_policy(em, name: str, statements: list) -> tuple[str, str]:
    """An IAM user NAME with an inline policy; returns (key id, secret)."""
    iam = em.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def trail_arn(name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}"


def cloudtrail_policy(bucket: str, trail: str, write: bool = True) -> dict:
    """The bucket policy of the CloudTrail user guide ("Amazon S3 bucket policy for CloudTrail")."""
    statements = [{"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow",
                   "Principal": {"Service": "cloudtrail.amazonaws.com"},
                   "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}",
                   "Condition": {"StringEquals": {"aws:SourceArn": trail_arn(trail)}}}]
    if write:
        statements.append({"Sid": "AWSCloudTrailWrite", "Effect": "Allow",
                           "Principal": {"Service": "cloudtrail.amazonaws.com"},
                           "Action": "s3:PutObject",
                           "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*",
                           "Condition": {"StringEquals": {
                               "s3:x-amz-acl": "bucket-owner-full-control",
                               "aws:SourceArn": trail_arn(trail)}}})
    return {"Version": "2012-10-17", "Statement": statements}


def log_bucket(em, bucket: str, trail: str, write: bool = True) -> None:
    s3 = em.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(cloudtrail_policy(bucket, trail, write)))


def last(event_name: str):
    """The newest recorded event named EVENT_NAME."""
    return next(e for e in STORE.newest_first() if e.record["eventName"] == event_name)
