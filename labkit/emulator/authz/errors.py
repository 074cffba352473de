"""AWS-shaped error responses, per wire protocol, for denials and bad credentials.

Each function returns ``(status, headers, body)``. The shapes are the ones
botocore parses into ``ClientError`` with the same ``Error.Code`` real AWS
gives: S3 ``<Error>``; query services ``<ErrorResponse>``; EC2
``<Response><Errors>``; JSON ``{"__type": ...}``; REST-JSON with
``x-amzn-ErrorType``; smithy RPC v2 CBOR (CloudWatch).
"""
from __future__ import annotations

import json
import struct
import uuid
from typing import List, Tuple
from xml.sax.saxutils import escape

from labkit.emulator.request import AwsRequest

Response = Tuple[int, List[Tuple[str, str]], bytes]

_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}
_REST_JSON = {"lambda", "eks"}
#: JSON/CBOR services that keep their old query-API error codes (awsQueryCompatible)
_QUERY_COMPATIBLE = {"monitoring"}
#: query-API codes of query-compatible JSON/CBOR services (CloudWatch)
_QUERY_CODES = {"AccessDeniedException": "AccessDenied",
                "SignatureDoesNotMatch": "SignatureDoesNotMatch",
                "UnrecognizedClientException": "InvalidClientTokenId",
                "MissingAuthenticationTokenException": "MissingAuthenticationToken"}


def protocol(req: AwsRequest) -> str:
    """The wire protocol of REQ: s3, ec2, query, json, rest-json or cbor."""
    if req.service == "s3":
        return "s3"
    if req.service == "ec2":
        return "ec2"
    if req.headers.get("smithy-protocol") == "rpc-v2-cbor" or req.path.startswith("/service/"):
        return "cbor"
    if "x-amz-target" in req.headers:
        return "json"
    if req.service in _REST_JSON:
        return "rest-json"
    return "query"


def status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Error')}"


def _request_id() -> str:
    return str(uuid.uuid4())


def _xml(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8")


def error(req: AwsRequest, status: int, code: str, message: str, extra: str = "") -> Response:
    """An error response in REQ's protocol."""
    rid = _request_id()
    proto = protocol(req)
    msg = escape(message)
    if proto == "s3":
        body = (f"<Error><Code>{code}</Code><Message>{msg}</Message>{extra}"
                f"<RequestId>{rid}</RequestId><HostId>{rid}</HostId></Error>")
        return status, [("Content-Type", "application/xml"), ("x-amz-request-id", rid)], _xml(body)
    if proto == "ec2":
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{msg}</Message></Error>"
                f"</Errors><RequestID>{rid}</RequestID></Response>")
        return status, [("Content-Type", "text/xml;charset=UTF-8")], _xml(body)
    if proto == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"),
                   ("x-amzn-RequestId", rid), ("x-amzn-ErrorType", code)]
        if req.service in _QUERY_COMPATIBLE:
            headers.append(("x-amzn-query-error", f"{_QUERY_CODES.get(code, code)};Sender"))
        return status, headers, body
    if proto == "rest-json":
        body = json.dumps({"Message": message, "message": message}).encode()
        return status, [("Content-Type", "application/json"), ("x-amzn-RequestId", rid),
                        ("x-amzn-ErrorType", code)], body
    if proto == "cbor":
        body = cbor_map({"__type": code, "message": message})
        # CloudWatch is "query compatible": clients report the query-API code from this header.
        query_code = _QUERY_CODES.get(code, code)
        return status, [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                        ("x-amzn-RequestId", rid),
                        ("x-amzn-query-error", f"{query_code};Sender")], body
    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{msg}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>")
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], _xml(body)


def access_denied(req: AwsRequest, message: str) -> Response:
    """The denial AWS gives in REQ's protocol, with MESSAGE (labkit.policy's Decision text)."""
    proto = protocol(req)
    if proto == "ec2":
        return error(req, 403, "UnauthorizedOperation",
                     f"You are not authorized to perform this operation. {message}")
    if proto == "cbor" or req.service in _QUERY_COMPATIBLE:
        return error(req, 403, "AccessDeniedException", message)
    if proto == "json":
        return error(req, 400, "AccessDeniedException", message)
    if proto == "rest-json":
        return error(req, 403, "AccessDeniedException", message)
    return error(req, 403, "AccessDenied", message)


def invalid_key(req: AwsRequest, access_key_id: str, reason: str = "InvalidId") -> Response:
    """AWS's answer to an access key it never issued (or a bad session token)."""
    proto = protocol(req)
    if proto == "s3":
        if reason == "InvalidToken":
            return error(req, 400, "InvalidToken",
                         "The provided token is malformed or otherwise invalid.")
        return error(req, 403, "InvalidAccessKeyId",
                     "The AWS Access Key Id you provided does not exist in our records.",
                     f"<AWSAccessKeyId>{escape(access_key_id)}</AWSAccessKeyId>")
    if proto == "ec2":
        return error(req, 401, "AuthFailure",
                     "AWS was not able to validate the provided access credentials")
    message = "The security token included in the request is invalid."
    if proto == "cbor" or req.service in _QUERY_COMPATIBLE:
        return error(req, 403, "UnrecognizedClientException", message)
    if proto == "json":
        return error(req, 400, "UnrecognizedClientException", message)
    if proto == "rest-json":
        return error(req, 403, "UnrecognizedClientException", message)
    return error(req, 403, "InvalidClientTokenId", message)


# ----------------------------------------------------------------------------- CBOR

def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    if n < 256:
        return bytes([major << 5 | 24, n])
    if n < 65536:
        return bytes([major << 5 | 25]) + struct.pack(">H", n)
    return bytes([major << 5 | 26]) + struct.pack(">I", n)


def cbor_map(data: dict) -> bytes:
    """CBOR encoding of a flat str -> str map (all smithy RPC v2 errors need)."""
    out = [_cbor_head(5, len(data))]
    for key, value in data.items():
        for text in (key, value):
            raw = text.encode("utf-8")
            out.append(_cbor_head(3, len(raw)) + raw)
    return b"".join(out)


SIGNATURE_MESSAGE = ("The request signature we calculated does not match the signature you "
                     "provided. Check your AWS Secret Access Key and signing method. Consult the "
                     "service documentation for details.")


def bad_signature(req: AwsRequest, access_key_id: str) -> Response:
    """AWS's answer to a request signed with the wrong secret key."""
    proto = protocol(req)
    if proto == "s3":
        return error(req, 403, "SignatureDoesNotMatch", SIGNATURE_MESSAGE,
                     f"<AWSAccessKeyId>{escape(access_key_id)}</AWSAccessKeyId>")
    if proto == "ec2":
        return error(req, 401, "AuthFailure",
                     "AWS was not able to validate the provided access credentials")
    if proto == "cbor" or req.service in _QUERY_COMPATIBLE:
        return error(req, 403, "SignatureDoesNotMatch", SIGNATURE_MESSAGE)
    if proto == "json":
        return error(req, 400, "InvalidSignatureException", SIGNATURE_MESSAGE)
    if proto == "rest-json":
        return error(req, 403, "InvalidSignatureException", SIGNATURE_MESSAGE)
    return error(req, 403, "SignatureDoesNotMatch", SIGNATURE_MESSAGE)
