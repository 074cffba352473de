"""KMS requests -> the permissions they need: action, KMS key, condition keys.

From the KMS "Permissions reference" and "Condition keys for AWS KMS" pages
(https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html,
https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html):
the action is ``kms:<Operation>``; the resource is the KMS key the request
names (key id, key ARN, alias name or alias ARN; for Decrypt the key inside
the ciphertext); alias operations also need the permission on the alias ARN
(IAM policies only: aliases have no policy). Condition keys set here:
kms:CallerAccount, kms:EncryptionContext:<key>, kms:EncryptionContextKeys,
kms:EncryptionAlgorithm, kms:GrantOperations, kms:GranteePrincipal,
kms:RetiringPrincipal, kms:GrantIsForAWSResource, kms:GrantConstraintType,
kms:KeySpec, kms:KeyUsage, kms:KeyOrigin, kms:MultiRegion, kms:RequestAlias,
kms:ResourceAliases, kms:BypassPolicyLockoutSafetyCheck,
kms:ScheduleKeyDeletionPendingWindowInDays, kms:RotationPeriodInDays,
aws:ResourceTag/<key>, aws:RequestTag/<key>, aws:TagKeys.
kms:ViaService is set only for calls S3 makes (see s3.py).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Dict, List, Optional
from labkit.policy.matching import parse_arn

#: Operations on no particular key (resource "*").
NO_KEY = {"CreateKey", "ListKeys", "GenerateRandom", "ListRetirableGrants",
          "CreateCustomKeyStore", "DescribeCustomKeyStores", "ConnectCustomKeyStore",
          "DisconnectCustomKeyStore", "DeleteCustomKeyStore", "UpdateCustomKeyStore"}
#: Operations whose EncryptionContext parameter is the request's encryption context.
_CONTEXT_OPS = {"Encrypt", "Decrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
                "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"}


@dataclass
class Need:
    """One permission a KMS request needs."""

    action: str                    # kms:Decrypt
    operation: str                 # the grant operation that would cover it (Decrypt)
    key: object = None             # moto's Key, or None (resource "*", or an alias ARN)
    resource: str = "*"
    context: Dict[str, object] = field(default_factory=dict)
    encryption_context: Optional[Dict[str, str]] = None
    key_ref: Optional[str] = None  # what the request named, when no key was found


def backend(account: str, region: str):
    from moto.kms.models import kms_backends

    return kms_backends[account][region]


def region_of(ref: str, default: str) -> str:
    parts = parse_arn(ref)
    return parts[2] if parts is not None and parts[2] else default


def account_of(ref: str, default: str) -> str:
    parts = parse_arn(ref)
    return parts[3] if parts is not None and parts[3] else default


def find_key(ref: Optional[str], account: str, region: str):
    """moto's Key named by REF (id, key ARN, alias name, alias ARN), or None."""
    if not ref or not isinstance(ref, str):
        return None
    kms = backend(account_of(ref, account), region_of(ref, region))
    try:
        key_id = kms.any_id_to_key_id(ref)
    except Exception:  # moto raises on an unknown alias; AWS answers NotFoundException later
        return None
    return kms.keys.get(key_id) if key_id else None


def key_in_ciphertext(blob: Optional[str], account: str, region: str):
    """The key a moto ciphertext (base64, as sent on the wire) was made with, or None."""
    if not isinstance(blob, str):
        return None
    try:
        from moto.kms.utils import _deserialize_ciphertext_blob

        key_id = _deserialize_ciphertext_blob(base64.b64decode(blob)).key_id
    except Exception:  # not a ciphertext moto made: moto answers InvalidCiphertextException
        return None
    return backend(account, region).keys.get(key_id)


