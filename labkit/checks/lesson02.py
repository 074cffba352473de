"""Checks for lesson 02: encrypted, private, versioned buckets and the raw dataset.

The bucket-policy checks do not compare JSON text (there are many correct ways
to write a policy): they ask labkit.policy how the policy in force decides the
requests that matter, e.g. an engineer's upload without server-side encryption.
"""
from __future__ import annotations

from botocore.exceptions import ClientError

from labkit.topics import buckets as s3lib
from labkit.checks import Fail, check
from labkit.policy import EXPLICIT_DENY, PolicyError, Request, evaluate

_POLICY_HINT = ("put a bucket policy with two Deny statements on s3:PutObject for "
                "arn:aws:s3:::BUCKET/*: one when \"s3:x-amz-server-side-encryption\" is Null, one "
                "when it is StringNotEquals [\"AES256\", \"aws:kms\"] "
                "(labkit.topics.buckets.bucket_policy(lab, bucket) is the reference)")


def _error_code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def _existing(lab, s3) -> list[str]:
    """The lab's buckets; Fail naming the missing ones."""
    missing = [b for b in lab.names.buckets if not s3lib.bucket_exists(s3, b)]
    if missing:
        raise Fail(f"bucket(s) {', '.join(missing)} do not exist (do lesson 02's first exercise)")
    return list(lab.names.buckets)


@check("02.buckets", points=2,
       hint='both buckets (lab.names.buckets) in lab.region; us-east-1 must not be named as a LocationConstraint',
       docs='Amazon S3 User Guide › Creating a bucket; Amazon S3 API Reference › CreateBucket (CreateBucketConfiguration)',
       reference='labkit.topics.buckets.create_bucket(s3, bucket, lab.region) for each of lab.names.buckets')
def buckets(lab):
    """Both buckets exist, in the lab's region."""
    s3 = lab.client("s3")
    for bucket in _existing(lab, s3):
        # HeadBucket names the region; GetBucketLocation answers None for the legacy default.
        where = s3lib.bucket_region(s3, bucket)
        if where != lab.region:
            raise Fail(f"bucket {bucket} is in {where}, not in the lab's region {lab.region}",
                       "delete it and create it again with the lab's region")
    return f"{' and '.join(lab.names.buckets)} exist in {lab.region}"


@check("02.block-public-access", points=2,
       hint='s3.put_public_access_block on each bucket: all four settings True',
       docs='Amazon S3 User Guide › Blocking public access to your Amazon S3 storage; Amazon S3 API Reference › PutPublicAccessBlock',
       reference='s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=labkit.topics.buckets.PUBLIC_ACCESS_BLOCK)')
def block_public_access(lab):
    """All four Block Public Access settings are on for both buckets."""
    s3 = lab.client("s3")
    for bucket in _existing(lab, s3):
        try:
            config = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        except ClientError as exc:
            if _error_code(exc) == "NoSuchPublicAccessBlockConfiguration":
                raise Fail(f"bucket {bucket} has no Block Public Access configuration") from None
            raise
        off = [k for k in s3lib.PUBLIC_ACCESS_BLOCK if not config.get(k)]
        if off:
            raise Fail(f"bucket {bucket}: Block Public Access setting(s) {', '.join(off)} are off")
    return "Block Public Access is fully on for both buckets"


@check("02.acls-disabled", points=1,
       hint='Object Ownership set so that ACLs are disabled',
       docs='Amazon S3 User Guide › Controlling ownership of objects and disabling ACLs for your bucket; API Reference › PutBucketOwnershipControls',
       reference="s3.put_bucket_ownership_controls(Bucket=..., OwnershipControls={'Rules': [{'ObjectOwnership': 'BucketOwnerEnforced'}]})")
def acls_disabled(lab):
    """Object Ownership is BucketOwnerEnforced (ACLs disabled) on both buckets."""
    s3 = lab.client("s3")
    for bucket in _existing(lab, s3):
        try:
            rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        except ClientError as exc:
            if _error_code(exc) == "OwnershipControlsNotFoundError":
                raise Fail(f"bucket {bucket} has no Object Ownership setting") from None
            raise
        setting = rules[0].get("ObjectOwnership") if rules else None
        if setting != "BucketOwnerEnforced":
            raise Fail(f"bucket {bucket} has Object Ownership {setting}, so ACLs still apply")
    return "ACLs are disabled: the bucket owner owns every object"


@check("02.encryption", points=2,
       hint='default encryption SSE-S3 (AES256) on each bucket',
       docs='Amazon S3 User Guide › Setting default server-side encryption behavior for Amazon S3 buckets; API Reference › PutBucketEncryption',
       reference="s3.put_bucket_encryption(Bucket=..., ServerSideEncryptionConfiguration={'Rules': [{'ApplyServerSideEncryptionByDefault': {'SSEAlgorithm': 'AES256'}}]})")
def encryption(lab):
    """Default encryption is SSE-S3 (AES256) on both buckets."""
    s3 = lab.client("s3")
    for bucket in _existing(lab, s3):
        try:
            rules = s3.get_bucket_encryption(Bucket=bucket)[
                "ServerSideEncryptionConfiguration"]["Rules"]
        except ClientError as exc:
            if _error_code(exc) == "ServerSideEncryptionConfigurationNotFoundError":
                raise Fail(f"bucket {bucket} has no default encryption") from None
            raise
        algorithms = {r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
                      for r in rules}
        if algorithms != {s3lib.SSE}:
            raise Fail(f"bucket {bucket} encrypts by default with {sorted(map(str, algorithms))}, "
                       f"not SSE-S3 (AES256)")
    return "both buckets encrypt new objects with SSE-S3 (AES256) by default"


