"""Turn a caller and a needed permission into labkit.policy's Decision.

Adds the global condition keys AWS sets on every request (aws:SecureTransport,
aws:SourceIp, aws:RequestedRegion, aws:userid, ...), applies Block Public
Access RestrictPublicBuckets, and words the denial as the service would.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Dict, Optional

from labkit.emulator.authz import coverage
from labkit.emulator.authz.identity import Caller
from labkit.emulator.services.s3.actions import Check
from labkit.emulator.request import AwsRequest
from labkit.policy import (IMPLICIT_DENY, Decision, Request, evaluate, evaluate_all, is_public)


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
        ctx["aws:PrincipalArn"] = caller.arn.replace(":sts::", ":iam::").replace(
            ":assumed-role/", ":role/").rsplit("/", 1)[0]
    for key, value in caller.tags.items():
        ctx[f"aws:PrincipalTag/{key}"] = value
    if req.session_token:
        ctx["aws:TokenIssueTime"] = ctx["aws:CurrentTime"]
        # Temporary credentials carry the key; the lab has no MFA devices (IAM condition keys:
        # absent for long-term keys, false for sessions obtained without MFA).
        ctx["aws:MultiFactorAuthPresent"] = "false"
    return ctx


def decide(caller: Caller, check: Check, base: Dict[str, object]) -> Decision:
    """The Decision for CHECK made by CALLER, with BASE as the global context."""
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
    return decision


def _public_grant_blocked(caller: Caller, check: Check) -> bool:
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
