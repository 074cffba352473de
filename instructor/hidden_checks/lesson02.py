"""Hidden checks for lesson 02 (graded by `labkit regrade`, never shipped to learners)."""
from __future__ import annotations

import json

from labkit.topics import buckets as s3lib
from labkit.checks import Fail, check
from labkit.checks.lesson02 import _decision, _existing, _policy
from labkit.policy import EXPLICIT_DENY


@check("02.tls-only", points=1, hidden=True,
       hint="add a Deny of s3:* on the bucket and its objects when Bool aws:SecureTransport is false")
def tls_only(lab):
    """Both bucket policies deny plain-HTTP requests."""
    s3 = lab.client("s3")
    for bucket in _existing(lab, s3):
        policy = _policy(lab, s3, bucket)
        plain = _decision(lab, policy, bucket, "s3:GetObject", {"aws:SecureTransport": "false"})
        if plain.decision != EXPLICIT_DENY:
            raise Fail(f"the bucket policy of {bucket} does not deny requests over plain HTTP")
    return "plain-HTTP requests are denied on both buckets"


@check("02.not-public", points=1, hidden=True,
       hint="no bucket policy statement may Allow \"Principal\": \"*\" without a confining "
            "condition; keep Block Public Access on")
def not_public(lab):
    """S3 itself reports neither bucket policy as public."""
    s3 = lab.client("s3")
    for bucket in _existing(lab, s3):
        _policy(lab, s3, bucket)
        status = s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]
        if status.get("IsPublic"):
            raise Fail(f"S3 reports the policy of {bucket} as public: "
                       f"{json.dumps(s3lib.current_policy(s3, bucket))[:200]}")
    return "neither bucket policy is public"
