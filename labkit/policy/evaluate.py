"""The decision: Request, Decision, Reason, evaluate, evaluate_all.

What is implemented (AWS "policy evaluation logic", same-account and
cross-account pages):

1. An explicit Deny in any policy that applies (identity, resource, permissions
   boundary, session) denies.
2. Same account (principal's account == resource account): an Allow in an
   identity policy (limited by the permissions boundary and session policy when
   given) allows; so does an Allow in the resource policy that names
   - the caller's exact ARN (user, role session, root): not limited by a
     boundary or session policy, as AWS documents;
   - the caller's role (for a role session) or ``"*"``: limited by the boundary
     and session policy;
   - the caller's account (root ARN / account id): that only delegates to the
     account, so by itself it allows only the root user.
3. Cross account: the identity side (with boundary and session policy) AND the
   resource policy must both allow (a resource policy naming the caller's
   account suffices on the resource side).
4. The root user needs no identity policy; boundaries do not apply to it;
   explicit denies in resource policies still do, except that the bucket owner's
   root may always get, put and delete its bucket policy (S3 DeleteBucketPolicy
   API reference: lockout recovery; needs ``resource_account``).
5. Anonymous callers (:data:`ANONYMOUS`) and service principals have no
   identity policies: only a resource-policy Allow naming them (or ``"*"``) allows.
6. Several resource policies (``evaluate_all``, or a list for
   ``resource_policy``) are *gates* that must each let the request through, as
   for S3 access points, where both the access point policy and the bucket
   policy must permit the request. Each gate is decided as in 2/3 with the same
   identity policies, so an identity Allow passes every gate in the same
   account, and a bucket policy that delegates to access points (Allow "*" on
   condition s3:DataAccessPointAccount) passes the bucket gate. A gate may be
   ``(name, doc, resource_arn)`` to be evaluated against its own resource ARN
   (the access point ARN for the access point policy, the bucket/object ARN for
   the bucket policy); identity policies are then checked against each gate's
   resource too.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from labkit.policy.document import Policy, parse_policy
from labkit.policy.principals import (ACCOUNT, ANONYMOUS, DIRECT, NO_MATCH, PUBLIC, ROLE,
                                      PrincipalInfo, parse_principal, statement_names)

ContextValue = Union[str, Sequence[str]]

ALLOWED = "allowed"
EXPLICIT_DENY = "explicit_deny"
IMPLICIT_DENY = "implicit_deny"

_POLICY_TYPE_TEXT = {
    "identity": "an identity-based policy",
    "resource": "a resource-based policy",
    "boundary": "a permissions boundary",
    "session": "a session policy",
}
#: S3 actions the bucket owner's root keeps whatever the bucket policy says.
_BUCKET_POLICY_ACTIONS = frozenset({"s3:getbucketpolicy", "s3:putbucketpolicy",
                                    "s3:deletebucketpolicy"})
_NO_ALLOW_TEXT = {
    "identity": "no identity-based policy allows",
    "resource": "no resource-based policy allows",
    "boundary": "no permissions boundary allows",
    "session": "no session policy allows",
}


class Request:
    """One request to authorize.

    ``principal``: an IAM/STS ARN, a service principal, or :data:`ANONYMOUS`.
    ``context``: condition keys -> a string or a list of strings (keys are
    case-insensitive; None removes the key, even a derived one). ``resource_account`` defaults to the principal's account.
    """

    __slots__ = ("principal", "action", "resource", "context", "resource_account")

    def __init__(self, principal: str, action: str, resource: str,
                 context: Optional[Mapping[str, Any]] = None,
                 resource_account: Optional[str] = None):
        if not isinstance(principal, str) or not principal:
            raise TypeError("Request.principal must be an ARN string or labkit.policy.ANONYMOUS")
        if not isinstance(action, str) or action.count(":") != 1 or "*" in action:
            raise ValueError(f"Request.action must be one service:Action such as s3:GetObject "
                             f"(no wildcards), not {action!r}")
        if not isinstance(resource, str) or not resource:
            raise ValueError("Request.resource must be an ARN string (or \"*\")")
        self.principal, self.action, self.resource = principal, action, resource
        self.context = dict(context or {})
        self.resource_account = resource_account
        parse_principal(principal)  # fail early with a clear message

    def __repr__(self) -> str:
        return (f"Request(principal={self.principal!r}, action={self.action!r}, "
                f"resource={self.resource!r}, context={self.context!r}, "
                f"resource_account={self.resource_account!r})")


class Reason:
    """A statement that decided: ``str()`` is e.g. "engineer_access/Sid DenyUnencrypted (Deny)"."""

    __slots__ = ("policy", "statement", "effect", "policy_type")

    def __init__(self, policy: str, statement: str, effect: str, policy_type: str = "identity"):
        self.policy, self.statement, self.effect = policy, statement, effect
        self.policy_type = policy_type

    def __str__(self) -> str:
        return f"{self.policy}/{self.statement} ({self.effect})"

    def __repr__(self) -> str:
        return f"Reason({self.policy!r}, {self.statement!r}, {self.effect!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Reason) and (self.policy, self.statement, self.effect) == (
            other.policy, other.statement, other.effect)

    def __hash__(self) -> int:
        return hash((self.policy, self.statement, self.effect))


class Decision:
    """The outcome: ``decision`` ("allowed" | "explicit_deny" | "implicit_deny"),
    ``allowed``, ``reasons``, ``denied_by`` ("identity" | "resource" | "boundary" |
    "session" | None), ``request``; ``str()``/``message()`` read like AWS's AccessDenied."""

    __slots__ = ("decision", "reasons", "denied_by", "request", "notes")

    def __init__(self, decision: str, reasons: List[Reason], denied_by: Optional[str],
                 request: Request, notes: Optional[List[str]] = None):
        self.decision, self.reasons, self.denied_by, self.request = (
            decision, reasons, denied_by, request)
        # What the caller (the emulator) could not model faithfully for this request.
        self.notes: List[str] = list(notes or [])

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOWED

    def message(self) -> str:
        """One sentence in the style of AWS's AccessDenied messages."""
        r = self.request
        who = "anonymous" if r.principal == ANONYMOUS else r.principal
        if self.allowed:
            by = ", ".join(str(x) for x in self.reasons) or "policy"
            return (f"Allowed: User: {who} may perform: {r.action} on resource: "
                    f"\"{r.resource}\" by {by}")
        head = (f"User: {who} is not authorized to perform: {r.action} on resource: "
                f"\"{r.resource}\"")
        if self.decision == EXPLICIT_DENY:
            return f"{head} with an explicit deny in {_POLICY_TYPE_TEXT[self.denied_by]}"
        return f"{head} because {_NO_ALLOW_TEXT[self.denied_by]} the {r.action} action"

    __str__ = message

    def explained(self) -> str:
        """message() plus the notes on what could not be decided faithfully, if any."""
        text = self.message()
        return f"{text} [{'; '.join(self.notes)}]" if self.notes else text

    def __repr__(self) -> str:
        return f"<Decision {self.decision} denied_by={self.denied_by} reasons={self.reasons}>"


