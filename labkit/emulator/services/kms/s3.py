"""SSE-KMS: the KMS calls S3 makes for a request, decided for the caller.

Amazon S3 "Using server-side encryption with AWS KMS keys (SSE-KMS)"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html) and
"Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html):

- writing an object encrypted with a KMS key (``x-amz-server-side-encryption:
  aws:kms`` or the bucket's default encryption) needs ``kms:GenerateDataKey``
  on the key; reading it (GetObject, SelectObjectContent, a CopyObject source)
  needs ``kms:Decrypt``; HeadObject needs neither;
- multipart uploads (S3 "Multipart upload API and permissions"): CreateMultipartUpload
  needs ``kms:GenerateDataKey``, UploadPart and CompleteMultipartUpload ``kms:Decrypt``
  (S3 decrypts the upload's data key to encrypt each part and to finish);
- S3 calls KMS on the caller's behalf: the key policy, the caller's IAM
  policies and grants decide, with ``kms:ViaService = s3.REGION.amazonaws.com``,
  ``kms:CallerAccount``, ``aws:ViaAWSService = true`` and the encryption context
  ``aws:s3:arn`` = the object ARN, or the bucket ARN when an S3 Bucket Key is
  used (plus any context the writer sent in x-amz-server-side-encryption-context);
- a KMS failure is reported by S3: 403 AccessDenied with KMS's message, or
  400 ``KMS.DisabledException`` / ``KMS.KMSInvalidStateException`` /
  ``KMS.NotFoundException`` for a key that is disabled, pending deletion or missing.

Not modelled (said in the log): an additional encryption context sent on write is
not remembered for later reads.
"""
from __future__ import annotations

import base64
import json
import logging
from typing import List, Optional, Tuple

from labkit.emulator.authz import errors as http
from labkit.emulator.authz.decide import Permission, record
from labkit.emulator.authz.identity import Caller
from labkit.emulator.request import AwsRequest
from labkit.emulator.services.kms import access, actions, errors
from labkit.emulator.services.kms.gateway import state_error

log = logging.getLogger("labkit.emulator.kms")

_KMS_SSE = ("aws:kms", "aws:kms:dsse")
#: Object subresources whose GET reads no object data (no kms:Decrypt).
_METADATA_GETS = ("acl", "tagging", "attributes", "retention", "legal-hold", "torrent",
                  "uploadId")
#: Global keys S3's forward-access requests to KMS do not carry.
_NOT_FORWARDED = ("aws:SourceIp", "aws:SourceVpc", "aws:SourceVpce", "aws:VpcSourceIp")

Use = Tuple[str, str, Optional[str], bool, str]  # (operation, key ref, bucket, bucket key, object)


def refusal(req: AwsRequest, caller: Caller, t, base: dict) -> Optional[http.Response]:
    """The S3 error for a KMS call S3 would make and KMS would refuse; None if none fails."""
    if t.control or t.key is None or t.bucket is None:
        return None
    from labkit.emulator.services.s3.actions import bucket_owner

    owner = bucket_owner(t.bucket)
    if owner is None:
        return None
    for op, ref, bucket, bucket_key, obj in _uses(req, t, owner):
        problem = _decide_use(req, caller, base, op, ref, bucket, bucket_key, obj, owner)
        if problem is not None:
            return problem
    return None


# ----------------------------------------------------------------------------- which KMS calls

def _s3(owner: str):
    from moto.s3.models import s3_backends

    return s3_backends[owner]["aws"]


def _uses(req: AwsRequest, t, owner: str) -> List[Use]:
    q, method = req.query, req.method
    out: List[Use] = []
    if method == "GET" and not any(s in q for s in _METADATA_GETS):
        out += _read_use(owner, t.bucket, t.key, q.get("versionId", [None])[0])
    elif method == "POST" and "select" in q:
        out += _read_use(owner, t.bucket, t.key, None)
    elif method == "POST" and "uploads" in q:
        out += _write_use(req, owner, t.bucket, t.key)
    elif method in ("PUT", "POST") and "uploadId" in q:
        out += _upload_use(owner, t.bucket, t.key, q["uploadId"][0])
    elif method == "PUT" and not any(s in q for s in _METADATA_GETS):
        out += _write_use(req, owner, t.bucket, t.key)
    if method == "PUT" and req.header("x-amz-copy-source"):
        out = _copy_source_uses(req, owner) + out
    return out


def _truthy(value) -> bool:
    return str(value).lower() == "true"


def _read_use(owner, bucket, key, version) -> List[Use]:
    try:
        obj = _s3(owner).get_object(bucket, key, version_id=version)
    except Exception:  # moto answers NoSuchKey / NoSuchVersion itself
        return []
    if obj is None or getattr(obj, "encryption", None) not in _KMS_SSE or not obj.kms_key_id:
        return []
    return [("Decrypt", obj.kms_key_id, bucket, _truthy(obj.bucket_key_enabled), key)]


