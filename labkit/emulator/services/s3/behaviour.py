"""S3 security behaviour moto lacks, patched into moto's S3 and S3 Control.

What AWS does and moto 5.2 does not (see shared/notes/moto-fidelity.md):

- New buckets get AWS's defaults since 2023: SSE-S3 default encryption,
  all four Block Public Access settings on, ObjectOwnership
  BucketOwnerEnforced (ACLs disabled), unless CreateBucket says otherwise.
  DeleteBucketEncryption falls back to SSE-S3, as on AWS.
- Block Public Access is enforced, at bucket and account level: public bucket
  policies (BlockPublicPolicy) and public ACLs (BlockPublicAcls) are refused.
  :func:`public_access_restricted` tells the authorization layer when to ignore
  public grants (RestrictPublicBuckets, IgnorePublicAcls).
- ACLs are refused on BucketOwnerEnforced buckets.
- Malformed bucket policies are refused with MalformedPolicy instead of being
  stored (moto then fails every object call with JSONDecodeError).
- GetBucketPolicyStatus and GetAccessPointPolicyStatus judge "public" as AWS
  does (conditions such as aws:SecureTransport alone do not make it private).

Request checks run right after moto's own authentication and authorization
hook, so they see the same request moto does, in in-process ``mock_aws`` and
in server mode alike, and an unauthorized caller still gets AccessDenied first.
"""
from __future__ import annotations

import functools
from typing import Any, Callable
from urllib.parse import parse_qs, urlparse

from moto.s3 import responses as s3_responses
from moto.s3.models import FakeBucket, PublicAccessBlock, S3Backend, s3_backends
from moto.s3.responses import S3Response
from moto.s3control.models import S3ControlBackend, s3control_backends
from moto.s3control.responses import S3ControlResponse

from labkit.emulator.patching import replace
from labkit.emulator.services.s3 import access_points as s3_access_points
from labkit.emulator.services.s3.acl import requested_acl
from labkit.emulator.services.s3.errors import (
    AclNotSupported,
    InvalidBucketAclWithBlockPublicAccess,
    InvalidBucketAclWithObjectOwnership,
    MalformedPolicyError,
    PublicAclBlocked,
    PublicPolicyBlocked,
)
from labkit.emulator.services.s3.policy_doc import MalformedPolicy, check_bucket_policy
from labkit.policy import PolicyError, is_public
from labkit.policy.matching import parse_arn

__all__ = [
    "install",
    "public_access_restricted",
    "effective_public_access_block",
    "default_encryption",
    "aws_managed_s3_key_arn",
    "caller_arn",
    "DEFAULT_OBJECT_OWNERSHIP",
]

#: ObjectOwnership of a bucket whose CreateBucket request named none.
DEFAULT_OBJECT_OWNERSHIP = "BucketOwnerEnforced"
_PATCHED = "_labkit_s3_fidelity"
_BPA_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
#: (class, method) pairs already patched in this process.
_INSTALLED: set[tuple[type, str]] = set()


def install() -> None:
    """Patch moto's S3 and S3 Control so they enforce the rules above. Idempotent."""
    _wrap(S3Backend, "create_bucket", _create_bucket_with_defaults)
    _wrap(S3Backend, "delete_bucket_encryption", _delete_encryption_to_default)
    _wrap(S3Backend, "put_object", _put_object_naming_kms_key)
    _wrap(S3Response, "_authenticate_and_authorize_s3_action", _check_after_auth)
    _wrap(S3ControlBackend, "put_access_point_policy", s3_access_points.put_policy_checked)
    _wrap(
        S3ControlResponse,
        "get_access_point_policy_status",
        s3_access_points.policy_status_response,
    )
    replace(s3_responses, "bucket_policy_is_public", _policy_is_public_or_false)
    _defer_bucket_policies_to_labkit()


def _defer_bucket_policies_to_labkit() -> None:
    """moto evaluates bucket policies itself on object calls, ignoring conditions (a Deny
    "unless encrypted" denies even encrypted uploads) and principals. The pipeline has
    already decided every request with labkit.policy, so moto is made to agree with it."""
    from moto.s3.models import FakeBucket

    replace(FakeBucket, "get_permission", _permitted)


def _permitted(self, action: str, resource: str):
    from moto.iam.access_control import PermissionResult

    return PermissionResult.PERMITTED  # decided before moto saw the request


def _wrap(owner: type, name: str, replacement: Callable[..., Any]) -> None:
    """Replace ``owner.name`` by ``replacement(original, *args)``, once.

    Remembered per (class, name), so a second install() is a no-op even when
    another fidelity module has wrapped the same method after us.
    """
    original = getattr(owner, name)
    if (owner, name) in _INSTALLED or getattr(original, _PATCHED, False):
        return
    _INSTALLED.add((owner, name))

    @functools.wraps(original)
    def patched(*args: Any, **kwargs: Any) -> Any:
        return replacement(original, *args, **kwargs)

    setattr(patched, _PATCHED, True)
    replace(owner, name, patched)


# --- defaults for new buckets ------------------------------------------------


