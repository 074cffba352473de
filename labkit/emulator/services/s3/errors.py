"""The S3 errors the fidelity layer raises, with AWS's codes and messages.

They subclass moto's S3ClientError so moto's S3 responses serialize them like
its own errors (AccessDenied becomes 403, the others 400).
"""
from __future__ import annotations

from moto.s3.exceptions import S3ClientError


class MalformedPolicyError(S3ClientError):
    """400 MalformedPolicy: the bucket policy is refused; the bucket is unchanged."""

    code = "MalformedPolicy"


class PublicPolicyBlocked(S3ClientError):
    """403 AccessDenied: BlockPublicPolicy refuses a public policy."""

    code = "AccessDenied"

    def __init__(self, caller_arn: str, action: str, resource_arn: str):
        super().__init__(
            f"User: {caller_arn} is not authorized to perform: {action} on resource: "
            f'"{resource_arn}" because public policies are blocked by the '
            "BlockPublicPolicy block public access setting."
        )


class PublicAclBlocked(S3ClientError):
    """403 AccessDenied: BlockPublicAcls refuses a request that sets a public ACL."""

    code = "AccessDenied"

    def __init__(self) -> None:
        super().__init__("Access Denied")


class AclNotSupported(S3ClientError):
    """400 AccessControlListNotSupported: the bucket has ACLs disabled."""

    code = "AccessControlListNotSupported"

    def __init__(self) -> None:
        super().__init__("The bucket does not allow ACLs")


class InvalidBucketAclWithObjectOwnership(S3ClientError):
    """400: an ACL granting others on a bucket whose ObjectOwnership is BucketOwnerEnforced."""

    code = "InvalidBucketAclWithObjectOwnership"

    def __init__(self) -> None:
        super().__init__(
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
        )


class InvalidBucketAclWithBlockPublicAccess(S3ClientError):
    """400: CreateBucket with a public ACL while Block Public Access is on."""

    code = "InvalidBucketAclWithBlockPublicAccessError"

    def __init__(self) -> None:
        super().__init__("Bucket cannot have public ACLs set with BlockPublicAccess enabled")