# ----------------------------------------------------------------------------- inputs

def _named(item, default_name: str, kind: str) -> Policy:
    """A policy from a doc, a JSON string, a Policy, or a (name, doc) pair."""
    if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str) \
            and not item[0].lstrip().startswith("{"):
        return parse_policy(item[1], item[0], kind)
    return parse_policy(item, default_name, kind)


def _is_pair(item) -> bool:
    """True for a single (name, doc) pair (a name is not JSON text)."""
    return (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
            and not item[0].lstrip().startswith("{"))


def _identity_list(policies) -> List[Policy]:
    if policies is None:
        return []
    if (isinstance(policies, (dict, str, bytes, Policy)) or _is_pair(policies)
            or not hasattr(policies, "__iter__")):
        # One document (or something parse_policy will explain is not one).
        policies = [policies]
    return [_named(p, f"identity policy {i + 1}", "identity") for i, p in enumerate(policies)]


def _is_single(item) -> bool:
    """True if ITEM is one resource policy (doc, JSON, Policy, (name, doc), (name, doc, arn))."""
    if isinstance(item, (dict, str, bytes, Policy)):
        return True
    return (isinstance(item, tuple) and len(item) in (2, 3) and isinstance(item[0], str)
            and not item[0].lstrip().startswith("{"))