def default_encryption() -> dict[str, Any]:
    """SSE-S3 with no bucket key, in the shape moto stores a parsed configuration."""
    return {
        "Rule": {
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
            "BucketKeyEnabled": "false",
        }
    }


def _create_bucket_with_defaults(original: Callable, backend: S3Backend, *args: Any, **kwargs: Any) -> FakeBucket:
    bucket = original(backend, *args, **kwargs)
    bucket.encryption = default_encryption()
    bucket.public_access_block = PublicAccessBlock(True, True, True, True)
    # The CreateBucket response handler overwrites this when the request
    # carries x-amz-object-ownership, as AWS does.
    bucket.ownership_rule = DEFAULT_OBJECT_OWNERSHIP
    return bucket


def _delete_encryption_to_default(original: Callable, backend: S3Backend, bucket_name: str) -> None:
    # Since 2023 a bucket cannot be unencrypted: deleting the configuration
    # brings back SSE-S3.
    original(backend, bucket_name)
    backend.get_bucket(bucket_name).encryption = default_encryption()


def _put_object_naming_kms_key(
    original: Callable, backend: S3Backend, bucket_name: str, *args: Any, **kwargs: Any
) -> Any:
    # SSE-KMS without a key id uses the AWS managed key aws/s3 of the bucket's
    # region, and S3 reports that key's ARN; moto reports no key at all.
    key = original(backend, bucket_name, *args, **kwargs)
    if key.encryption in ("aws:kms", "aws:kms:dsse") and not key.kms_key_id:
        region = backend.get_bucket(bucket_name).region_name
        key.kms_key_id = aws_managed_s3_key_arn(backend.account_id, region)
    return key


def aws_managed_s3_key_arn(account_id: str, region: str) -> str:
    """ARN of the account's AWS managed ``aws/s3`` KMS key (moto creates it on first use)."""
    from moto.kms.models import kms_backends

    kms = kms_backends[account_id][region]
    key_id = kms.get_key_id_from_alias("alias/aws/s3")
    return kms.keys[key_id].arn


def _policy_is_public_or_false(policy: Any) -> bool:
    try:
        return is_public(policy)
    except ValueError:  # PolicyError included: moto asks about whatever it stored
        return False


# --- Block Public Access state -------------------------------------------------


def _account_block(account_id: str) -> PublicAccessBlock | None:
    for backend in s3control_backends[account_id].values():
        if backend.public_access_block is not None:
            return backend.public_access_block
    return None


def _find_bucket(account_id: str, bucket_name: str) -> FakeBucket | None:
    owner = s3_backends.bucket_accounts.get(bucket_name)
    if owner is not None:
        partition, owner_account = owner
        return s3_backends[owner_account][partition].buckets.get(bucket_name)
    for backend in s3_backends[account_id].values():
        if bucket_name in backend.buckets:
            return backend.buckets[bucket_name]
    return None


def effective_public_access_block(
    account_id: str, bucket_name: str, access_point_name: str | None = None
) -> dict[str, bool]:
    """The four Block Public Access flags in force for a bucket.

    Each is on when it is on for the bucket or for the bucket owner's account
    (``s3control put_public_access_block``), and, for a request made through
    an access point, for that access point too: S3 applies the most
    restrictive combination. ``account_id`` is used when the bucket does not
    exist.
    """
    bucket = _find_bucket(account_id, bucket_name)
    owner = bucket.account_id if bucket is not None else account_id
    flags = _merge(dict.fromkeys(_BPA_FLAGS, False), _block_as_flags(_account_block(owner)))
    if bucket is not None:
        flags = _merge(flags, _block_as_flags(bucket.public_access_block))
    if access_point_name:
        flags = _merge(flags, s3_access_points.access_point_flags(owner, access_point_name))
    return flags


def _block_as_flags(block: PublicAccessBlock | None) -> dict[str, bool]:
    if block is None:
        return {}
    attrs = ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets")
    return {flag: bool(getattr(block, attr)) for flag, attr in zip(_BPA_FLAGS, attrs)}


def _merge(flags: dict[str, bool], more: dict[str, bool]) -> dict[str, bool]:
    return {flag: on or more.get(flag, False) for flag, on in flags.items()}


def public_access_restricted(
    account_id: str, bucket_name: str, access_point_name: str | None = None
) -> tuple[bool, bool]:
    """``(restrict_public_buckets, ignore_public_acls)`` in force for a bucket.

    For the authorization layer: with the first, a public bucket (or access
    point) policy grants nothing to principals outside the bucket owner's
    account (AWS service principals excepted); with the second, ACL grants to
    AllUsers and AuthenticatedUsers are ignored. Pass ``access_point_name``
    when the request came through an access point, whose own settings count.
    """
    flags = effective_public_access_block(account_id, bucket_name, access_point_name)
    return flags["RestrictPublicBuckets"], flags["IgnorePublicAcls"]


# --- request checks ------------------------------------------------------------