def _default_rule(owner, bucket) -> dict:
    found = _s3(owner).buckets.get(bucket)
    rule = (getattr(found, "encryption", None) or {}).get("Rule") or {}
    return rule if isinstance(rule, dict) else {}


def _write_use(req, owner, bucket, key) -> List[Use]:
    rule = _default_rule(owner, bucket)
    default = rule.get("ApplyServerSideEncryptionByDefault") or {}
    sse = req.header("x-amz-server-side-encryption")
    if sse is None:
        sse, ref = default.get("SSEAlgorithm"), default.get("KMSMasterKeyID")
    else:
        # No key id with the header: the bucket's default key when it names one (as the
        # store, moto, records it), else the AWS managed key aws/s3.
        ref = req.header("x-amz-server-side-encryption-aws-kms-key-id") or (
            default.get("KMSMasterKeyID") if default.get("SSEAlgorithm") in _KMS_SSE else None)
    if sse not in _KMS_SSE:
        return []
    header = req.header("x-amz-server-side-encryption-bucket-key-enabled")
    bucket_key = _truthy(header) if header is not None else _truthy(rule.get("BucketKeyEnabled"))
    return [("GenerateDataKey", ref or "alias/aws/s3", bucket, bucket_key, key)]


def _upload_use(owner, bucket, key, upload_id) -> List[Use]:
    found = _s3(owner).buckets.get(bucket)
    upload = found.multiparts.get(upload_id) if found is not None else None
    if upload is None:
        return []
    rule = _default_rule(owner, bucket)
    default = rule.get("ApplyServerSideEncryptionByDefault") or {}
    sse = upload.sse_encryption or default.get("SSEAlgorithm")
    if sse not in _KMS_SSE:
        return []
    ref = upload.kms_key_id or default.get("KMSMasterKeyID") or "alias/aws/s3"
    return [("Decrypt", ref, bucket, _truthy(rule.get("BucketKeyEnabled")), key)]


def _copy_source_uses(req, owner) -> List[Use]:
    from labkit.emulator.services.s3.actions import bucket_owner, copy_source

    source = copy_source(req)
    if source is None:
        return []
    src_bucket, src_key, _ = source
    src_owner = bucket_owner(src_bucket)
    raw = req.header("x-amz-copy-source", "")
    version = raw.split("versionId=", 1)[1].split("&")[0] if "versionId=" in raw else None
    return _read_use(src_owner, src_bucket, src_key, version) if src_owner else []


# ----------------------------------------------------------------------------- deciding

def _user_context(req: AwsRequest, op: str) -> dict:
    raw = req.header("x-amz-server-side-encryption-context") if op == "GenerateDataKey" else None
    if not raw:
        return {}
    try:
        data = json.loads(base64.b64decode(raw))
    except ValueError:
        log.info("s3: x-amz-server-side-encryption-context is not base64 JSON; ignored")
        return {}
    if not isinstance(data, dict):
        return {}
    log.info("s3 SSE-KMS: the extra encryption context %s is checked on this write; the "
             "emulator does not remember it for later reads", sorted(data))
    return {str(k): str(v) for k, v in data.items()}


def _decide_use(req, caller, base, op, ref, bucket, bucket_key, obj, owner):
    found = _s3(owner).buckets.get(bucket)
    region = getattr(found, "region_name", None) or req.region
    key = actions.find_key(ref, owner, region)
    if key is None:
        log.info("s3 SSE-KMS: key %r not found in %s/%s", ref, owner, region)
        return http.error(req, 400, errors.s3_code(errors.not_found(ref)),
                          errors.not_found(ref)[1])
    arn = f"arn:aws:s3:::{bucket}" if bucket_key else f"arn:aws:s3:::{bucket}/{obj}"
    ec = {"aws:s3:arn": arn}
    ec.update(_user_context(req, op))
    ctx = {k: v for k, v in base.items() if k not in _NOT_FORWARDED}
    ctx.update({"kms:ViaService": f"s3.{region}.amazonaws.com",
                "kms:CallerAccount": caller.account_id or "", "aws:ViaAWSService": "true"})
    ctx.update(actions.context_keys(ec))
    ctx.update(actions.key_context(key, actions.backend(key.account_id, key.region)))
    if caller.is_anonymous:
        return http.error(req, 403, "AccessDenied", "Access Denied")
    decision = access.decide(caller, f"kms:{op}", key.arn, key.account_id, key.policy, ctx,
                             key.grants.values(), op, ec, f"key policy {key.id}")
    record(Permission(f"kms:{op}", key.arn, {}, None, key.account_id), decision)
    if not decision.allowed:
        return http.error(req, 403, "AccessDenied", access.message(caller, decision))
    problem = state_error(op, key)
    if problem is not None:
        return http.error(req, 400, errors.s3_code(problem), problem[1])
    return None
