"""SigV4 signature check: a wrong secret key fails as on AWS (SignatureDoesNotMatch).

Without it a learner who mistyped a secret in ``aws configure`` would succeed
in the emulator and fail on AWS. The canonical request is rebuilt from the
request as received (the proxy passes the raw path, query and headers). Where
clients legitimately differ (S3 signs the path as sent, other services encode
it once more; the payload may be hashed or declared unsigned), every form
AWS accepts is tried: a wrong secret matches none of them.

Set LABKIT_EMULATOR_VERIFY_SIGNATURES=0 to switch the check off.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
from typing import Iterable, Optional
from urllib.parse import quote

from labkit.emulator.request import AwsRequest

_AUTH = re.compile(r"Credential=(?P<cred>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),\s*"
                   r"Signature=(?P<sig>[0-9a-f]+)")
_UNSIGNED = ("UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")


def enabled() -> bool:
    return os.environ.get("LABKIT_EMULATOR_VERIFY_SIGNATURES", "1") not in ("0", "false", "no")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode("utf-8"), date)
    return _hmac(_hmac(_hmac(key, region), service), "aws4_request")


def _canonical_query(raw_query: str, presigned: bool) -> str:
    pairs = []
    for pair in raw_query.split("&") if raw_query else []:
        key, _, value = pair.partition("=")
        if presigned and key == "X-Amz-Signature":
            continue
        pairs.append((key, value))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _header(req: AwsRequest, environ: dict, name: str) -> str:
    if name == "content-length":
        value = environ.get("CONTENT_LENGTH", "")
    else:
        value = req.headers.get(name, "")
    return " ".join(value.split())


def _paths(raw_path: str) -> Iterable[str]:
    yield raw_path                                   # S3: as sent
    yield quote(raw_path, safe="/~")                 # other services: encoded once more


def _payloads(req: AwsRequest, presigned: bool) -> Iterable[str]:
    declared = req.headers.get("x-amz-content-sha256")
    if declared:
        yield declared
        return
    if presigned and req.service == "s3":
        yield "UNSIGNED-PAYLOAD"
        return
    yield hashlib.sha256(req.body).hexdigest()
    yield from _UNSIGNED


def matches(req: AwsRequest, environ: dict, secret: str) -> bool:
    """True if REQ's SigV4 signature was made with SECRET (SigV2/unsigned: True, not checked)."""
    auth = req.headers.get("authorization", "")
    raw_query = environ.get("QUERY_STRING", "")
    presigned = "X-Amz-Signature" in req.query
    if auth.startswith("AWS4-HMAC-SHA256"):
        m = _AUTH.search(auth)
        if m is None:
            return False
        credential, signed, signature = m.group("cred"), m.group("signed"), m.group("sig")
        timestamp = req.headers.get("x-amz-date", "")
    elif presigned:
        credential = req.query.get("X-Amz-Credential", [""])[0]
        signed = req.query.get("X-Amz-SignedHeaders", ["host"])[0]
        signature = req.query["X-Amz-Signature"][0]
        timestamp = req.query.get("X-Amz-Date", [""])[0]
    else:
        return True
    parts = credential.split("/")
    if len(parts) != 5:
        return False
    _key, date, region, service, _term = parts
    names = signed.split(";")
    headers = "".join(f"{n}:{_header(req, environ, n)}\n" for n in names)
    query = _canonical_query(raw_query, presigned)
    scope = "/".join(parts[1:])
    key = signing_key(secret, date, region, service)
    for path in _paths(req.raw_path):
        for payload in _payloads(req, presigned):
            canonical = "\n".join([req.method, path, query, headers, signed, payload])
            to_sign = "\n".join(["AWS4-HMAC-SHA256", timestamp, scope,
                                 hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
            expected = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
            if hmac.compare_digest(expected, signature):
                return True
    return False


def secret_for(access_key_id: str, root_access_key_id: Optional[str],
               root_secret_access_key: Optional[str] = None) -> Optional[str]:
    """The secret moto (or the lab root) holds for ACCESS_KEY_ID, or None if unknown."""
    if access_key_id == root_access_key_id:
        return root_secret_access_key
    from labkit.emulator.authz.identity import find_key

    found = find_key(access_key_id)
    return found[1].secret_access_key if found else None


# --- time: presigned URL lifetimes and clock skew (S3) -------------------------------------
#: S3 user guide, "Sharing objects with presigned URLs": a SigV4 presigned URL lives at most
#: seven days; S3 refuses a signed request whose time is more than 15 minutes off its own.
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600
MAX_SKEW_SECONDS = 15 * 60


def timing_problem(req: AwsRequest, now: float) -> Optional[tuple]:
    """(status, code, message) when S3 would refuse REQ for its times, else None."""
    if req.service != "s3":
        return None
    if "X-Amz-Signature" in req.query:
        return _presigned_problem(req, now)
    expires = req.query.get("Expires", [""])[0]
    if "Signature" in req.query and expires.isdigit() and now > int(expires):
        return 403, "AccessDenied", "Request has expired"  # a SigV2 presigned URL
    stamp = _epoch(req.headers.get("x-amz-date", ""))
    if stamp is not None and abs(now - stamp) > MAX_SKEW_SECONDS:
        return (403, "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.")
    return None


def _presigned_problem(req: AwsRequest, now: float) -> Optional[tuple]:
    expires = req.query.get("X-Amz-Expires", [""])[0]
    signed_at = _epoch(req.query.get("X-Amz-Date", [""])[0])
    if not expires.isdigit() or signed_at is None:
        return (400, "AuthorizationQueryParametersError",
                "X-Amz-Expires should be a number" if signed_at is not None else
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
    if int(expires) > MAX_PRESIGNED_SECONDS:
        return (400, "AuthorizationQueryParametersError",
                f"X-Amz-Expires must be less than a week (in seconds) that is "
                f"{MAX_PRESIGNED_SECONDS}")
    if now > signed_at + int(expires):
        return 403, "AccessDenied", "Request has expired"
    return None


def _epoch(stamp: str) -> Optional[float]:
    from datetime import datetime, timezone

    try:
        return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None