def _gates(resource_policies) -> List[Tuple[Policy, Optional[str]]]:
    """Normalise resource policies into (Policy, resource override) gates."""
    if resource_policies is None:
        return []
    single = _is_single(resource_policies) or not hasattr(resource_policies, "__iter__")
    # Anything that is not a list is one document: parse_policy then says what is wrong.
    items = [resource_policies] if single else list(resource_policies)
    gates = []
    for i, item in enumerate(items):
        default = "resource policy" if len(items) == 1 else f"resource policy {i + 1}"
        override = None
        if isinstance(item, tuple) and len(item) == 3:
            override = item[2]
            item = item[:2]
        gates.append((_named(item, default, "resource"), override))
    return gates


def _optional(doc, default_name: str, kind: str) -> Optional[Policy]:
    return None if doc is None else _named(doc, default_name, kind)


# ----------------------------------------------------------------------------- context

def _values(key: str, v) -> Tuple[str, ...]:
    if isinstance(v, str):
        return (v,)
    if isinstance(v, bool):
        return ("true" if v else "false",)
    if isinstance(v, (int, float)):
        return (str(v),)
    if isinstance(v, (list, tuple, set, frozenset)):
        return tuple(_values(key, x)[0] for x in v)
    raise TypeError(f"context value for {key!r} must be a string or a list of strings, "
                    f"not {type(v).__name__}")


_CLOCK = [-1, ("",), ("",)]


def _now() -> Tuple[Tuple[str], Tuple[str]]:
    """(aws:CurrentTime, aws:EpochTime) values, formatted once per second."""
    second = int(time.time())
    if second != _CLOCK[0]:
        text = datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        _CLOCK[:] = [second, (text,), (str(second),)]
    return _CLOCK[1], _CLOCK[2]


def build_context(request: Request, info: PrincipalInfo, resource_account: Optional[str]) -> dict:
    """The request context: derived global keys, then the caller's keys (lower-cased)."""
    current, epoch = _now()
    ctx = {
        "aws:currenttime": current,
        "aws:epochtime": epoch,
        "aws:principaltype": (info.principal_type,),
        "aws:principalisawsservice": ("true" if info.kind == "service" else "false",),
    }
    if info.account:
        ctx["aws:principalarn"] = (info.role_arn or info.arn,)
        ctx["aws:principalaccount"] = (info.account,)
    if info.kind == "user":
        ctx["aws:username"] = (info.name,)
    elif info.kind == "root":
        ctx["aws:userid"] = (info.account,)
    if resource_account:
        ctx["aws:resourceaccount"] = (resource_account,)
    for k, v in request.context.items():
        if v is None:  # None means "not in the request": drop a derived value too
            ctx.pop(k.lower(), None)
        else:
            ctx[k.lower()] = _values(k, v)
    return ctx


# ----------------------------------------------------------------------------- scanning

def matching_statements(policy: Policy, action_l: str, resource: str, ctx, info=None,
                        bounded=False):
    """(allows, denies) of POLICY for the request; allows carry the principal match level.

    Public because a KMS key policy is read with its own rules on the same statements
    (services/kms/access.py): it needs each matching statement and its principal level.

    BOUNDED: the caller has a permissions boundary. AWS documents that a Deny
    with NotPrincipal then denies it whatever NotPrincipal names.
    """
    allows, denies = [], []
    for st in policy.for_action(action_l):
        res = st.resources
        if res is not None:
            # Inline fast path of ArnMatcher.matches: this loop runs on every request.
            hit = res.match_all or resource in res.exact or (
                res.regex is not None and res.regex.fullmatch(resource) is not None) or (
                bool(res.dynamic) and res.matches(resource, ctx))
            if hit == st.not_resource:
                continue
        level = DIRECT
        if st.principal is not None:
            if bounded and st.not_principal and st.effect == "Deny":
                level = PUBLIC
            else:
                level = statement_names(st.principal, st.not_principal, info)
            if level == NO_MATCH:
                continue
        if st.conditions and not st.conditions_hold(ctx):
            continue
        if st.effect == "Deny":
            denies.append(st)
        else:
            allows.append((st, level))
    return allows, denies


def _reasons(policy: Policy, statements, kind: str) -> List[Reason]:
    return [Reason(policy.name, st.label, st.effect, kind) for st in statements]


