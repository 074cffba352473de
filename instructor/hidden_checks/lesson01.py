"""Hidden checks for lesson 01 (graded by `labkit regrade`, never shipped to learners)."""
from __future__ import annotations

from labkit.checks import Fail, check


@check("01.key-hygiene", points=1, hidden=True,
       hint="Keep at most one active access key per user, and delete keys you no longer use.")
def key_hygiene(lab):
    """No user carries more than one active access key."""
    iam = lab.client("iam")
    for user in lab.names.users:
        keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        active = [k for k in keys if k["Status"] == "Active"]
        if len(active) > 1:
            raise Fail(f"{user} has {len(active)} active access keys")
    return "one active key per user"