def alias_arn(name: str, account: str, region: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:kms:{region}:{account}:{name}"


def context_keys(ctx_pairs: Optional[dict], prefix: str = "kms:EncryptionContext:") -> dict:
    """kms:EncryptionContext:<k> and kms:EncryptionContextKeys for an encryption context."""
    if not isinstance(ctx_pairs, dict) or not ctx_pairs:
        return {}
    out: Dict[str, object] = {f"{prefix}{k}": str(v) for k, v in ctx_pairs.items()}
    out["kms:EncryptionContextKeys"] = sorted(str(k) for k in ctx_pairs)
    return out


def key_context(key, kms) -> Dict[str, object]:
    """Condition keys that describe the KMS key itself (kms:KeySpec, aws:ResourceTag/...)."""
    ctx: Dict[str, object] = {
        "kms:KeySpec": key.key_spec, "kms:KeyUsage": key.key_usage, "kms:KeyOrigin": key.origin,
        "kms:MultiRegion": "true" if key.multi_region else "false",
    }
    aliases = [a for a in getattr(key, "aliases", {})]
    if aliases:
        ctx["kms:ResourceAliases"] = sorted(aliases)
    try:
        tags = kms.tagger.list_tags_for_resource(key.id).get("Tags", [])
    except Exception:
        tags = []
    for tag in tags:
        ctx[f"aws:ResourceTag/{tag['TagKey']}"] = tag["TagValue"]
    return ctx


def _request_context(op: str, body: dict) -> Dict[str, object]:
    ctx: Dict[str, object] = {}
    if op in _CONTEXT_OPS:
        ctx.update(context_keys(body.get("EncryptionContext")))
    if op in ("Encrypt", "Decrypt", "ReEncrypt"):
        ctx["kms:EncryptionAlgorithm"] = body.get("EncryptionAlgorithm") or "SYMMETRIC_DEFAULT"
    if op == "CreateGrant":
        ctx.update(_grant_context(body))
    if op == "CreateKey":
        ctx.update({"kms:KeySpec": body.get("KeySpec") or body.get("CustomerMasterKeySpec")
                    or "SYMMETRIC_DEFAULT",
                    "kms:KeyUsage": body.get("KeyUsage") or "ENCRYPT_DECRYPT",
                    "kms:KeyOrigin": body.get("Origin") or "AWS_KMS",
                    "kms:MultiRegion": "true" if body.get("MultiRegion") else "false"})
    if op in ("CreateKey", "PutKeyPolicy"):
        ctx["kms:BypassPolicyLockoutSafetyCheck"] = (
            "true" if body.get("BypassPolicyLockoutSafetyCheck") else "false")
    if op == "ScheduleKeyDeletion":
        ctx["kms:ScheduleKeyDeletionPendingWindowInDays"] = str(body.get("PendingWindowInDays", 30))
    if op == "EnableKeyRotation" and body.get("RotationPeriodInDays"):
        ctx["kms:RotationPeriodInDays"] = str(body["RotationPeriodInDays"])
    tags = body.get("Tags") if op in ("CreateKey", "TagResource") else None
    if isinstance(tags, list) and tags:
        for tag in tags:
            if isinstance(tag, dict) and "TagKey" in tag:
                ctx[f"aws:RequestTag/{tag['TagKey']}"] = str(tag.get("TagValue", ""))
        ctx["aws:TagKeys"] = [t["TagKey"] for t in tags if isinstance(t, dict) and "TagKey" in t]
    if op == "UntagResource" and isinstance(body.get("TagKeys"), list):
        ctx["aws:TagKeys"] = body["TagKeys"]
    return ctx


def _grant_context(body: dict) -> Dict[str, object]:
    ctx: Dict[str, object] = {"kms:GrantIsForAWSResource": "false"}
    if isinstance(body.get("Operations"), list):
        ctx["kms:GrantOperations"] = body["Operations"]
    for param, key in (("GranteePrincipal", "kms:GranteePrincipal"),
                       ("RetiringPrincipal", "kms:RetiringPrincipal")):
        if isinstance(body.get(param), str):
            ctx[key] = body[param]
    constraints = body.get("Constraints") or {}
    for kind in ("EncryptionContextEquals", "EncryptionContextSubset"):
        if isinstance(constraints.get(kind), dict):
            ctx["kms:GrantConstraintType"] = kind
            ctx.update(context_keys(constraints[kind]))
    return ctx


def needs(op: str, body: dict, account: str, region: str) -> List[Need]:
    """Every permission the KMS operation OP (JSON BODY) needs, in the order AWS checks."""
    action = f"kms:{op}"
    ctx = _request_context(op, body)
    if op in NO_KEY:
        return [Need(action, op, None, "*", ctx)]
    if op == "Decrypt":
        key = find_key(body.get("KeyId"), account, region) if body.get("KeyId") else \
            key_in_ciphertext(body.get("CiphertextBlob"), account, region)
        return [_keyed(action, op, key, body.get("KeyId"), ctx, body.get("EncryptionContext"))]
    if op == "ReEncrypt":
        source = key_in_ciphertext(body.get("CiphertextBlob"), account, region)
        target = find_key(body.get("DestinationKeyId"), account, region)
        src_ctx = dict(ctx, **context_keys(body.get("SourceEncryptionContext")))
        dst_ctx = dict(ctx, **context_keys(body.get("DestinationEncryptionContext")))
        return [_keyed("kms:ReEncryptFrom", "ReEncryptFrom", source, None, src_ctx,
                       body.get("SourceEncryptionContext")),
                _keyed("kms:ReEncryptTo", "ReEncryptTo", target, body.get("DestinationKeyId"),
                       dst_ctx, body.get("DestinationEncryptionContext"))]
    if op in ("CreateAlias", "UpdateAlias", "DeleteAlias"):
        return _alias_needs(op, body, account, region, ctx)
    if op == "ListAliases" and not body.get("KeyId"):
        return [Need(action, op, None, "*", ctx)]
    if op == "RetireGrant" and not body.get("KeyId"):
        key = _key_of_grant_token(body.get("GrantToken"), account, region)
        return [_keyed(action, op, key, None, ctx)]
    ref = body.get("KeyId")
    key = find_key(ref, account, region)
    need = _keyed(action, op, key, ref, ctx, body.get("EncryptionContext"))
    if isinstance(ref, str) and "alias/" in ref:
        need.context["kms:RequestAlias"] = ref.split(":")[-1] if ref.startswith("arn:") else ref
    return [need]


def _keyed(action, op, key, ref, ctx, encryption_context=None) -> Need:
    need = Need(action, op, key, key.arn if key is not None else "*", dict(ctx),
                encryption_context if isinstance(encryption_context, dict) else None,
                None if key is not None else ref)
    if key is not None:
        need.context.update(key_context(key, backend(key.account_id, key.region)))
    return need


def _alias_needs(op, body, account, region, ctx) -> List[Need]:
    name = body.get("AliasName") or ""
    action = f"kms:{op}"
    out = [Need(action, op, None, alias_arn(name, account, region) if name else "*", ctx)]
    if op == "DeleteAlias":
        out.append(_keyed(action, op, find_key(name, account, region), name, ctx))
    elif op == "UpdateAlias":
        out.append(_keyed(action, op, find_key(name, account, region), name, ctx))
        out.append(_keyed(action, op, find_key(body.get("TargetKeyId"), account, region),
                          body.get("TargetKeyId"), ctx))
    else:
        out.append(_keyed(action, op, find_key(body.get("TargetKeyId"), account, region),
                          body.get("TargetKeyId"), ctx))
    return out


def _key_of_grant_token(token, account, region):
    if not isinstance(token, str):
        return None
    for key in list(backend(account, region).keys.values()):
        if any(g.token == token for g in key.grants.values()):
            return key
    return None
