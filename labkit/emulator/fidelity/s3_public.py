"""What S3 calls "public", for bucket policies, access point policies and ACLs.

The rules follow "The meaning of public" in the S3 Block Public Access user
guide. S3 starts by assuming a policy is public and looks for a reason to call
it non-public: every statement that allows access must name fixed principals,
or be confined by a condition that fixes one of a short list of keys to values
without wildcards or policy variables. Any other condition (for example
``aws:SecureTransport``) confines nothing, so ``Principal: "*"`` with only such
a condition stays public.

This module is pure: it never touches moto. (A shared ``labkit.policy.is_public``
is planned; until it exists the emulator uses :func:`is_public_policy`.)
"""
from __future__ import annotations

import ipaddress
import json
import re
from typing import Any, Iterable

#: Condition keys whose fixed values make an allow-to-everyone non-public.
_CONFINING_KEYS = {
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:userid",
    "aws:principalorgid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
}

#: Operators that require the request's value to match (negations and
#: ...IfExists variants are satisfied by requests outside the set, so they
#: confine nothing).
_MATCHING_OPERATORS = {
    "stringequals",
    "stringequalsignorecase",
    "stringlike",
    "arnequals",
    "arnlike",
    "ipaddress",
}

#: The ACL grantee groups that make an ACL public.
PUBLIC_GROUP_URIS = {
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
}

#: Canned ACLs that grant to one of those groups.
PUBLIC_CANNED_ACLS = {"public-read", "public-read-write", "authenticated-read"}

_ROLE_SESSION_PATTERN = re.compile(r"^AROA[A-Z0-9]+:\*$")
_ACCESS_POINT_WILDCARD = re.compile(
    r"^arn:[a-z-]+:s3:[a-z0-9-]+:\d{12}:accesspoint/\*$"
)


def is_public_policy(doc: Any, *, access_point: bool = False) -> bool:
    """Whether S3 would call this bucket (or access point) policy public.

    ``doc`` is a policy as a JSON string, bytes or an already parsed dict.
    ``access_point=True`` applies the access point variant of the rules, where
    a wildcard in ``s3:DataAccessPointArn`` makes the policy public.
    Raises ValueError when ``doc`` is not a JSON object.
    """
    policy = _as_dict(doc)
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    return any(_statement_is_public(s, access_point) for s in statements if isinstance(s, dict))


def is_public_grantee_uri(uri: str | None) -> bool:
    """Whether an ACL grantee group URI is one that makes an ACL public."""
    return (uri or "").rstrip("/") in PUBLIC_GROUP_URIS


def acl_is_public(grantee_uris: Iterable[str | None]) -> bool:
    """Whether an ACL with these grantee URIs is public (AllUsers/AuthenticatedUsers)."""
    return any(is_public_grantee_uri(uri) for uri in grantee_uris)


def _as_dict(doc: Any) -> dict:
    if isinstance(doc, (bytes, bytearray)):
        doc = doc.decode("utf-8")
    if isinstance(doc, str):
        doc = json.loads(doc)
    if not isinstance(doc, dict):
        raise ValueError("a policy must be a JSON object, e.g. {\"Statement\": [...]}")
    return doc


def _statement_is_public(statement: dict, access_point: bool) -> bool:
    if statement.get("Effect") != "Allow":
        return False  # a Deny grants nothing
    if not _grants_to_everyone(statement):
        return False
    conditions = statement.get("Condition") or {}
    return not _conditions_confine(conditions, access_point)


def _grants_to_everyone(statement: dict) -> bool:
    # NotPrincipal with Allow grants to everyone but the listed principals.
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(_has_wildcard(v) for v in _as_list_of_values(principal.values()))
    return False


def _as_list_of_values(values: Iterable[Any]) -> list[str]:
    flat: list[str] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return [str(v) for v in flat]


def _has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value or "${" in value


def _conditions_confine(conditions: dict, access_point: bool) -> bool:
    if not isinstance(conditions, dict):
        return False
    for operator, block in conditions.items():
        if not isinstance(block, dict) or not _is_matching_operator(operator):
            continue
        for key, values in block.items():
            if _fixes_key(key.lower(), values, access_point):
                return True
    return False


def _is_matching_operator(operator: str) -> bool:
    op = operator.lower()
    if op.endswith("ifexists") or op.startswith("forallvalues:"):
        return False
    if op.startswith("foranyvalue:"):
        op = op.split(":", 1)[1]
    return op in _MATCHING_OPERATORS


def _fixes_key(key: str, values: Any, access_point: bool) -> bool:
    if key not in _CONFINING_KEYS:
        return False
    items = values if isinstance(values, list) else [values]
    if not items:
        return False
    return all(_is_fixed_value(key, str(v), access_point) for v in items)


def _is_fixed_value(key: str, value: str, access_point: bool) -> bool:
    if key == "aws:sourceip":
        return _is_narrow_cidr(value)
    if key == "aws:userid" and _ROLE_SESSION_PATTERN.match(value):
        return True
    if key == "s3:dataaccesspointarn" and not access_point and _ACCESS_POINT_WILDCARD.match(value):
        # In a bucket policy a wildcard access point name under a fixed account is allowed.
        return True
    return not _has_wildcard(value)


def _is_narrow_cidr(value: str) -> bool:
    """A source range counts as fixed unless broader than /8 (IPv4) or /32 (IPv6)."""
    if _has_wildcard(value):
        return False
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    limit = 8 if network.version == 4 else 32
    return network.prefixlen >= limit
