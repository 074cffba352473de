"""Offline look-alikes of IAM's SimulateCustomPolicy and SimulatePrincipalPolicy.

Same argument names and response shape as boto3's ``iam.simulate_custom_policy``
and ``iam.simulate_principal_policy``, so a lesson can teach the real call and
still get an answer offline (moto raises NotImplementedError for both).

Differences from IAM, by design: no paging (IsTruncated is always False);
SimulatePrincipalPolicy reads the principal's policies from an ``iam`` client
you pass (e.g. the emulator's boto3 client) or from a ``policies`` mapping;
MissingContextValues lists the condition keys of the statements that matched
the action and were absent from the context.
"""
from __future__ import annotations

import json
import urllib.parse
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from labkit.config import EMULATOR_ACCOUNT_ID
from labkit.policy.document import Policy, parse_policy
from labkit.policy.evaluate import (ALLOWED, EXPLICIT_DENY, Request, _Evaluation, _gates,
                                    build_context)
from labkit.policy.principals import parse_principal

_EVAL = {ALLOWED: "allowed", EXPLICIT_DENY: "explicitDeny"}


def simulate_custom_policy(PolicyInputList: Sequence, ActionNames: Sequence[str],
                           PermissionsBoundaryPolicyInputList: Optional[Sequence] = None,
                           ResourceArns: Optional[Sequence[str]] = None,
                           ResourcePolicy=None, ResourceOwner: Optional[str] = None,
                           CallerArn: Optional[str] = None,
                           ContextEntries: Optional[Sequence[Mapping]] = None,
                           **_ignored) -> Dict[str, Any]:
    """Offline ``iam.simulate_custom_policy``: evaluate every action on every resource.

    PolicyInputList entries are JSON strings (as for IAM) or dicts. Returns
    ``{"EvaluationResults": [...], "IsTruncated": False}``.
    """
    if not ActionNames:
        raise ValueError("ActionNames must list at least one action, e.g. [\"s3:GetObject\"]")
    if ResourcePolicy is not None and not CallerArn:
        raise ValueError("InvalidInput: CallerArn is required when ResourcePolicy is given "
                         "(which principal should the resource policy be evaluated for?)")
    sources = [(f"PolicyInputList.{i + 1}", "none", doc) for i, doc in enumerate(PolicyInputList)]
    return _simulate(sources, ActionNames, PermissionsBoundaryPolicyInputList, ResourceArns,
                     ResourcePolicy, ResourceOwner,
                     CallerArn or f"arn:aws:iam::{EMULATOR_ACCOUNT_ID}:user/SimulatedUser",
                     ContextEntries)


def simulate_principal_policy(PolicySourceArn: str, ActionNames: Sequence[str],
                              PolicyInputList: Optional[Sequence] = None,
                              PermissionsBoundaryPolicyInputList: Optional[Sequence] = None,
                              ResourceArns: Optional[Sequence[str]] = None,
                              ResourcePolicy=None, ResourceOwner: Optional[str] = None,
                              CallerArn: Optional[str] = None,
                              ContextEntries: Optional[Sequence[Mapping]] = None,
                              *, iam=None, policies: Optional[Mapping] = None,
                              **_ignored) -> Dict[str, Any]:
    """Offline ``iam.simulate_principal_policy`` for a user or role ARN.

    The principal's policies come from ``iam`` (a boto3 IAM client: inline,
    attached and group policies and the permissions boundary are read) or from
    ``policies``: ``{arn: {"policies": [(name, doc, source_type), ...],
    "boundary": doc}}``. Extra PolicyInputList entries are added, as in IAM.
    """
    if iam is None and policies is None:
        raise ValueError("simulate_principal_policy needs the principal's policies offline: pass "
                         "iam=<boto3 IAM client> or policies={arn: {...}}")
    found, boundary = (_from_mapping(policies, PolicySourceArn) if policies is not None
                       else _from_client(iam, PolicySourceArn))
    sources = list(found) + [(f"PolicyInputList.{i + 1}", "none", doc)
                             for i, doc in enumerate(PolicyInputList or ())]
    if PermissionsBoundaryPolicyInputList:
        boundary = PermissionsBoundaryPolicyInputList
    elif boundary is not None:
        boundary = [boundary]
    return _simulate(sources, ActionNames, boundary, ResourceArns, ResourcePolicy,
                     ResourceOwner, CallerArn or PolicySourceArn, ContextEntries)


# ----------------------------------------------------------------------------- core

