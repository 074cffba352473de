"""Validation of bucket policy documents, with S3's MalformedPolicy messages.

moto stores any bytes as a bucket policy; afterwards every object call on that
bucket fails with a JSONDecodeError. S3 instead rejects the PutBucketPolicy
request with ``400 MalformedPolicy`` and a short message, and the bucket stays
as it was. :func:`check_bucket_policy` reproduces those checks and messages.
"""
from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any, Callable

from labkit.emulator.services.s3.action_names import S3_ACTIONS, resource_kind

_VERSIONS = {"2012-10-17", "2008-10-17"}
_PRINCIPAL_TYPES = {"AWS", "Service", "Federated", "CanonicalUser"}
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_AWS_PRINCIPAL_ARN = re.compile(
    r"^arn:aws[a-z-]*:(iam|sts)::(\d{12}):(root|user/.+|role/.+|assumed-role/.+|federated-user/.+)$"
)

#: Answers whether an IAM principal ARN names an identity that exists.
PrincipalExists = Callable[[str], bool]


class MalformedPolicy(ValueError):
    """A bucket policy S3 would refuse; ``str(exc)`` is S3's message."""


def check_bucket_policy(
    text: str | bytes,
    bucket_name: str,
    principal_exists: PrincipalExists | None = None,
) -> dict:
    """Parse and validate a bucket policy for ``bucket_name``; return it as a dict.

    Raises :class:`MalformedPolicy` with S3's message for the first fault
    found: not JSON, missing or empty Statement, bad Version or Effect, missing
    or unknown principal, unknown action, or a resource outside this bucket.
    ``principal_exists`` (optional) is asked about IAM user/role ARNs, since S3
    resolves them when the policy is saved and refuses ones that do not exist.
    """
    policy = _parse(text)
    version = policy.get("Version")
    if version is not None and version not in _VERSIONS:
        raise MalformedPolicy("The policy must contain a valid version string")
    if "Statement" not in policy:
        raise MalformedPolicy("Missing required field Statement")
    statements = policy["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise MalformedPolicy("This policy contains invalid Json")
    if not statements:
        raise MalformedPolicy("Could not parse the policy: Statement is empty!")
    for statement in statements:
        _check_statement(statement, bucket_name, principal_exists)
    return policy


def _parse(text: str | bytes) -> dict:
    if isinstance(text, (bytes, bytearray)):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedPolicy("This policy contains invalid Json") from None
    if not text.lstrip().startswith("{"):
        raise MalformedPolicy("Policies must be valid JSON and the first byte must be '{'")
    try:
        policy = json.loads(text)
    except ValueError:
        raise MalformedPolicy("This policy contains invalid Json") from None
    if not isinstance(policy, dict):
        raise MalformedPolicy("This policy contains invalid Json")
    return policy


def _check_statement(statement: Any, bucket: str, principal_exists: PrincipalExists | None) -> None:
    if not isinstance(statement, dict):
        raise MalformedPolicy("This policy contains invalid Json")
    effect = statement.get("Effect")
    if effect is None:
        raise MalformedPolicy("Missing required field Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicy(f"Invalid effect: {effect}")
    _check_principal(statement, principal_exists)
    _check_actions(statement)
    _check_resources(statement, bucket)
    _check_actions_apply(statement)


def _check_principal(statement: dict, principal_exists: PrincipalExists | None) -> None:
    key = "Principal" if "Principal" in statement else "NotPrincipal"
    if key not in statement:
        raise MalformedPolicy("Missing required field Principal")
    principal = statement[key]
    if principal == "*":
        return
    if not isinstance(principal, dict) or not principal:
        raise MalformedPolicy("Invalid principal in policy")
    for kind, values in principal.items():
        if kind not in _PRINCIPAL_TYPES:
            raise MalformedPolicy("Invalid principal in policy")
        for value in values if isinstance(values, list) else [values]:
            if not isinstance(value, str) or not value:
                raise MalformedPolicy("Invalid principal in policy")
            if kind == "AWS":
                _check_aws_principal(value, principal_exists)


def _check_aws_principal(value: str, principal_exists: PrincipalExists | None) -> None:
    if value == "*" or _ACCOUNT_ID.match(value):
        return
    match = _AWS_PRINCIPAL_ARN.match(value)
    if not match:
        raise MalformedPolicy("Invalid principal in policy")
    resource = match.group(3)
    named = resource.startswith(("user/", "role/"))
    if named and principal_exists is not None and not principal_exists(value):
        raise MalformedPolicy("Invalid principal in policy")


def _check_actions(statement: dict) -> None:
    key = "Action" if "Action" in statement else "NotAction"
    if key not in statement:
        raise MalformedPolicy("Missing required field Action")
    actions = statement[key]
    for action in actions if isinstance(actions, list) else [actions]:
        if not isinstance(action, str) or not _is_known_action(action):
            raise MalformedPolicy("Policy has invalid action")


def _is_known_action(action: str) -> bool:
    if action == "*":
        return True
    service, _, name = action.partition(":")
    if service.lower() != "s3" or not name:
        return False
    pattern = name.lower()
    return any(fnmatchcase(known.lower(), pattern) for known in S3_ACTIONS)


def _check_resources(statement: dict, bucket: str) -> None:
    key = "Resource" if "Resource" in statement else "NotResource"
    if key not in statement:
        raise MalformedPolicy("Missing required field Resource")
    resources = statement[key]
    for resource in resources if isinstance(resources, list) else [resources]:
        if not isinstance(resource, str) or not _is_this_bucket(resource, bucket):
            raise MalformedPolicy("Policy has invalid resource")


def _is_this_bucket(resource: str, bucket: str) -> bool:
    # A bucket policy may only name its own bucket and the objects in it.
    match = re.match(r"^arn:aws[a-z-]*:s3:::(.+)$", resource)
    if not match:
        return False
    bucket_part = match.group(1).split("/", 1)[0]
    return fnmatchcase(bucket, bucket_part) if bucket_part else False


def _check_actions_apply(statement: dict) -> None:
    # S3 refuses a statement none of whose actions can act on its resources,
    # e.g. s3:ListBucket on "arn:aws:s3:::bucket/*" (objects, not the bucket).
    if "Action" not in statement or "Resource" not in statement:
        return  # NotAction / NotResource: every combination is possible
    actions = _as_list(statement["Action"])
    kinds = set().union(*(_resource_kinds(r) for r in _as_list(statement["Resource"])))
    if not any(_action_applies(a, kinds) for a in actions):
        raise MalformedPolicy("Action does not apply to any resource(s) in statement")


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _resource_kinds(resource: str) -> set[str]:
    path = resource.split(":::", 1)[1]
    if "/" in path:
        return {"object"}
    # A wildcard in a bucket-only ARN can also run on into object keys.
    return {"bucket", "object"} if "*" in path else {"bucket"}


def _action_applies(action: str, kinds: set[str]) -> bool:
    if action == "*":
        return True
    pattern = action.partition(":")[2].lower()
    for known in S3_ACTIONS:
        if fnmatchcase(known.lower(), pattern):
            kind = resource_kind(known)
            if kind is None or kind in kinds:
                return True
    return False
