"""DeleteConflict where AWS answers it and moto does not (or words it otherwise).

IAM API reference, DeleteUser: a user's password, access keys, inline and attached
policies must go first; DeleteGroup: the group's users must be removed first. AWS
answers DeleteConflict (HTTP 409) naming the first thing still there; moto deletes a
group with members and names inline policies before a user's access keys.
"""
from __future__ import annotations

from typing import Optional, Tuple


def problem(operation: str, params: dict, account: str) -> Optional[Tuple[str, str]]:
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["global"]
    if operation == "DeleteGroup":
        group = backend.groups.get(params.get("GroupName", ""))
        if group is not None and group.users:
            return _conflict("must remove users from group first")
    if operation == "DeleteUser":
        user = backend.users.get(params.get("UserName", ""))
        if user is None:
            return None
        if getattr(user, "password", None) is not None:
            return _conflict("must delete login profile first")
        if user.access_keys:
            return _conflict("must delete access keys first")
        if user.policies:
            return _conflict("must delete policies first")
        if user.managed_policies:
            return _conflict("must detach all policies first")
    return None


def _conflict(what: str) -> Tuple[str, str]:
    return "DeleteConflict", f"Cannot delete entity, {what}."
