"""Turn a caller and a needed permission into labkit.policy's Decision.

Adds the global condition keys AWS sets on every request (aws:SecureTransport,
aws:SourceIp, aws:RequestedRegion, aws:userid, ...), applies Block Public
Access RestrictPublicBuckets, and words the denial as the service would.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Dict, Iterator, List, Optional, Tuple

from labkit.emulator.authz import coverage
from labkit.emulator.authz.identity import Caller
from labkit.emulator.request import AwsRequest
from labkit.policy import (IMPLICIT_DENY, Decision, Request, evaluate, evaluate_all, is_public)


@dataclass
class Permission:
    """One permission a request needs: an action on a resource, with the request's own
    condition keys and the resource policies that must each permit it."""

    action: str
    resource: str
    context: Dict[str, object] = field(default_factory=dict)
    gates: Optional[list] = None      # (name, document) of resource policies that must permit
    resource_account: Optional[str] = None
    public_restricted: bool = False   # BPA RestrictPublicBuckets applies to the bucket


#: Every (permission, decision) made for the request being served, for its audit record.
_decisions: ContextVar[Optional[List[Tuple[Permission, Decision]]]] = ContextVar(
    "labkit_decisions", default=None)


@contextmanager
def recording() -> Iterator[List[Tuple[Permission, Decision]]]:
    """Collect every decision made inside the block (one request), in the order made."""
    made: List[Tuple[Permission, Decision]] = []
    token = _decisions.set(made)
    try:
        yield made
    finally:
        _decisions.reset(token)


def record(permission: Permission, decision: Decision) -> Decision:
    """Keep DECISION for the request's record; services that decide with rules of their own
    (a KMS key policy) call it for theirs, so no decision escapes the trail."""
    made = _decisions.get()
    if made is not None:
        made.append((permission, decision))
    return decision


def global_context(req: AwsRequest, caller: Caller) -> Dict[str, object]:
    """Global condition keys for REQ made by CALLER."""
    now = time.time()
    ctx: Dict[str, object] = {
        "aws:SecureTransport": "true" if req.secure else "false",
        "aws:SourceIp": req.source_ip,
        "aws:RequestedRegion": req.region,
        "aws:CurrentTime": datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now)),
        "aws:ViaAWSService": "false",  # clients call the emulator directly
    }
    for header, key in (("user-agent", "aws:UserAgent"), ("referer", "aws:Referer")):
        value = req.header(header)
        if value is not None:
            ctx[key] = value
    if caller.is_anonymous:
        return ctx
    ctx["aws:PrincipalAccount"] = caller.account_id
    ctx["aws:PrincipalType"] = {"root": "Account", "user": "User",
                                "assumed-role": "AssumedRole"}[caller.kind]
    if caller.user_id:
        ctx["aws:userid"] = caller.user_id
    if caller.kind == "user":
        ctx["aws:username"] = caller.name
        ctx["aws:PrincipalArn"] = caller.arn
    elif caller.kind == "root":
        ctx["aws:PrincipalArn"] = caller.arn
    elif caller.kind == "assumed-role":
        ctx["aws:PrincipalArn"] = caller.role_arn
    for key, value in caller.tags.items():
        ctx[f"aws:PrincipalTag/{key}"] = value
    if req.session_token:
        ctx["aws:TokenIssueTime"] = ctx["aws:CurrentTime"]
        # Temporary credentials carry the key; the lab has no MFA devices (IAM condition keys:
        # absent for long-term keys, false for sessions obtained without MFA).
        ctx["aws:MultiFactorAuthPresent"] = "false"
    return ctx


def decide(caller: Caller, check: Permission, base: Dict[str, object]) -> Decision:
    """The Decision for CHECK made by CALLER, with BASE as the global context (recorded)."""
    ctx = dict(base)
    ctx.update(check.context)
    request = Request(caller.arn, check.action, check.resource, ctx,
                      resource_account=check.resource_account)
    kwargs = dict(permissions_boundary=caller.boundary, session_policy=caller.session_policy)
    identity = caller.identity_policies
    if isinstance(check.gates, list):
        decision = evaluate_all(request, identity, check.gates, **kwargs)
    else:
        decision = evaluate(request, identity, check.gates, **kwargs)
    if decision.allowed and _public_grant_blocked(caller, check):
        decision = Decision(IMPLICIT_DENY, [], "resource", request)
    coverage.note_unfilled(decision, caller, check, ctx)
    return record(check, decision)


def _public_grant_blocked(caller: Caller, check: Permission) -> bool:
    """RestrictPublicBuckets: a public bucket policy grants nothing to anonymous or
    cross-account callers (AWS: only the owner's account and AWS services get in)."""
    if not check.public_restricted or not check.gates:
        return False
    if not caller.is_anonymous and caller.account_id == check.resource_account:
        return False
    gates = check.gates if isinstance(check.gates, list) else [check.gates]
    # RestrictPublicBuckets is about the bucket's policy (the gate named "bucket policy ...").
    return any(is_public(g[1]) for g in gates if g[0].startswith("bucket policy"))


def denial_message(caller: Caller, decision: Optional[Decision]) -> str:
    """The text AWS puts in the AccessDenied message for CALLER."""
    if decision is None:
        return "Access Denied"
    if caller.is_anonymous:
        return "Access Denied" + (f" [{'; '.join(decision.notes)}]" if decision.notes else "")
    # Actions without resource-level permissions: AWS names no resource.
    return decision.explained().replace(' on resource: "*"', "")
