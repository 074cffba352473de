"""IAM's policy size quotas, which moto does not enforce.

IAM user guide, "IAM and AWS STS quotas" (reference_iam-quotas.html), "IAM and STS
character limits": the inline policies of one entity together may hold at most 2,048
(user), 5,120 (group) or 10,240 (role) characters, a managed policy 6,144, a role trust
policy 2,048 by default; IAM does not count white space. Over the limit, IAM answers
LimitExceeded (HTTP 409) and changes nothing.
"""
from __future__ import annotations

import re
from typing import Optional, Tuple

#: Aggregate inline policy size per entity kind, in non-white-space characters.
INLINE = {"user": 2048, "group": 5120, "role": 10240}
MANAGED = 6144
TRUST = 2048
_INLINE_OPERATIONS = {"PutUserPolicy": ("user", "UserName"),
                      "PutGroupPolicy": ("group", "GroupName"),
                      "PutRolePolicy": ("role", "RoleName")}


def size(document: str) -> int:
    """A policy's size as IAM counts it: characters other than white space."""
    return len(re.sub(r"\s", "", document))


def problem(operation: str, params: dict, account: str) -> Optional[Tuple[str, str]]:
    """(code, message) when OPERATION with PARAMS would exceed a quota, else None."""
    document = params.get("PolicyDocument") or ""
    if operation in _INLINE_OPERATIONS:
        kind, name_param = _INLINE_OPERATIONS[operation]
        name = params.get(name_param, "")
        others = _inline_sizes(kind, name, account, keep_out=params.get("PolicyName"))
        total = others + size(document)
        if total > INLINE[kind]:
            return ("LimitExceeded", f"Maximum policy size of {INLINE[kind]} bytes exceeded "
                                     f"for {kind} {name}")
    elif operation in ("CreatePolicy", "CreatePolicyVersion") and size(document) > MANAGED:
        return "LimitExceeded", f"Cannot exceed quota for PolicySize: {MANAGED}"
    elif operation in ("CreateRole", "UpdateAssumeRolePolicy"):
        trust = params.get("AssumeRolePolicyDocument") or document
        if size(trust) > TRUST:
            return "LimitExceeded", f"Cannot exceed quota for ACLSizePerRole: {TRUST}"
    return None


def _inline_sizes(kind: str, name: str, account: str, keep_out: Optional[str]) -> int:
    """The size of NAME's inline policies other than KEEP_OUT (which the request replaces)."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["global"]
    try:
        entity = {"user": backend.get_user, "group": backend.get_group,
                  "role": backend.get_role}[kind](name)
    except Exception:  # noqa: BLE001 - moto answers NoSuchEntity for a missing one itself
        return 0
    return sum(size(_text(doc)) for policy, doc in entity.policies.items() if policy != keep_out)


def _text(document) -> str:
    import json

    return document if isinstance(document, str) else json.dumps(document)