class _Side:
    """Allows and denies collected for one kind of policy."""

    __slots__ = ("allows", "denies")

    def __init__(self):
        self.allows: List[Tuple[Reason, int]] = []
        self.denies: List[Reason] = []

    def add(self, policy: Policy, found, kind: str) -> None:
        allows, denies = found
        self.allows.extend((Reason(policy.name, st.label, "Allow", kind), lvl) for st, lvl in allows)
        self.denies.extend(_reasons(policy, denies, kind))


def evaluate(request: Request, identity_policies: Iterable = (), resource_policy=None,
             permissions_boundary=None, session_policy=None) -> Decision:
    """Decide REQUEST as AWS would; see the module docstring for the exact rules.

    Policies are dicts, JSON strings, or (name, doc) pairs; ``resource_policy``
    may also be a list (each entry a gate, as in :func:`evaluate_all`).
    Raises PolicyError for a malformed policy.
    """
    return _decide(request, _identity_list(identity_policies), _gates(resource_policy),
                   _optional(permissions_boundary, "permissions boundary", "boundary"),
                   _optional(session_policy, "session policy", "session"))


def evaluate_all(request: Request, identity_policies: Iterable = (),
                 resource_policies: Sequence = (), permissions_boundary=None,
                 session_policy=None) -> Decision:
    """Like :func:`evaluate` with several resource policies that must all permit.

    For an S3 access point pass ``[("access point policy X", ap_doc, ap_arn),
    ("bucket policy B", bucket_doc)]``.
    """
    gates = [] if not resource_policies else _gates(list(resource_policies))
    return _decide(request, _identity_list(identity_policies), gates,
                   _optional(permissions_boundary, "permissions boundary", "boundary"),
                   _optional(session_policy, "session policy", "session"))


def _decide(req: Request, identity: List[Policy], gates, boundary, session) -> Decision:
    """Collect what every policy says about REQ, then apply the decision rules."""
    return _Evaluation(req, identity, gates, boundary, session).decide()


