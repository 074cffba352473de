"""aws-like mode: the bucket namespace is global, and some names are somebody else's.

"Bucket names must be unique across all AWS accounts in all the AWS Regions
within a partition" (S3 user guide, "General purpose bucket naming rules").
In aws-like mode every name that begins with one of :data:`TAKEN_PREFIXES`
belongs to another account, as ``demo-landing-zone`` surely does on AWS:

* CreateBucket answers 409 ``BucketAlreadyExists`` ("The requested bucket name
  is not available...", S3 API reference, Error responses);
* HeadBucket answers 403 with no body (HEAD responses carry none), as AWS does
  for a bucket that exists but that the caller may not access;
* any other request on the bucket or its objects is 403 ``AccessDenied``.

Buckets this emulator already holds are ours, whatever their names.
"""
from __future__ import annotations

import uuid

from labkit.emulator import aws_like

TAKEN_PREFIXES = ("demo-", "test-", "example-")
_NOT_AVAILABLE = ("The requested bucket name is not available. The bucket namespace is shared by "
                  "all users of the system. Please select a different name and try again.")


def install() -> None:
    """Nothing to patch: :class:`labkit.emulator.aws_like.AwsLikeApp` calls :func:`refusal`."""


def taken_elsewhere(bucket: str | None) -> bool:
    """Whether BUCKET belongs to another account (and not to this emulator's)."""
    if not bucket or not aws_like.enabled() or not bucket.startswith(TAKEN_PREFIXES):
        return False
    return not _held_here(bucket)


def _held_here(bucket: str) -> bool:
    from moto.s3.models import s3_backends

    for account in list(s3_backends.values()):
        backend = account.get("aws") if hasattr(account, "get") else None
        if backend is not None and bucket in backend.buckets:
            return True
    return False


def before_request(environ: dict):
    """(status line, headers, body) for an S3 request on another account's bucket, else None."""
    from labkit.emulator.request import request_of, service_from_host

    host = (environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")).split(":")[0].lower()
    if service_from_host(host) != "s3" or "s3-control" in host or "s3-accesspoint" in host:
        return None
    from labkit.emulator.services.s3 import actions

    req = request_of(environ)
    bucket = actions.target(req).bucket
    if not taken_elsewhere(bucket):
        return None
    creating = req.method == "PUT" and actions.target(req).key is None and not req.query
    if creating:
        return _error(409, "Conflict", "BucketAlreadyExists", _NOT_AVAILABLE, bucket)
    if req.method == "HEAD":
        return "403 Forbidden", [("x-amz-request-id", _id())], b""
    return _error(403, "Forbidden", "AccessDenied", "Access Denied", bucket)


def _id() -> str:
    return uuid.uuid4().hex[:16].upper()


def _error(status: int, reason: str, code: str, message: str, bucket: str):
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            f"<BucketName>{bucket}</BucketName><RequestId>{_id()}</RequestId></Error>").encode()
    return f"{status} {reason}", [("Content-Type", "application/xml"), ("x-amz-request-id", _id())], body
