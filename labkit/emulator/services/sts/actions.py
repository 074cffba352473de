"""sts:AssumeRole: the role's trust policy must let the caller in, as on AWS.

AWS rules implemented (IAM "how roles work" / "policy evaluation logic"):
- the root user cannot assume roles ("Roles may not be assumed by root accounts");
- a role that does not exist cannot be assumed (AccessDenied);
- the trust policy must have an Allow naming the caller (its ARN, its role,
  its account, or ``*``) whose conditions hold (sts:ExternalId, ...);
- when the trust policy names only the caller's account, the caller also
  needs an identity-policy Allow for sts:AssumeRole on the role (same-account
  delegation), which is labkit.policy's ordinary resource-policy rule;
- explicit denies anywhere still win.
"""
from __future__ import annotations

from typing import Optional

from labkit.emulator.authz.identity import Caller, iam_backend
from labkit.emulator.request import AwsRequest
from labkit.policy import IMPLICIT_DENY, Decision, Request, evaluate, parse_policy
from labkit.policy.evaluate import build_context
from labkit.policy.principals import NO_MATCH, parse_principal, statement_names
from labkit.policy.matching import parse_arn

ROOT_REFUSAL = "Roles may not be assumed by root accounts."


def find_role(role_arn: str):
    """moto's Role for ROLE_ARN, or None."""
    parts = parse_arn(role_arn)
    if parts is None or not parts[3].isdigit():
        return None
    roles = iam_backend(parts[3]).roles
    return next((r for r in list(roles.values()) if r.arn == role_arn), None)


def max_session_duration(role_arn: str, account_id) -> int:
    """The role's MaxSessionDuration in seconds (3600 when unset or unknown)."""
    role = find_role(role_arn or "")
    try:
        return int(getattr(role, "max_session_duration", None) or 3600)
    except (TypeError, ValueError):
        return 3600


def trust_context(req: AwsRequest) -> dict:
    ctx = {}
    for param, key in (("ExternalId", "sts:ExternalId"), ("RoleSessionName", "sts:RoleSessionName"),
                       ("SourceIdentity", "sts:SourceIdentity")):
        value = req.param(param)
        if value is not None:
            ctx[key] = value
    return ctx


def decide_assume_role(req: AwsRequest, caller: Caller, base: dict) -> Optional[Decision]:
    """The Decision for AssumeRole (None means: refuse as root, see ROOT_REFUSAL)."""
    role_arn = req.param("RoleArn") or ""
    if caller.is_root:
        return None
    ctx = dict(base)
    ctx.update(trust_context(req))
    parts = parse_arn(role_arn)
    account = parts[3] if parts is not None else None
    request = Request(caller.arn, "sts:AssumeRole", role_arn or "*", ctx, resource_account=account)
    role = find_role(role_arn)
    if role is None:
        return Decision(IMPLICIT_DENY, [], "resource", request)
    trust = parse_policy(role.assume_role_policy_document, f"trust policy {role.name}", "trust")
    decision = evaluate(request, caller.identity_policies, (trust.name, trust),
                        permissions_boundary=caller.boundary, session_policy=caller.session_policy)
    if decision.allowed and not _trust_names(trust, request):
        return Decision(IMPLICIT_DENY, [], "resource", request)
    tags = session_tags(req)
    if decision.allowed and tags:
        # IAM "Passing session tags in AWS STS": passing tags needs sts:TagSession, allowed
        # by the trust policy (and the caller's policies), with aws:RequestTag / aws:TagKeys.
        ctx = dict(ctx, **{f"aws:RequestTag/{k}": v for k, v in tags.items()})
        ctx["aws:TagKeys"] = sorted(tags)
        tag_request = Request(caller.arn, "sts:TagSession", role_arn, ctx,
                              resource_account=account)
        decision = evaluate(tag_request, caller.identity_policies, (trust.name, trust),
                            permissions_boundary=caller.boundary,
                            session_policy=caller.session_policy)
        if decision.allowed and not _trust_names(trust, tag_request, "sts:tagsession"):
            return Decision(IMPLICIT_DENY, [], "resource", tag_request)
    return decision


def session_tags(req: AwsRequest) -> dict:
    """The Tags of an AssumeRole request as {key: value}."""
    from labkit.emulator.services.sts.behaviour import session_tags as parse

    return parse(req.params)


def _trust_names(trust, request: Request, action: str = "sts:assumerole") -> bool:
    """True if an Allow statement of the trust policy names the caller and its conditions hold."""
    info = parse_principal(request.principal)
    ctx = build_context(request, info, request.resource_account)
    for st in trust.statements:
        if st.effect != "Allow" or not st.action_matches(action):
            continue
        if st.principal is None or statement_names(st.principal, st.not_principal, info) == NO_MATCH:
            continue
        if st.conditions_hold(ctx):
            return True
    return False


def resource(req: AwsRequest, op: str, account: str, caller_arn: str, path_params: dict):
    """STS calls are decided on the role they name (AssumeRole's RoleArn), else "*"."""
    return req.param("RoleArn") if op == "AssumeRole" else None