def _simulate(sources, actions, boundary_list, resources, resource_policy, owner, caller,
              context_entries) -> Dict[str, Any]:
    parsed = [(parse_policy(doc, sid, "identity"), stype, doc) for sid, stype, doc in sources]
    boundary = None
    if boundary_list:
        # IAM takes a list but a principal has one boundary; use the first.
        boundary = parse_policy(boundary_list[0], "PermissionsBoundaryPolicyInputList.1",
                                "boundary")
    gates = _gates(("ResourcePolicy", resource_policy)) if resource_policy is not None else []
    context = _context(context_entries)
    account = _owner_account(owner)
    by_id = {p.name: (p, stype, doc) for p, stype, doc in parsed}
    if boundary is not None:
        by_id[boundary.name] = (boundary, "none", boundary_list[0])
    for p, _ in gates:
        by_id[p.name] = (p, "resource", resource_policy)
    results = []
    for action in actions:
        for resource in resources or ["*"]:
            req = Request(caller, action, resource, context, account)
            ev = _Evaluation(req, [p for p, _, _ in parsed], gates, boundary, None)
            results.append(_result(req, ev, ev.decide(), by_id, parsed, boundary))
    return {"EvaluationResults": results, "IsTruncated": False}


def _result(req, ev, d, by_id, parsed, boundary) -> Dict[str, Any]:
    """One EvaluationResult. As IAM: missing context keys are listed at the top for the
    resource "*", else under ResourceSpecificResults; EvalDecisionDetails is absent for
    "*" in one account, empty for an ARN in one account, filled for cross-account."""
    decision = _EVAL.get(d.decision, "implicitDeny")
    matched = [_matched(r, by_id) for r in d.reasons if r.policy in by_id]
    missing = _missing(req, [p for p, _, _ in parsed])
    out = {
        "EvalActionName": req.action,
        "EvalResourceName": req.resource,
        "EvalDecision": decision,
        "MatchedStatements": matched,
        "MissingContextValues": missing if req.resource == "*" else [],
    }
    if req.resource != "*":
        out["ResourceSpecificResults"] = [{
            "EvalResourceName": req.resource, "EvalResourceDecision": decision,
            "MatchedStatements": matched, "MissingContextValues": missing}]
    if not ev.same_account and ev.signed:
        out["EvalDecisionDetails"] = _cross_account_details(ev)
    elif req.resource != "*":
        out["EvalDecisionDetails"] = {}
    if boundary is not None:
        out["PermissionsBoundaryDecisionDetail"] = {
            "AllowedByPermissionsBoundary": d.denied_by != "boundary" and not any(
                r.policy_type == "boundary" and r.effect == "Deny" for r in d.reasons)}
    return out


def _cross_account_details(ev) -> Dict[str, str]:
    """How each side of a cross-account request decided (IAM's EvalDecisionDetails)."""
    if ev.ident.denies or ev.bound.denies:
        identity = "explicitDeny"
    elif ev.identity_effective(ev.req.resource):
        identity = "allowed"
    else:
        identity = "implicitDeny"
    details = {"IAM Policy": identity}
    if ev.gate_sides:
        sides = [side for _, side in ev.gate_sides]
        details["Resource Policy"] = ("explicitDeny" if any(s.denies for s in sides) else
                                      "allowed" if all(s.allows for s in sides) else "implicitDeny")
    return details


def _matched(reason, by_id) -> Dict[str, Any]:
    policy, stype, doc = by_id[reason.policy]
    index = next((st.index for st in policy.statements if st.label == reason.statement), None)
    start, end = _positions(doc, index) if index is not None else _positions("", 0)
    return {"SourcePolicyId": reason.policy, "SourcePolicyType": stype,
            "StartPosition": start, "EndPosition": end}


def _missing(req: Request, policies: List[Policy]) -> List[str]:
    info = parse_principal(req.principal)
    ctx = build_context(req, info, req.resource_account or info.account)
    action_l = req.action.lower()
    missing = []
    for p in policies:
        for st in p.statements:
            if not st.action_matches(action_l):
                continue
            for c in st.conditions:
                name = _original_key(st, c.key)
                if c.key not in ctx and name not in missing:
                    missing.append(name)
    return missing


def _original_key(st, key_lower: str) -> str:
    for pairs in (st.raw.get("Condition") or {}).values():
        for k in pairs:
            if k.lower() == key_lower:
                return k
    return key_lower


def _context(entries) -> Dict[str, Any]:
    ctx: Dict[str, Any] = {}
    for e in entries or ():
        try:
            name, values = e["ContextKeyName"], e["ContextKeyValues"]
        except (KeyError, TypeError):
            raise ValueError("each ContextEntries item needs ContextKeyName and ContextKeyValues, "
                             "e.g. {\"ContextKeyName\": \"aws:SourceIp\", \"ContextKeyValues\": "
                             "[\"10.0.0.1\"], \"ContextKeyType\": \"ip\"}") from None
        ctx[name] = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    return ctx