class _Evaluation:
    """One request's evaluation: the facts gathered once, the rules as methods."""

    def __init__(self, req: Request, identity: List[Policy], gates, boundary, session):
        self.req = req
        self.info = info = parse_principal(req.principal)
        self.res_account = req.resource_account or info.account
        self.ctx = build_context(req, info, self.res_account)
        self.action = req.action.lower()
        self.signed = info.kind not in ("anonymous", "service")
        self.is_root = info.kind == "root"
        self.same_account = self.signed and (self.res_account is None
                                             or self.res_account == info.account)
        self.boundary, self.session = boundary, session
        self.ident, self.bound, self.sess = _Side(), _Side(), _Side()
        self.ident_by_res = {}
        resources = [req.resource] + [r for _, r in gates if r and r != req.resource]
        for res in resources:
            self._scan_identity_side(res, identity)
        self.gate_sides = [self._scan_gate(policy, override or req.resource)
                           for policy, override in gates]
        self.boundary_ok = boundary is None or self.is_root or bool(self.bound.allows)
        self.session_ok = session is None or bool(self.sess.allows)

    def _scan_identity_side(self, res: str, identity: List[Policy]) -> None:
        side = _Side()
        if self.signed:
            for p in identity:
                side.add(p, matching_statements(p, self.action, res, self.ctx), "identity")
            if self.boundary is not None and not self.is_root:
                self.bound.add(self.boundary,
                               matching_statements(self.boundary, self.action, res, self.ctx),
                               "boundary")
            if self.session is not None:
                self.sess.add(self.session,
                              matching_statements(self.session, self.action, res, self.ctx),
                              "session")
        self.ident_by_res[res] = side
        self.ident.denies.extend(side.denies)

    def _scan_gate(self, policy: Policy, resource: str):
        bounded = self.boundary is not None and self.signed and not self.is_root
        side = _Side()
        side.add(policy,
                 matching_statements(policy, self.action, resource, self.ctx, self.info, bounded),
                 "resource")
        return resource, side

    # -- the rules ---------------------------------------------------------------------

    def decide(self) -> Decision:
        if self.root_keeps_bucket_policy():
            return self._allowed([Reason("root user", f"bucket owner {self.info.account} "
                                         "(policy lockout exemption)", "Allow", "identity")])
        denied = self.explicit_deny()
        if denied is not None:
            return denied
        if not self.gate_sides:
            if self.same_account and self.identity_effective(self.req.resource):
                return self._allowed(self.identity_reasons(self.req.resource) + self.limits())
            return self.implicit(self.req.resource, passed_some_gate=False)
        reasons: List[Reason] = []
        for i, (res, side) in enumerate(self.gate_sides):
            why = self.gate_passes(side, res)
            if why is None:
                return self.implicit(res, passed_some_gate=i > 0)
            if why == "identity" or not self.same_account:
                # Cross-account: the identity side allowed too, so it is part of the reason.
                reasons += self.identity_reasons(res) + self.limits()
            if why != "identity":
                reasons += why
        return self._allowed(reasons)

    def root_keeps_bucket_policy(self) -> bool:
        """S3: the bucket owner's root may always get, put and delete the bucket policy, even
        when that policy denies it (so an owner cannot lock itself out)."""
        return (self.is_root and self.action in _BUCKET_POLICY_ACTIONS and self.same_account
                and self.req.resource_account is not None
                and self.req.resource.startswith("arn:aws:s3:::")
                and "/" not in self.req.resource)

    def _allowed(self, reasons: List[Reason]) -> Decision:
        return Decision(ALLOWED, _unique(reasons), None, self.req)

    def explicit_deny(self) -> Optional[Decision]:
        res_denies = [r for _, side in self.gate_sides for r in side.denies]
        order = (("identity", self.ident.denies), ("resource", res_denies),
                 ("boundary", self.bound.denies), ("session", self.sess.denies))
        first = next((kind for kind, found in order if found), None)
        if first is None:
            return None
        return Decision(EXPLICIT_DENY, _unique([r for _, found in order for r in found]), first,
                        self.req)

    def identity_reasons(self, res: str) -> List[Reason]:
        if self.is_root:
            return [Reason("root user", f"account {self.info.account}", "Allow", "identity")]
        return [r for r, _ in self.ident_by_res[res].allows]

    def identity_effective(self, res: str) -> bool:
        """An identity Allow for RES that the boundary and session policy let through."""
        return (self.signed and self.boundary_ok and self.session_ok
                and bool(self.identity_reasons(res)))

    def limits(self) -> List[Reason]:
        """The boundary/session statements that let an identity allow through."""
        out = []
        if self.boundary is not None:
            out += [r for r, _ in self.bound.allows]
        if self.session is not None:
            out += [r for r, _ in self.sess.allows]
        return out

    def gate_passes(self, side: "_Side", res: str):
        """None if the gate refuses; "identity", or the resource reasons, if it lets through."""
        levels = {}
        for r, lvl in side.allows:
            levels.setdefault(lvl, []).append(r)
        if not self.signed:
            found = levels.get(DIRECT, []) + levels.get(PUBLIC, [])
            return found or None
        ident_ok = self.identity_effective(res)
        if not self.same_account:
            return [r for r, _ in side.allows] if ident_ok and side.allows else None
        if ident_ok:
            return "identity"
        if DIRECT in levels:
            return levels[DIRECT]
        limited = levels.get(ROLE, []) + levels.get(PUBLIC, [])
        if limited and self.boundary_ok and self.session_ok:
            return limited
        if self.is_root and ACCOUNT in levels:
            return levels[ACCOUNT]
        return None

    def implicit(self, res: str, passed_some_gate: bool) -> Decision:
        """The implicit deny, naming the kind of policy that failed to allow."""
        if not self.signed or passed_some_gate:
            return Decision(IMPLICIT_DENY, [], "resource", self.req)
        has_identity_allow = self.is_root or bool(self.ident_by_res[res].allows)
        if has_identity_allow and not self.boundary_ok:
            by = "boundary"
        elif has_identity_allow and not self.session_ok:
            by = "session"
        elif has_identity_allow and not self.same_account:
            by = "resource"
        else:
            by = "identity"
        return Decision(IMPLICIT_DENY, [], by, self.req)


def _unique(reasons: List[Reason]) -> List[Reason]:
    seen, out = set(), []
    for r in reasons:
        if r not in seen:
            seen.add(r)
            out.append(r)
    return out