def _check_after_auth(
    original: Callable, response: S3Response, bucket_name: str | None = None, key_name: str | None = None
) -> None:
    original(response, bucket_name=bucket_name, key_name=key_name)
    if not bucket_name:
        return
    if key_name:
        _check_key_request(response, bucket_name)
    else:
        _check_bucket_request(response, bucket_name)


def _url_query(response: S3Response) -> dict[str, list[str]]:
    # moto merges request headers into response.querystring for S3, so read
    # the sub-resource (?acl, ?policy, ...) from the URL itself.
    return parse_qs(urlparse(response.uri).query, keep_blank_values=True)


def _check_bucket_request(response: S3Response, bucket_name: str) -> None:
    if response.method != "PUT":
        return
    query = _url_query(response)
    if not query:
        _check_create_bucket(response)
    elif "policy" in query:
        _check_bucket_policy(response, bucket_name)
    elif "acl" in query:
        _check_acl(response, bucket_name, body_allowed=True)
    elif "ownershipControls" in query:
        _check_ownership_change(response, bucket_name)


def _check_key_request(response: S3Response, bucket_name: str) -> None:
    query = _url_query(response)
    if response.method == "POST" and "uploads" in query:
        _check_acl(response, bucket_name, body_allowed=False)  # CreateMultipartUpload
    if response.method != "PUT" or "uploadId" in query:
        return
    if "acl" in query:
        _check_acl(response, bucket_name, body_allowed=True)
    elif not any(sub in query for sub in ("tagging", "retention", "legal-hold")):
        _check_acl(response, bucket_name, body_allowed=False)  # PutObject, CopyObject


def _check_create_bucket(response: S3Response) -> None:
    acl = requested_acl(response, body_allowed=False)
    if not acl.present:
        return
    ownership = response.headers.get("x-amz-object-ownership") or DEFAULT_OBJECT_OWNERSHIP
    if ownership == "BucketOwnerEnforced" and not acl.owner_only:
        raise InvalidBucketAclWithObjectOwnership()
    if acl.is_public:
        # A new bucket always starts with Block Public Access on.
        raise InvalidBucketAclWithBlockPublicAccess()


def _check_acl(response: S3Response, bucket_name: str, body_allowed: bool) -> None:
    bucket = response.backend.get_bucket(bucket_name)
    acl = requested_acl(response, body_allowed=body_allowed)
    if not acl.present:
        return
    if bucket.ownership_rule == "BucketOwnerEnforced" and not acl.bucket_owner_full_control:
        raise AclNotSupported()
    flags = effective_public_access_block(bucket.account_id, bucket_name)
    if acl.is_public and flags["BlockPublicAcls"]:
        raise PublicAclBlocked()


def _check_ownership_change(response: S3Response, bucket_name: str) -> None:
    # Disabling ACLs needs a bucket ACL that gives only the owner access.
    body = response.body.decode() if isinstance(response.body, bytes) else response.body or ""
    if "BucketOwnerEnforced" not in body:
        return
    bucket = response.backend.get_bucket(bucket_name)
    for grant in bucket.acl.grants if bucket.acl else []:
        if any(g.uri for g in grant.grantees):
            raise InvalidBucketAclWithObjectOwnership()


def _check_bucket_policy(response: S3Response, bucket_name: str) -> None:
    bucket = response.backend.get_bucket(bucket_name)
    try:
        policy = check_bucket_policy(response.body or b"", bucket_name, principal_exists=_iam_principal_exists)
    except MalformedPolicy as exc:
        raise MalformedPolicyError(str(exc)) from None
    flags = effective_public_access_block(bucket.account_id, bucket_name)
    if flags["BlockPublicPolicy"] and _bucket_policy_is_public(policy):
        raise PublicPolicyBlocked(
            caller_arn(response), "s3:PutBucketPolicy", f"arn:{bucket.partition}:s3:::{bucket_name}"
        )


def _bucket_policy_is_public(policy: dict) -> bool:
    try:
        return is_public(policy)
    except PolicyError as exc:  # S3's own checks passed, the engine's did not
        raise MalformedPolicyError(str(exc)) from None


def caller_arn(response: Any) -> str:
    """The caller's ARN: as the authorization layer found it, else as moto's STS says."""
    from moto.sts.models import sts_backends

    known = response.headers.get("x-labkit-caller-arn") if response.headers else None
    if known:
        return known

    account = response.get_current_account()
    sts = sts_backends[account][response.partition]
    return sts.get_caller_identity(response.get_access_key(), response.region)[1]


def _iam_principal_exists(arn: str) -> bool:
    """Whether an IAM user or role ARN names an identity moto holds.

    S3 resolves principals when a policy is saved and refuses unknown ones.
    """
    from moto.iam.models import iam_backends

    _partition, _service, _region, account, resource = parse_arn(arn)
    kind, _, path_name = resource.partition("/")
    name = path_name.rsplit("/", 1)[-1]
    for backend in iam_backends[account].values():
        try:
            (backend.get_user if kind == "user" else backend.get_role)(name)
            return True
        except Exception:  # moto raises its NoSuchEntity types
            continue
    return False
