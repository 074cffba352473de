"""Who may use a KMS key: the key policy first, then IAM where it delegates, then grants.

KMS "Determining access to AWS KMS keys" and "Key policies in AWS KMS"
(https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html,
https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html):

1. An explicit Deny in the key policy or in an IAM policy denies.
2. The key policy is the primary control. An Allow in it naming the caller (its
   ARN, its role, or ``*``) allows, with no IAM policy needed.
3. IAM policies count only where the key policy lets the account delegate: an
   Allow naming the account (``arn:aws:iam::ACCOUNT:root``) for the action. The
   account root itself is allowed by exactly that statement, and by nothing
   else: unlike other resources, a key does not trust its account's root
   unless its policy says so.
4. A grant on the key for the caller (or its role) and the operation allows,
   when its constraints hold for the request's encryption context
   (https://docs.aws.amazon.com/kms/latest/developerguide/grants.html).
5. Otherwise the request is denied. Cross-account callers need both the key
   policy (naming their account or them) and their own IAM policies.
"""
from __future__ import annotations

from typing import Dict, List, Optional

from labkit.emulator.authz.identity import Caller
from labkit.policy import (ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, Decision, Reason, Request,
                           evaluate, parse_policy)
# The same internals services/sts/actions.py uses for trust policies: KMS reads the key
# policy with its own rules (3 above), so it needs each statement's principal match level.
from labkit.policy.evaluate import matching_statements, build_context
from labkit.policy.principals import ACCOUNT, DIRECT, PUBLIC, ROLE, parse_principal

#: Wording of AWS's KMS AccessDeniedException for a Decrypt whose key came from the ciphertext.
CIPHERTEXT_DENIED = (" on the resource associated with this ciphertext because the resource "
                     "does not exist in this Region, no resource-based policies allow access, "
                     "or a resource-based policy explicitly denies access")


def decide(caller: Caller, action: str, key_arn: str, key_account: str, key_policy: str,
           context: Dict[str, object], grants=(), grant_operation: Optional[str] = None,
           encryption_context: Optional[dict] = None, policy_name: str = "key policy") -> Decision:
    """The Decision for CALLER doing ACTION on the key KEY_ARN with KEY_POLICY."""
    request = Request(caller.arn, action, key_arn, context, resource_account=key_account)
    info = parse_principal(caller.arn)
    policy = parse_policy(key_policy, policy_name, "resource")
    ctx = build_context(request, info, key_account)
    bounded = caller.boundary is not None and not caller.is_root
    allows, denies = matching_statements(policy, action.lower(), key_arn, ctx, info, bounded)
    if denies:
        return Decision(EXPLICIT_DENY, [_reason(policy, st) for st in denies], "resource", request)
    ident = _identity(caller, request)
    if ident is not None and ident.decision == EXPLICIT_DENY:
        return ident
    levels: Dict[int, List[Reason]] = {}
    for st, level in allows:
        levels.setdefault(level, []).append(_reason(policy, st))
    same_account = info.account == key_account
    ident_ok = ident is not None and ident.allowed
    if caller.is_root:
        found = (levels.get(DIRECT, []) + levels.get(ACCOUNT, [])) if same_account else []
        if found:
            return Decision(ALLOWED, found, None, request)
    elif same_account:
        if DIRECT in levels:
            return Decision(ALLOWED, levels[DIRECT], None, request)
        limited = levels.get(ROLE, []) + levels.get(PUBLIC, [])
        if limited and _limits_ok(caller, request):
            return Decision(ALLOWED, limited, None, request)
        if ACCOUNT in levels and ident_ok:
            return Decision(ALLOWED, ident.reasons + levels[ACCOUNT], None, request)
    elif levels and ident_ok:
        return Decision(ALLOWED, ident.reasons + [r for rs in levels.values() for r in rs],
                        None, request)
    grant = matching_grant(caller, grants, grant_operation, encryption_context)
    if grant is not None:
        return Decision(ALLOWED, [Reason(f"grant {grant.id}", grant.name or "grant", "Allow",
                                         "resource")], None, request)
    # Which side failed: the key policy (it neither allows nor delegates) or IAM.
    delegates = ACCOUNT in levels and not caller.is_root
    return Decision(IMPLICIT_DENY, [], "identity" if delegates else "resource", request)


def _reason(policy, st) -> Reason:
    return Reason(policy.name, st.label, st.effect, "resource")


def _identity(caller: Caller, request: Request) -> Optional[Decision]:
    """The caller's IAM side alone (boundary and session policy included); None for root."""
    if caller.is_root or caller.is_anonymous:
        return None
    return evaluate(request, caller.identity_policies, None,
                    permissions_boundary=caller.boundary, session_policy=caller.session_policy)


def _limits_ok(caller: Caller, request: Request) -> bool:
    """A key policy Allow for a role or "*" is still limited by boundary and session policy."""
    for doc in (caller.boundary, caller.session_policy):
        if doc is not None and not evaluate(request, [doc]).allowed:
            return False
    return True


def _grantee_names(caller: Caller) -> set:
    names = {caller.arn}
    if caller.role_arn:
        names.add(caller.role_arn)  # a grant to a role covers its sessions
    return names


def matching_grant(caller: Caller, grants, operation: Optional[str],
                   encryption_context: Optional[dict]):
    """The first grant giving CALLER OPERATION whose constraints hold, or None."""
    if not operation or caller.is_anonymous:
        return None
    names = _grantee_names(caller)
    ec = encryption_context or {}
    for grant in list(grants):
        if grant.grantee_principal not in names or operation not in (grant.operations or []):
            continue
        if constraints_hold(grant.constraints or {}, ec):
            return grant
    return None


def may_retire(caller: Caller, grant) -> bool:
    """KMS "Retiring and revoking grants": the retiring principal may retire a grant, and
    so may its grantee when RetireGrant is one of the grant's operations."""
    names = _grantee_names(caller)
    return grant.retiring_principal in names or (
        grant.grantee_principal in names and "RetireGrant" in (grant.operations or []))


def constraints_hold(constraints: dict, ec: dict) -> bool:
    """Grant constraints (KMS "Using grant constraints") against the request's context."""
    equals = constraints.get("EncryptionContextEquals")
    if isinstance(equals, dict) and dict(ec) != equals:
        return False
    subset = constraints.get("EncryptionContextSubset")
    if isinstance(subset, dict) and any(ec.get(k) != v for k, v in subset.items()):
        return False
    return True


def message(caller: Caller, decision: Decision, from_ciphertext: bool = False) -> str:
    """AWS's AccessDeniedException text for a KMS denial."""
    if caller.is_anonymous:
        return "Access Denied"
    if from_ciphertext:
        return (f"User: {caller.arn} is not authorized to perform: "
                f"{decision.request.action}{CIPHERTEXT_DENIED}")
    text = str(decision)
    # KMS names the key ARN without quotes.
    return text.replace(f'"{decision.request.resource}"', decision.request.resource).replace(
        ' on resource: *', "")