def _policy(lab, s3, bucket: str) -> dict:
    policy = s3lib.current_policy(s3, bucket)
    if policy is None:
        raise Fail(f"bucket {bucket} has no bucket policy", _POLICY_HINT)
    return policy


def _decision(lab, policy: dict, bucket: str, action: str, context: dict, key: str = "data.csv"):
    """How ``policy`` alone decides the engineer's ACTION on BUCKET/KEY with CONTEXT."""
    engineer = f"arn:aws:iam::{lab.account_id}:user/{lab.names.engineer_user}"
    resource = f"{s3lib.bucket_arn(bucket)}/{key}"
    context = {"aws:SecureTransport": "true", **context}
    try:
        return evaluate(Request(engineer, action, resource, context, lab.account_id),
                        resource_policy=(f"bucket policy {bucket}", policy))
    except PolicyError as exc:
        raise Fail(f"the bucket policy of {bucket} is not valid: {exc}") from None


@check("02.bucket-policy", points=3,
       hint='a bucket policy with two Deny statements on s3:PutObject for arn:aws:s3:::BUCKET/*: one when "s3:x-amz-server-side-encryption" is Null, one when it is StringNotEquals ["AES256", "aws:kms"]',
       docs='Amazon S3 User Guide › Bucket policy examples › Requiring server-side encryption; IAM User Guide › IAM JSON policy elements: Condition operators (Null, StringNotEquals)',
       reference='labkit.topics.buckets.bucket_policy(lab, bucket), put with s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(...))')
def bucket_policy(lab):
    """Each bucket policy denies uploads without SSE (or with a wrong value), not encrypted ones."""
    s3 = lab.client("s3")
    header = "s3:x-amz-server-side-encryption"
    for bucket in _existing(lab, s3):
        policy = _policy(lab, s3, bucket)
        for label, context in (("without server-side encryption", {}),
                               ("with an unknown encryption value", {header: "none"})):
            if _decision(lab, policy, bucket, "s3:PutObject", context).decision != EXPLICIT_DENY:
                raise Fail(f"the bucket policy of {bucket} does not deny an upload {label}")
        for value in ("AES256", "aws:kms"):
            decided = _decision(lab, policy, bucket, "s3:PutObject", {header: value})
            if decided.decision == EXPLICIT_DENY:
                raise Fail(f"the bucket policy of {bucket} denies uploads encrypted with {value}: "
                           f"{decided}", "deny only missing or wrong encryption headers")
        if _decision(lab, policy, bucket, "s3:GetObject", {}).decision == EXPLICIT_DENY:
            raise Fail(f"the bucket policy of {bucket} denies reading objects over HTTPS",
                       "limit the encryption Deny statements to s3:PutObject")
    return "uploads without SSE-S3/SSE-KMS are denied on both buckets; encrypted ones are not"


@check("02.versioning", points=1,
       hint="s3.put_bucket_versioning(Bucket=..., VersioningConfiguration={'Status': 'Enabled'})",
       docs='Amazon S3 User Guide › Using versioning in S3 buckets; API Reference › PutBucketVersioning')
def versioning(lab):
    """Versioning is enabled on both buckets."""
    s3 = lab.client("s3")
    for bucket in _existing(lab, s3):
        status = s3.get_bucket_versioning(Bucket=bucket).get("Status", "never enabled")
        if status != "Enabled":
            raise Fail(f"versioning on {bucket} is {status}, not Enabled")
    return "versioning is on: overwritten and deleted objects can be recovered"


@check("02.dataset", points=2,
       hint='the dataset file, uploaded to the landing zone at the key the lesson names, asking for SSE-S3',
       docs='Amazon S3 User Guide › Uploading objects; API Reference › PutObject (ServerSideEncryption)',
       reference="s3.put_object(Bucket=lab.names.landing_bucket, Key=labkit.topics.buckets.DATASET_KEY, Body=labkit.topics.buckets.dataset_path().read_bytes(), ServerSideEncryption='AES256')")
def dataset(lab):
    """The course dataset is in raw/ of the landing zone, whole and SSE-S3 encrypted."""
    s3, bucket, path = lab.client("s3"), lab.names.landing_bucket, s3lib.dataset_path()
    try:
        head = s3.head_object(Bucket=bucket, Key=s3lib.DATASET_KEY)
    except ClientError as exc:
        if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
            raise Fail(f"s3://{bucket}/{s3lib.DATASET_KEY} does not exist") from None
        raise
    if head["ContentLength"] != path.stat().st_size or head["ETag"] != s3lib.md5_etag(path):
        raise Fail(f"s3://{bucket}/{s3lib.DATASET_KEY} is not the file {path.name} "
                   f"({head['ContentLength']} bytes, expected {path.stat().st_size})",
                   "upload data/customer_orders.csv itself, unchanged, in one put_object")
    if head.get("ServerSideEncryption") != s3lib.SSE:
        raise Fail(f"s3://{bucket}/{s3lib.DATASET_KEY} is stored with encryption "
                   f"{head.get('ServerSideEncryption')}, not AES256")
    return f"s3://{bucket}/{s3lib.DATASET_KEY} is there, {head['ContentLength']} bytes, AES256"
