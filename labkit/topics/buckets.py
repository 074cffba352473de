"""Lesson 02: the landing-zone and analysis buckets, locked down and encrypted.

``build(lab)`` is lesson 02's reference end state that later lessons rely on:
buckets ``NAME-landing-zone`` and ``NAME-analysis`` in ``lab.region`` with

- Block Public Access: all four settings on;
- Object Ownership ``BucketOwnerEnforced`` (ACLs disabled: the bucket owner owns every object);
- default encryption SSE-S3 (AES256);
- versioning enabled;
- a bucket policy that denies uploads without server-side encryption (two statements:
  the header is missing, or it names something other than AES256/aws:kms) and denies
  every request made over plain HTTP (``aws:SecureTransport`` false);

and the course dataset (data/customer_orders.csv) uploaded, encrypted, to
``raw/`` in the landing zone. ``bucket_policy(lab, bucket)`` is the full policy
document; lesson 03 adds the access point delegation statement with
``with_access_points=True``.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from botocore.exceptions import ClientError

from labkit import config

SSE = "AES256"
#: Server-side encryption values the bucket policy accepts in uploads.
ACCEPTED_SSE = ("AES256", "aws:kms")
DATASET_FILE = "customer_orders.csv"
#: Where the dataset lives in the landing zone.
DATASET_KEY = f"raw/{DATASET_FILE}"
PUBLIC_ACCESS_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                       "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
#: Sids of lesson 02's statements and of lesson 03's delegation statement.
SID_WRONG_SSE = "DenyIncorrectEncryptionHeader"
SID_NO_SSE = "DenyUnencryptedObjectUploads"
SID_TLS = "DenyInsecureTransport"
SID_DELEGATE = "DelegateAccessControlToAccessPoints"


# --------------------------------------------------------------------------- names
def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def objects_arn(bucket: str) -> str:
    """The ARN of every object in ``bucket`` (what object-level actions apply to)."""
    return f"arn:aws:s3:::{bucket}/*"


def dataset_path() -> Path:
    """The course dataset on disk (written by data/make_dataset.py)."""
    path = config.data_dir() / DATASET_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python data/make_dataset.py` "
                                f"in the course checkout to create it")
    return path


def _check_bucket(lab, bucket: str) -> str:
    if bucket not in lab.names.buckets:
        raise ValueError(f"{bucket!r} is not one of this lab's buckets "
                         f"{lab.names.buckets}; pass lab.names.landing_bucket or "
                         f"lab.names.analysis_bucket")
    return bucket


# --------------------------------------------------------------------------- policy
def encryption_statements(bucket: str) -> list[dict]:
    """Deny s3:PutObject without server-side encryption: wrong value, or no header at all.

    Two statements because a condition on a key the request lacks does not match
    the way people expect: StringNotEquals covers a header with the wrong value,
    Null covers a missing header.
    """
    return [
        {"Sid": SID_WRONG_SSE, "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": objects_arn(bucket),
         "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": list(ACCEPTED_SSE)}}},
        {"Sid": SID_NO_SSE, "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": objects_arn(bucket),
         "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}},
    ]


def tls_statement(bucket: str) -> dict:
    """Deny every request that does not use HTTPS (AWS's recommended guard)."""
    return {"Sid": SID_TLS, "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [bucket_arn(bucket), objects_arn(bucket)],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def delegation_statement(lab, bucket: str) -> dict:
    """Allow what this bucket's own access point allows (lesson 03).

    AWS's delegation pattern: the bucket lets an access point decide, so access
    control lives in the access point policy. The condition names the one access
    point (``s3:DataAccessPointArn``), not every access point of the account
    (``s3:DataAccessPointAccount``): with the account-wide form, an access point
    that anyone allowed to create one (the engineers) makes with a permissive
    policy would be trusted by the bucket too.
    """
    access_point = lab.names.access_point_of(_check_bucket(lab, bucket))
    return {"Sid": SID_DELEGATE, "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*",
            "Resource": [bucket_arn(bucket), objects_arn(bucket)],
            "Condition": {"StringEquals": {
                "s3:DataAccessPointArn": access_point_arn(lab, access_point)}}}


def access_point_arn(lab, access_point_name: str) -> str:
    """"arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME" (labkit.topics.access_points.arn)."""
    return f"arn:aws:s3:{lab.region}:{lab.account_id}:accesspoint/{access_point_name}"


def bucket_policy(lab, bucket: str, with_access_points: bool = False) -> dict:
    """The full bucket policy document for ``bucket`` (one of lab.names.buckets).

    Lesson 02's statements (encryption and TLS guards); with
    ``with_access_points=True`` also lesson 03's delegation to access points.
    """
    _check_bucket(lab, bucket)
    statements = encryption_statements(bucket) + [tls_statement(bucket)]
    if with_access_points:
        statements.append(delegation_statement(lab, bucket))
    return {"Version": "2012-10-17", "Statement": statements}


def current_policy(s3, bucket: str) -> dict | None:
    """The bucket policy now in force, or None when the bucket has none."""
    try:
        return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchBucketPolicy":
            return None
        raise


def has_statement(policy: dict | None, sid: str) -> bool:
    statements = (policy or {}).get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    return any(isinstance(s, dict) and s.get("Sid") == sid for s in statements)


def put_policy(lab, bucket: str, with_access_points: bool = False) -> dict:
    """Put ``bucket_policy(...)`` on ``bucket``; return the document put."""
    document = bucket_policy(lab, bucket, with_access_points)
    lab.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
    return document


# --------------------------------------------------------------------------- buckets
def create_bucket(s3, bucket: str, region: str) -> None:
    """Create ``bucket`` in ``region``, coping with S3's one regional quirk.

    Every region must be named in CreateBucketConfiguration, except S3's legacy
    default region, which must not be: S3 answers InvalidLocationConstraint,
    and the bucket is then created without a configuration (which puts it there).
    """
    try:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "InvalidLocationConstraint":
            raise
        s3.create_bucket(Bucket=bucket)


def ensure_bucket(s3, bucket: str, region: str) -> bool:
    """Create ``bucket`` in ``region`` unless we own it already; True if created."""
    try:
        if bucket_exists(s3, bucket):
            return False
    except ClientError as exc:  # 403: it exists, and it is not ours
        if exc.response["Error"]["Code"] in ("403", "AccessDenied", "Forbidden"):
            raise RuntimeError(f"bucket {bucket} belongs to another AWS account (bucket names "
                               f"are global): choose another NAME") from exc
        raise
    try:
        create_bucket(s3, bucket, region)
        return True
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "BucketAlreadyExists":
            raise RuntimeError(f"bucket {bucket} belongs to another AWS account (bucket names "
                               f"are global): choose another NAME") from exc
        raise


def bucket_region(s3, bucket: str) -> str:
    """The region ``bucket`` lives in, as HeadBucket reports it."""
    answer = s3.head_bucket(Bucket=bucket)
    return answer.get("BucketRegion") or answer["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"]


def lock_down(s3, bucket: str) -> None:
    """Block Public Access on, ACLs disabled, default SSE-S3, versioning on."""
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": SSE}}]})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def md5_etag(path: Path) -> str:
    """The ETag S3 gives a single-part upload of ``path`` (its MD5, quoted)."""
    return '"' + hashlib.md5(path.read_bytes()).hexdigest() + '"'


def upload_dataset(lab, profile: str | None = None) -> bool:
    """Upload the dataset, SSE-S3 encrypted, to DATASET_KEY in the landing zone.

    Skips the upload when the same bytes are already there (versioning would
    otherwise keep a new copy on every run). Returns True if it uploaded.
    """
    s3, bucket, path = lab.client("s3", profile), lab.names.landing_bucket, dataset_path()
    try:
        if s3.head_object(Bucket=bucket, Key=DATASET_KEY)["ETag"] == md5_etag(path):
            return False
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.put_object(Bucket=bucket, Key=DATASET_KEY, Body=path.read_bytes(),
                  ServerSideEncryption=SSE, ContentType="text/csv")
    return True


def build(lab) -> None:
    """Lesson 02's end state (reference solution); safe to run any number of times.

    Keeps lesson 03's delegation statement if the bucket policy already has it,
    so rebuilding lesson 02 does not undo lesson 03.
    """
    s3 = lab.client("s3")
    for bucket in lab.names.buckets:
        ensure_bucket(s3, bucket, lab.region)
        lock_down(s3, bucket)
        put_policy(lab, bucket, has_statement(current_policy(s3, bucket), SID_DELEGATE))
    upload_dataset(lab)


# --------------------------------------------------------------------------- teardown
def bucket_exists(s3, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
        return True
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise


def empty_bucket(s3, bucket: str) -> int:
    """Delete every object version and delete marker; return how many were deleted.

    Raises RuntimeError naming the first keys S3 refused to delete.
    """
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                  for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for start in range(0, len(doomed), 1000):  # DeleteObjects takes at most 1000 keys
            answer = s3.delete_objects(Bucket=bucket,
                                       Delete={"Objects": doomed[start:start + 1000], "Quiet": True})
            errors = answer.get("Errors", [])
            if errors:
                first = errors[0]
                raise RuntimeError(f"{len(errors)} object version(s) could not be deleted, e.g. "
                                   f"{first['Key']}: {first.get('Code')} {first.get('Message')}")
            deleted += len(doomed[start:start + 1000])
    return deleted


def teardown(lab) -> list[str]:
    """Remove both buckets (every version, every delete marker, then the bucket).

    Tear the access points down first (labkit.topics.access_points.teardown). Returns
    what could not be removed, each with its reason; empty when all went.
    """
    s3, problems = lab.client("s3"), []
    for bucket in lab.names.buckets:
        try:
            if not bucket_exists(s3, bucket):
                continue
            # A learner's policy may deny deletes: remove it first so it cannot lock us out.
            s3.delete_bucket_policy(Bucket=bucket)
            empty_bucket(s3, bucket)
            s3.delete_bucket(Bucket=bucket)
        except (ClientError, RuntimeError) as exc:
            problems.append(f"bucket {bucket}: {exc}")
    return problems


def leftovers(lab) -> list[str]:
    """Buckets of this lab that still exist (empty after teardown)."""
    s3 = lab.client("s3")
    return [f"bucket {bucket}" for bucket in lab.names.buckets if bucket_exists(s3, bucket)]


# --------------------------------------------------------------------------- global names
def owner_of(s3, bucket: str, account_id: str) -> str:
    """Who holds ``bucket``: "free", "ours" (account_id's) or "other" (another account).

    Bucket names are global across accounts (S3 user guide, "General purpose bucket
    naming rules"). HeadBucket answers 404 for a free name and 403 for a bucket that
    exists but is not the caller's; ExpectedBucketOwner makes it 403 too when the
    bucket is readable but owned elsewhere (S3 user guide, "Verifying bucket ownership").
    """
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account_id)
        return "ours"
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in ("404", "NoSuchBucket", "NotFound"):
            return "free"
        if code in ("403", "AccessDenied", "Forbidden"):
            return "other"
        raise


def _candidates(name: str, account_id: str):
    """NAMEs to offer instead of ``name``: short, valid, and tied to the account."""
    import secrets

    from labkit.names import MAX_LENGTH

    stem = name[:MAX_LENGTH - 5].rstrip("-")
    yield f"{stem}{account_id[-4:]}"
    yield f"{stem}-{account_id[-4:]}"
    for _ in range(4):
        yield f"{stem}{secrets.randbelow(9000) + 1000}"


def suggest_name(s3, name: str, account_id: str) -> str | None:
    """A NAME near ``name`` whose buckets are all free (or already ours), or None."""
    from labkit.names import Names

    for candidate in _candidates(name, account_id):
        try:
            names = Names.for_learner(candidate)
        except ValueError:
            continue
        if all(owner_of(s3, b, account_id) != "other" for b in names.buckets):
            return candidate
    return None


def require_free_names(s3, names, account_id: str) -> None:
    """Refuse (ValueError) before anything is created when a lab bucket belongs to
    another account; suggest a NAME whose buckets are free."""
    for bucket in names.buckets:
        if owner_of(s3, bucket, account_id) != "other":
            continue
        better = suggest_name(s3, names.name, account_id)
        hint = (f"for example NAME = {better!r} (its buckets {', '.join(_buckets_of(better))} "
                "are free)" if better else "add your initials or a few digits to it")
        raise ValueError(
            f"The S3 bucket {bucket} belongs to another AWS account: bucket names are global, "
            f"shared by every account, and NAME={names.name!r} names this lab's buckets. "
            f"Nothing was created. Choose another NAME, {hint}.")


def _buckets_of(name: str) -> tuple[str, str]:
    from labkit.names import Names

    return Names(name).buckets
