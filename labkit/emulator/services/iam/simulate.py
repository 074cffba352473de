"""IAM SimulatePrincipalPolicy and SimulateCustomPolicy, served from labkit.policy.

moto raises NotImplementedError for both. Here the IAM query request is read
(``ActionNames.member.N``, ``ContextEntries.member.N.ContextKeyValues.member.M``,
...), the principal's policies come from moto's IAM backend (the same ones the
authorizer enforces), labkit.policy decides, and the result is written as the
IAM query XML that botocore's iam model parses.
"""
from __future__ import annotations

import re
import uuid
from typing import Dict, List, Optional
from xml.sax.saxutils import escape

from labkit.emulator.authz import errors
from labkit.emulator.authz.identity import boundary_policy, iam_backend, managed_document
from labkit.emulator.request import AwsRequest
from labkit.policy import PolicyError, simulate_custom_policy, simulate_principal_policy

OPERATIONS = ("SimulatePrincipalPolicy", "SimulateCustomPolicy")
_NS = "https://iam.amazonaws.com/doc/2010-05-08/"


# ----------------------------------------------------------------------------- parameters

def member_list(params: Dict[str, List[str]], name: str) -> List[str]:
    """Values of NAME.member.1, NAME.member.2, ... in order."""
    found = []
    pattern = re.compile(rf"^{re.escape(name)}\.member\.(\d+)$")
    for key, values in params.items():
        m = pattern.match(key)
        if m:
            found.append((int(m.group(1)), values[0]))
    return [v for _, v in sorted(found)]


def context_entries(params: Dict[str, List[str]]) -> List[dict]:
    """ContextEntries.member.N.{ContextKeyName,ContextKeyType,ContextKeyValues.member.M}."""
    indexes = sorted({int(m.group(1)) for k in params
                      for m in [re.match(r"^ContextEntries\.member\.(\d+)\.", k)] if m})
    entries = []
    for i in indexes:
        prefix = f"ContextEntries.member.{i}"
        entries.append({
            "ContextKeyName": (params.get(f"{prefix}.ContextKeyName") or [""])[0],
            "ContextKeyType": (params.get(f"{prefix}.ContextKeyType") or ["string"])[0],
            "ContextKeyValues": member_list(params, f"{prefix}.ContextKeyValues"),
        })
    return entries


def _common(req: AwsRequest) -> dict:
    p = req.params
    kwargs = {
        "ActionNames": member_list(p, "ActionNames"),
        "PolicyInputList": member_list(p, "PolicyInputList"),
        "PermissionsBoundaryPolicyInputList": member_list(p, "PermissionsBoundaryPolicyInputList")
        or None,
        "ResourceArns": member_list(p, "ResourceArns") or None,
        "ResourcePolicy": req.param("ResourcePolicy"),
        "ResourceOwner": req.param("ResourceOwner"),
        "CallerArn": req.param("CallerArn"),
        "ContextEntries": context_entries(p),
    }
    return kwargs


# ----------------------------------------------------------------------------- principals

def principal_policies(arn: str) -> Dict[str, dict]:
    """{arn: {"policies": [(name, doc, source type)], "boundary": doc}} from moto's IAM."""
    m = re.match(r"^arn:aws:iam::(\d{12}):(user|role)/(?:.*/)?([^/]+)$", arn or "")
    if m is None:
        raise ValueError(f"PolicySourceArn {arn!r} must be an IAM user or role ARN "
                         "(arn:aws:iam::ACCOUNT:user/NAME)")
    account, kind, name = m.groups()
    backend = iam_backend(account)
    entity = backend.users.get(name) if kind == "user" else next(
        (r for r in backend.roles.values() if r.name == name), None)
    if entity is None:
        raise LookupError(f"The {kind} with name {name} cannot be found.")
    policies = [(n, d, kind) for n, d in entity.policies.items()]
    policies += [(p.name, managed_document(p), _managed_type(p.arn))
                 for p in entity.managed_policies.values()]
    if kind == "user":
        for group in backend.groups.values():
            if entity in group.users:
                policies += [(f"{group.name}/{n}", d, "group") for n, d in group.policies.items()]
                policies += [(p.name, managed_document(p), _managed_type(p.arn))
                             for p in group.managed_policies.values()]
    boundary = boundary_policy(backend, getattr(entity, "permissions_boundary_arn", None))
    return {arn: {"policies": policies, "boundary": boundary[1] if boundary else None}}


def _managed_type(arn: str) -> str:
    return "aws-managed" if ":aws:policy/" in arn else "user-managed"


# ----------------------------------------------------------------------------- serving

def handle(req: AwsRequest) -> errors.Response:
    """Answer a Simulate* IAM request (already authorized)."""
    kwargs = _common(req)
    try:
        if req.operation == "SimulatePrincipalPolicy":
            source = req.param("PolicySourceArn")
            result = simulate_principal_policy(source, policies=principal_policies(source),
                                               **kwargs)
        else:
            if not kwargs["PolicyInputList"]:
                raise ValueError("PolicyInputList must hold at least one policy document")
            result = simulate_custom_policy(**kwargs)
    except LookupError as exc:
        return errors.error(req, 404, "NoSuchEntity", str(exc).strip("'\""))
    except PolicyError as exc:
        return errors.error(req, 400, "MalformedPolicyDocument", str(exc))
    except ValueError as exc:
        return errors.error(req, 400, "InvalidInput", str(exc))
    return 200, [("Content-Type", "text/xml")], render(req.operation, result)


def _xml_value(value, name: Optional[str] = None) -> str:
    if isinstance(value, dict):
        if name == "EvalDecisionDetails":
            return "".join(f"<entry><key>{escape(k)}</key><value>{escape(v)}</value></entry>"
                           for k, v in value.items())
        return "".join(f"<{k}>{_xml_value(v, k)}</{k}>" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "".join(f"<member>{_xml_value(v)}</member>" for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def render(operation: str, result: dict) -> bytes:
    """IAM query XML for a simulate result dict (boto3's response shape)."""
    body = (f'<{operation}Response xmlns="{_NS}"><{operation}Result>{_xml_value(result)}'
            f'</{operation}Result><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId>'
            f"</ResponseMetadata></{operation}Response>")
    return body.encode("utf-8")
