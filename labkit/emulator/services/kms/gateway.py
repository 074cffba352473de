"""The KMS API behind the authorization layer: decide each permission, check the key's
state, then let moto (the store) answer.

AWS's order: authorization first (AccessDeniedException), then the key state
(DisabledException / KMSInvalidStateException, KMS "Key states" table), then
the operation. CreateKey and PutKeyPolicy also run KMS's policy lockout
safety check (KMS "Default key policy": the new policy must let the caller
call PutKeyPolicy, unless BypassPolicyLockoutSafetyCheck is set).
"""
from __future__ import annotations

import json
import logging
from typing import Optional

from labkit.emulator.authz import errors as authz_errors
from labkit.emulator.authz.call import Call
from labkit.emulator.authz.decide import Permission, decide as decide_iam, denial_message, record
from labkit.emulator.authz.identity import Caller
from labkit.emulator.services.kms import access, actions, errors
from labkit.policy import PolicyError, parse_policy

log = logging.getLogger("labkit.emulator.kms")

#: Cryptographic operations: refused on a Disabled key (DisabledException).
CRYPTO = {"Encrypt", "Decrypt", "ReEncrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey",
          "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair",
          "GenerateDataKeyPairWithoutPlaintext", "Sign", "Verify", "GenerateMac", "VerifyMac",
          "GetPublicKey", "DeriveSharedSecret"}
#: Also refused on a Disabled key (key-state table).
DISABLED_REFUSES = CRYPTO | {"EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand"}
#: What still works on a key pending deletion (key-state table); the rest fails.
PENDING_ALLOWS = {"CancelKeyDeletion", "DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus",
                  "ListAliases", "ListGrants", "ListKeyPolicies", "ListResourceTags",
                  "PutKeyPolicy", "RetireGrant", "RevokeGrant", "DeleteAlias", "TagResource",
                  "UntagResource", "ListKeyRotations", "GetParametersForImport"}


def state_error(operation: str, key) -> Optional[errors.Error]:
    """The error KEY's state gives OPERATION, or None when the state allows it."""
    state = getattr(key, "key_state", "Enabled")
    if state == "Disabled" and operation in DISABLED_REFUSES:
        return errors.disabled(key.arn)
    if state == "PendingDeletion" and operation not in PENDING_ALLOWS:
        return errors.pending_deletion(key.arn)
    if operation == "CancelKeyDeletion" and state != "PendingDeletion":
        return errors.not_pending_deletion(key.arn)
    return None


def decide_need(caller: Caller, need: actions.Need, base: dict):
    """The Decision for one permission: the key's rules for a key, IAM alone otherwise."""
    ctx = dict(base)
    ctx["kms:CallerAccount"] = caller.account_id
    ctx.update(need.context)
    if need.key is None:
        return decide_iam(caller, Permission(need.action, need.resource, ctx), ctx)
    key = need.key
    decision = access.decide(caller, need.action, key.arn, key.account_id, key.policy, ctx,
                             key.grants.values(), need.operation, need.encryption_context,
                             f"key policy {key.id}")
    # Decided by KMS's own rules, not decide(): recorded here for the request's audit record.
    return record(Permission(need.action, key.arn, need.context, None, key.account_id), decision)


def handle(call: Call):
    """Serve one KMS API request."""
    req, caller, base = call.req, call.caller, call.base
    op = req.operation or ""
    body = req.json_body()
    account = caller.account_id
    needed = actions.needs(op, body, account, req.region)
    if op == "RetireGrant" and _retiring(caller, needed, body):
        return call.forward()
    for need in needed:
        if need.key is None and need.key_ref:
            log.info("kms %s: no key %r; moto answers NotFoundException", op, need.key_ref)
            continue
        decision = decide_need(caller, need, base)
        if not decision.allowed:
            from_ciphertext = op == "Decrypt" and not body.get("KeyId")
            text = access.message(caller, decision, from_ciphertext) if need.key is not None \
                else denial_message(caller, decision)
            return call.send(authz_errors.access_denied(req, text))
    for need in needed:
        if need.key is not None:
            problem = state_error(need.operation, need.key)
            if problem is not None:
                return call.send(authz_errors.error(req, 400, *problem))
    problem = (_policy_problem(op, body, caller, req, base) or _window_problem(op, body)
               or _reserved_alias_problem(op, body))
    if problem is not None:
        return call.send(authz_errors.error(req, 400, *problem))
    return call.forward()


#: KMS developer guide, "Create aliases": the alias/aws/ prefix is reserved for AWS managed
#: keys. moto refuses only the aliases it pre-creates; AWS refuses the whole prefix.
RESERVED_ALIAS_PREFIX = "alias/aws/"


def _reserved_alias_problem(op: str, body: dict) -> Optional[errors.Error]:
    name = body.get("AliasName")
    if op not in ("CreateAlias", "UpdateAlias", "DeleteAlias") or not isinstance(name, str) \
            or not name.startswith(RESERVED_ALIAS_PREFIX):
        return None
    return ("NotAuthorizedException", f"{name}: the alias name cannot begin with "
            f"{RESERVED_ALIAS_PREFIX}; that prefix is reserved for AWS managed keys")


def _window_problem(op: str, body: dict) -> Optional[errors.Error]:
    """ScheduleKeyDeletion's waiting period must be 7 to 30 days (moto accepts anything and
    then leaves the key Enabled)."""
    days = body.get("PendingWindowInDays")
    if op != "ScheduleKeyDeletion" or not isinstance(days, int) or 7 <= days <= 30:
        return None
    bound = "greater than or equal to 7" if days < 7 else "less than or equal to 30"
    return ("ValidationException", f"1 validation error detected: Value '{days}' at "
            f"'pendingWindowInDays' failed to satisfy constraint: Member must have value {bound}")


def _retiring(caller: Caller, needed, body: dict) -> bool:
    """True when CALLER may retire the grant named by BODY without any policy allowing it."""
    key = needed[0].key if needed else None
    if key is None:
        return False
    token, grant_id = body.get("GrantToken"), body.get("GrantId")
    for grant in list(key.grants.values()):
        if (token and grant.token == token) or (grant_id and grant.id == grant_id):
            return access.may_retire(caller, grant)
    return False


def _policy_problem(op, body, caller, req, base) -> Optional[errors.Error]:
    """A malformed key policy, or one that would lock the caller out (lockout check)."""
    if op not in ("CreateKey", "PutKeyPolicy") or not isinstance(body.get("Policy"), str):
        return None
    text = body["Policy"]
    try:
        json.loads(text)
        parse_policy(text, "key policy", "resource")
    except ValueError as exc:  # json's error (PolicyError is one too, with its own words)
        text = str(exc) if isinstance(exc, PolicyError) else f"the key policy is not JSON: {exc}"
        return errors.malformed(text)
    if body.get("BypassPolicyLockoutSafetyCheck"):
        return None
    key = actions.find_key(body.get("KeyId"), caller.account_id, req.region) \
        if op == "PutKeyPolicy" else None
    arn = key.arn if key is not None else \
        f"arn:aws:kms:{req.region}:{caller.account_id}:key/00000000-0000-0000-0000-000000000000"
    ctx = dict(base, **{"kms:CallerAccount": caller.account_id})
    decision = access.decide(caller, "kms:PutKeyPolicy", arn, caller.account_id, text, ctx)
    return None if decision.allowed else errors.lockout()
