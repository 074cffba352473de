"""Access point policies: public-policy blocking and an honest policy status.

moto stores each access point's own PublicAccessBlockConfiguration (all four
settings on unless create_access_point says otherwise) but never applies it,
and GetAccessPointPolicyStatus always answers IsPublic=true. AWS refuses a
public access point policy while BlockPublicPolicy is on for the access point
or the account, and reports IsPublic by the same rules as for buckets, except
that a wildcard in s3:DataAccessPointArn makes an access point policy public.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from moto.core.responses import ActionResult
from moto.core.utils import ensure_boolean
from moto.s3control.exceptions import S3ControlError
from moto.s3control.models import S3ControlBackend, s3control_backends

from labkit.policy import PolicyError, is_public


class AccessPointPolicyBlocked(S3ControlError):
    """403 AccessDenied: BlockPublicPolicy refuses a public access point policy."""

    code = "AccessDenied"

    def __init__(self) -> None:
        super().__init__("Access Denied")


# moto finds an error's HTTP status in the service model of the package the
# exception class lives in; S3 Control's model has no AccessDenied shape (the
# status would default to 400) while moto's S3 model gives it 403.
AccessPointPolicyBlocked.__module__ = "moto.s3.exceptions"


class MalformedAccessPointPolicy(S3ControlError):
    """400 MalformedPolicy: the access point policy is not a JSON object, or not a valid policy."""

    code = "MalformedPolicy"

    def __init__(self, message: str = "Policies must be valid JSON and the first byte must be '{'") -> None:
        super().__init__(message)


_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def access_point_flags(account_id: str, name: str) -> dict[str, bool]:
    """An access point's own Block Public Access flags ({} if it does not exist)."""
    for backend in s3control_backends[account_id].values():
        access_point = backend.access_points.get(account_id, {}).get(name)
        if access_point is not None:
            return {flag: ensure_boolean(access_point.pubc.get(flag, True)) for flag in _FLAGS}
    return {}


def access_point_blocks_public_policy(backend: S3ControlBackend, account_id: str, name: str) -> bool:
    """Whether BlockPublicPolicy is on for this access point or its account."""
    access_point = backend.get_access_point(account_id, name)
    own = ensure_boolean(access_point.pubc.get("BlockPublicPolicy", True))
    account = backend.public_access_block
    return own or bool(account and account.block_public_policy)


def put_policy_checked(
    original: Callable, backend: S3ControlBackend, account_id: str, name: str, policy: str
) -> None:
    """PutAccessPointPolicy that refuses malformed and (when blocked) public policies."""
    try:
        parsed = json.loads(policy) if isinstance(policy, (str, bytes)) else None
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise MalformedAccessPointPolicy()
    try:
        public = is_public(parsed, access_point=True)
    except PolicyError as exc:
        raise MalformedAccessPointPolicy(str(exc)) from None
    if public and access_point_blocks_public_policy(backend, account_id, name):
        raise AccessPointPolicyBlocked()
    original(backend, account_id, name, policy)


def policy_status_response(original: Callable, response: Any) -> ActionResult:
    """GetAccessPointPolicyStatus computed from the stored policy (moto says public always)."""
    account_id = response._get_param("AccountId")
    name = response._get_param("Name")
    policy = response.backend.get_access_point_policy(account_id, name)
    return ActionResult({"PolicyStatus": {"IsPublic": is_public(policy, access_point=True)}})
