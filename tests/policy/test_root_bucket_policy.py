"""The bucket owner's root keeps the bucket policy actions.

AWS documentation, S3 API reference DeleteBucketPolicy / GetBucketPolicy / PutBucketPolicy
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html): "the root
principal in a bucket owner's account can perform the GetBucketPolicy, PutBucketPolicy, and
DeleteBucketPolicy API actions, even if their bucket policy explicitly denies the root
principal's access". Other actions stay denied, and so do other principals.
"""
from __future__ import annotations

import pytest

from labkit.policy import Request, evaluate
from tests.policy.helpers import ACCOUNT, OTHER, USER, allow, doc

BUCKET = "arn:aws:s3:::locked"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
DENY_ALL = doc({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [BUCKET, BUCKET + "/*"]})


def run(principal, action, resource=BUCKET, account=ACCOUNT, identity=()):
    req = Request(principal, action, resource, resource_account=account)
    return evaluate(req, identity, ("bucket policy locked", DENY_ALL))


@pytest.mark.parametrize("action", ["s3:GetBucketPolicy", "s3:PutBucketPolicy",
                                    "s3:DeleteBucketPolicy"])
def test_owner_root_keeps_the_bucket_policy_actions(action):
    d = run(ROOT, action)
    assert d.allowed and "lockout" in str(d.reasons[0])


def test_owner_root_is_still_denied_other_actions():
    assert run(ROOT, "s3:GetObject", BUCKET + "/k").decision == "explicit_deny"
    assert run(ROOT, "s3:PutBucketAcl").decision == "explicit_deny"


def test_the_exemption_is_for_the_owner_root_only():
    assert run(USER, "s3:DeleteBucketPolicy", identity=[doc(allow("s3:*"))]).decision == \
        "explicit_deny"
    other_root = f"arn:aws:iam::{OTHER}:root"
    assert run(other_root, "s3:DeleteBucketPolicy").decision == "explicit_deny"