def _owner_account(owner: Optional[str]) -> Optional[str]:
    """ResourceOwner is an account id or arn:aws:iam::ACCOUNT:root."""
    if not owner:
        return None
    if owner.startswith("arn:"):
        return owner.split(":")[4].split("-")[0]
    return owner


def _positions(doc, index: int) -> Tuple[Dict[str, int], Dict[str, int]]:
    """1-based line/column where statement INDEX starts and ends in DOC's JSON text."""
    text = doc if isinstance(doc, str) else json.dumps(doc, indent=4)
    span = _statement_span(text, index)
    if span is None:
        return {"Line": 1, "Column": 1}, {"Line": 1, "Column": 1}
    return _line_col(text, span[0]), _line_col(text, span[1])


def _statement_span(text: str, index: int) -> Optional[Tuple[int, int]]:
    decoder = json.JSONDecoder()
    key = text.find('"Statement"')
    if key < 0:
        return None
    pos = text.index(":", key) + 1
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos < len(text) and text[pos] == "[":
        pos += 1
    for i in range(index + 1):
        while pos < len(text) and (text[pos].isspace() or text[pos] == ","):
            pos += 1
        try:
            _, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            return None
        if i == index:
            return pos, end
        pos = end
    return None


def _line_col(text: str, offset: int) -> Dict[str, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return {"Line": line, "Column": col}


# ----------------------------------------------------------------------------- sources

def _from_mapping(policies: Mapping, arn: str):
    entry = policies.get(arn)
    if entry is None:
        raise ValueError(f"NoSuchEntity: no policies are known for {arn}; known: {sorted(policies)}")
    found = []
    for item in entry.get("policies", ()):
        name, doc = item[0], item[1]
        stype = item[2] if len(item) > 2 else "user"
        found.append((name, stype, doc))
    return found, entry.get("boundary")


def _doc(value):
    """IAM returns documents URL-encoded; boto3 usually decodes them to dicts."""
    if isinstance(value, str) and value.lstrip().startswith("%7B"):
        return urllib.parse.unquote(value)
    return value


def _managed(iam, policy_arn: str):
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    return _doc(iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)
                ["PolicyVersion"]["Document"])


def _managed_type(policy_arn: str) -> str:
    return "aws-managed" if ":aws:policy/" in policy_arn else "user-managed"


def _from_client(iam, arn: str):
    """Read a user's or role's inline, attached and group policies and its boundary."""
    kind = arn.split(":", 5)[5].split("/", 1)[0] if arn.count(":") >= 5 else ""
    name = arn.rsplit("/", 1)[-1]
    found = []
    if kind == "user":
        for pname in iam.list_user_policies(UserName=name)["PolicyNames"]:
            found.append((pname, "user",
                          _doc(iam.get_user_policy(UserName=name, PolicyName=pname)["PolicyDocument"])))
        for att in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
            found.append((att["PolicyName"], _managed_type(att["PolicyArn"]),
                          _managed(iam, att["PolicyArn"])))
        for group in iam.list_groups_for_user(UserName=name)["Groups"]:
            found += _group_policies(iam, group["GroupName"])
        boundary = iam.get_user(UserName=name)["User"].get("PermissionsBoundary")
    elif kind == "role":
        for pname in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            found.append((pname, "role",
                          _doc(iam.get_role_policy(RoleName=name, PolicyName=pname)["PolicyDocument"])))
        for att in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            found.append((att["PolicyName"], _managed_type(att["PolicyArn"]),
                          _managed(iam, att["PolicyArn"])))
        boundary = iam.get_role(RoleName=name)["Role"].get("PermissionsBoundary")
    else:
        raise ValueError(f"PolicySourceArn {arn!r} must be an IAM user or role ARN")
    boundary_doc = _managed(iam, boundary["PermissionsBoundaryArn"]) if boundary else None
    return found, boundary_doc


def _group_policies(iam, group: str):
    found = []
    for pname in iam.list_group_policies(GroupName=group)["PolicyNames"]:
        doc = iam.get_group_policy(GroupName=group, PolicyName=pname)["PolicyDocument"]
        found.append((f"group {group}/{pname}", "group", _doc(doc)))
    for att in iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"]:
        found.append((f"group {group}/{att['PolicyName']}", _managed_type(att["PolicyArn"]),
                      _managed(iam, att["PolicyArn"])))
    return found
