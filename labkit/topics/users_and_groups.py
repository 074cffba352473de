"""Lesson 01: IAM users, groups and access keys, built idempotently.

``build(lab)`` is the reference solution of lesson 01 that later lessons rely on:
users admin-, engineer- and analyst-NAME, one group each (admins get AWS's
AdministratorAccess; engineers and analysts get their policies in lesson 04),
and an access key per user kept as a lab-local profile named after the user.
"""
from __future__ import annotations

from labkit.topics import waiting

ADMIN_POLICY_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def ensure_user(iam, user: str) -> bool:
    """Create ``user`` unless it exists; return True if it was created."""
    try:
        iam.create_user(UserName=user, Tags=[{"Key": "labkit", "Value": "course"}])
        return True
    except iam.exceptions.EntityAlreadyExistsException:
        return False


def ensure_group(iam, group: str) -> bool:
    try:
        iam.create_group(GroupName=group)
        return True
    except iam.exceptions.EntityAlreadyExistsException:
        return False


def ensure_member(iam, group: str, user: str) -> None:
    """Add ``user`` to ``group`` (adding twice is harmless on AWS too)."""
    iam.add_user_to_group(GroupName=group, UserName=user)


def ensure_access_key_profile(lab, user: str) -> str:
    """Give ``user`` a working access key saved as lab-local profile ``user``.

    Keeps the key already saved if IAM still knows it; otherwise creates one
    (deleting the oldest first when the user already has AWS's limit of two).
    Returns the access key id; the secret is written to the file only.
    """
    iam = lab.client("iam")
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    saved = lab.files.access_key_id(user)
    if saved and any(k["AccessKeyId"] == saved and k["Status"] == "Active" for k in keys):
        return saved
    if len(keys) >= 2:
        oldest = min(keys, key=lambda k: k["CreateDate"])
        iam.delete_access_key(UserName=user, AccessKeyId=oldest["AccessKeyId"])
    new = iam.create_access_key(UserName=user)["AccessKey"]
    lab.save_profile(user, new["AccessKeyId"], new["SecretAccessKey"])
    # IAM is eventually consistent: on AWS a new key takes seconds to be accepted.
    waiting.key_works(lab, user)
    return new["AccessKeyId"]


def build(lab) -> None:
    """Lesson 01's end state (reference solution), safe to run any number of times."""
    iam, names = lab.client("iam"), lab.names
    for user in names.users:
        ensure_user(iam, user)
    memberships = {names.admins_group: names.admin_user,
                   names.engineers_group: names.engineer_user,
                   names.analysts_group: names.analyst_user}
    for group, user in memberships.items():
        ensure_group(iam, group)
        ensure_member(iam, group, user)
    iam.attach_group_policy(GroupName=names.admins_group, PolicyArn=ADMIN_POLICY_ARN)
    for user in names.users:
        ensure_access_key_profile(lab, user)
