"""KMS errors with AWS's codes and messages, and their S3 forms.

KMS "Key states of AWS KMS keys" (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html):
a Disabled key fails cryptographic operations with DisabledException, a key
pending deletion fails them (and most management operations) with
KMSInvalidStateException. S3 reports a failed KMS call with the KMS code
prefixed by ``KMS.`` (e.g. ``KMS.DisabledException``).
"""
from __future__ import annotations

from typing import Tuple

Error = Tuple[str, str]  # (code, message)


def disabled(key_arn: str) -> Error:
    return "DisabledException", f"{key_arn} is disabled."


def pending_deletion(key_arn: str) -> Error:
    return "KMSInvalidStateException", f"{key_arn} is pending deletion."


def not_pending_deletion(key_arn: str) -> Error:
    return "KMSInvalidStateException", f"{key_arn} is not pending deletion."


def lockout() -> Error:
    # KMS "Default key policy": the policy lockout safety check.
    return ("MalformedPolicyDocumentException",
            "The new key policy will not allow you to update the key policy in the future.")


def malformed(reason: str) -> Error:
    return "MalformedPolicyDocumentException", reason


def not_found(ref: str) -> Error:
    return "NotFoundException", f"Invalid keyId {ref}"


def s3_code(error: Error) -> str:
    """The code S3 reports for a KMS error met while serving an S3 request."""
    return "KMS." + error[0]

