"""One AWS request as the authorization layer sees it.

:func:`parse_request` reads a WSGI environ once (the body is put back for
moto) and finds what AWS would: the service and region from the SigV4
credential scope (Authorization header or presigned ``X-Amz-Credential``), the
access key id and session token, the host, path, query and headers, and for
query/JSON protocols the operation name. S3 operations are found later, by
labkit.emulator.services.s3.actions, because they depend on the host and subresources.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional
from urllib.parse import parse_qs, unquote

from labkit import config

# "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=..."
_SIGV4 = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
# SigV2 (old S3 clients): "AWS AKID:signature"
_SIGV2 = re.compile(r"^AWS ([^:\s]+):")
# smithy rpc-v2-cbor: /service/<ServiceShape>/operation/<Operation>
_RPC_V2 = re.compile(r"^/service/[^/]+/operation/([A-Za-z0-9]+)$")
_FORM = "application/x-www-form-urlencoded"



@dataclass
class AwsRequest:
    """What one HTTP request asks of AWS (header names lower-case)."""

    method: str
    host: str
    path: str                       # percent-decoded path
    raw_path: str                   # as sent
    query: Dict[str, List[str]]
    headers: Dict[str, str]
    body: bytes
    service: str                    # signing name: s3, iam, sts, ec2, monitoring, ...
    region: str
    access_key_id: Optional[str]    # None when unsigned (anonymous)
    session_token: Optional[str]
    source_ip: str
    secure: bool
    params: Dict[str, List[str]] = field(default_factory=dict)  # query + form body
    operation: Optional[str] = None  # query/JSON protocols; S3 is found by services.s3.actions

    @property
    def signed(self) -> bool:
        return self.access_key_id is not None

    def param(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """First value of a query/form parameter."""
        values = self.params.get(name)
        return values[0] if values else default

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        return self.headers.get(name.lower(), default)

    def json_body(self) -> dict:
        """The body as JSON (JSON protocols); {} if it is not JSON."""
        import json

        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


def _headers(environ: dict) -> Dict[str, str]:
    out = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            out[key[5:].replace("_", "-").lower()] = value
    if environ.get("CONTENT_TYPE"):
        out["content-type"] = environ["CONTENT_TYPE"]
    return out


def _read_body(environ: dict) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = stream.read(length) if length else stream.read()
    # moto reads the body again: hand it a fresh stream.
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def service_from_host(host: str) -> str:
    """The signing name a host implies (for unsigned requests)."""
    labels = host.lower().split(".")
    if ".s3" in "." + host or "s3-" in host or host.startswith("s3."):
        return "s3"
    from labkit.emulator import services  # the registry: which service declares the host

    return services.signing_name_of_host(host) or (labels[0] if labels else "")


def _credentials(headers: Dict[str, str], query: Dict[str, List[str]]):
    """(access key id, service, region) from the signature, or Nones."""
    auth = headers.get("authorization", "")
    m = _SIGV4.search(auth)
    if m is None and "X-Amz-Credential" in query:
        m = _SIGV4.search("Credential=" + query["X-Amz-Credential"][0])
    if m:
        return m.group(1), m.group(4), m.group(3)
    m2 = _SIGV2.match(auth)
    if m2:
        return m2.group(1), None, None
    if "AWSAccessKeyId" in query:
        return query["AWSAccessKeyId"][0], None, None
    return None, None, None


def _operation(service: str, headers: Dict[str, str], path: str, params) -> Optional[str]:
    target = headers.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    if "Action" in params:
        return params["Action"][0]
    m = _RPC_V2.match(path)
    return m.group(1) if m else None


#: The WSGI environ key the parsed request travels under, so it is parsed once.
REQUEST_ENVIRON = "labkit.request"
#: Operations of query/JSON services that change nothing (IAM and STS caches stay valid).
READ_PREFIXES = ("Get", "List", "Simulate", "Generate")


def request_of(environ: dict) -> AwsRequest:
    """The request ENVIRON carries, parsed on first use and then travelling with it."""
    req = environ.get(REQUEST_ENVIRON)
    if req is None:
        req = environ[REQUEST_ENVIRON] = parse_request(environ)
    return req


def parse_request(environ: dict) -> AwsRequest:
    """Read ENVIRON (the proxy's WSGI environ) into an :class:`AwsRequest`."""
    headers = _headers(environ)
    host = (headers.get("host") or environ.get("SERVER_NAME", "")).split(":")[0].lower()
    raw_path = environ.get("RAW_URI", environ.get("PATH_INFO", "/")).split("?", 1)[0] or "/"
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    body = _read_body(environ)
    key, service, region = _credentials(headers, query)
    service = service or service_from_host(host)
    params = dict(query)
    if headers.get("content-type", "").startswith(_FORM) and body:
        for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items():
            params.setdefault(k, v)
    token = headers.get("x-amz-security-token") or (query.get("X-Amz-Security-Token") or [None])[0]
    return AwsRequest(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        host=host,
        path=unquote(raw_path),
        raw_path=raw_path,
        query=query,
        headers=headers,
        body=body,
        service=service,
        region=region or config.region(),
        access_key_id=key,
        session_token=token,
        source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
        secure=environ.get("wsgi.url_scheme") == "https",
        params=params,
        operation=_operation(service, headers, raw_path, params),
    )
