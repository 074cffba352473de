"""Requests a service makes to another on the caller's behalf (Athena reading S3 and Glue).

IAM "Forward access sessions" (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html)
and the aws:CalledVia / aws:ViaAWSService keys ("AWS global condition context keys"):
when Athena reads a table's objects it calls S3 and Glue with the caller's own
identity; the caller's policies, the bucket policy, access points and KMS key
policies decide as for a direct call, with ``aws:ViaAWSService = true`` and
``aws:CalledVia = [athena.amazonaws.com]``, and without the caller's network keys
(aws:SourceIp...), which belong to the first hop only. CloudTrail records each such
call with ``userIdentity.invokedBy`` and ``sourceIPAddress`` set to the service.

Each request goes through the same pipeline as one from a client (the target
service's gateway or the generic path, then moto; the recorders around it): never
around it. Only the caller's identity is taken as already established.
"""
from __future__ import annotations

import io
import json
import time
from typing import Callable, Dict, List, Optional, Tuple
from urllib.parse import quote

from labkit.emulator.authz.call import CALLER_ARN_ENVIRON, Call, note_caller, recorded
from labkit.emulator.authz.decide import global_context
from labkit.emulator.authz.identity import Caller
from labkit.emulator.request import REQUEST_ENVIRON, parse_request

#: environ key naming the service a request was made by (CloudTrail's invokedBy).
INVOKED_BY_ENVIRON = "labkit.invoked_by"
#: Keys of the first hop that a forward access request does not carry.
_NOT_FORWARDED = ("aws:SourceIp", "aws:SourceVpc", "aws:SourceVpce", "aws:VpcSourceIp")

Answer = Tuple[int, Dict[str, str], bytes]


class OnBehalf:
    """A caller's identity lent to SERVICE_HOST (``athena.amazonaws.com``) for its calls."""

    def __init__(self, app: Callable, caller: Caller, access_key_id: Optional[str],
                 session_token: Optional[str], via: str, region: str,
                 template: Optional[dict] = None):
        self.app, self.caller, self.via, self.region = app, caller, via, region
        self.access_key_id, self.session_token = access_key_id, session_token
        self._template = {k: v for k, v in (template or {}).items()
                          if k.startswith(("wsgi.", "SERVER_"))}

    @classmethod
    def of(cls, call: Call, via: str) -> "OnBehalf":
        """The caller of CALL lent to VIA."""
        return cls(call.app, call.caller, call.req.access_key_id, call.req.session_token, via,
                   call.req.region, call.environ)

    # --- the two protocols the lab needs -------------------------------------------
    def s3(self, method: str, bucket: str, key: Optional[str] = None, query: str = "",
           body: bytes = b"", headers: Optional[Dict[str, str]] = None) -> Answer:
        path = "/" + quote(bucket) + ("/" + quote(key, safe="/~") if key is not None else "")
        return self._serve("s3", method, f"s3.{self.region}.amazonaws.com", path, query,
                           body, headers or {})

    def json(self, service: str, target: str, payload: dict) -> Tuple[int, dict]:
        """A JSON-protocol call (X-Amz-Target TARGET); (status, decoded body)."""
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
        status, _, body = self._serve(service, "POST", f"{service}.{self.region}.amazonaws.com",
                                      "/", "", json.dumps(payload).encode(), headers)
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = {}
        return status, data if isinstance(data, dict) else {}

    # --- the pipeline ------------------------------------------------------------
    def _environ(self, service, method, host, path, query, body, headers) -> dict:
        date = time.strftime("%Y%m%d", time.gmtime())
        environ = dict(self._template)
        environ.update({
            "REQUEST_METHOD": method, "PATH_INFO": path, "RAW_URI": path + (
                "?" + query if query else ""), "QUERY_STRING": query,
            "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
            "wsgi.url_scheme": "https", "REMOTE_ADDR": self.via,
            "HTTP_HOST": host, "HTTP_USER_AGENT": self.via,
            INVOKED_BY_ENVIRON: self.via,
        })
        environ.setdefault("SERVER_NAME", host)
        environ.setdefault("SERVER_PORT", "443")
        akid = self.access_key_id
        environ["HTTP_AUTHORIZATION"] = (
            f"AWS4-HMAC-SHA256 Credential={akid}/{date}/{self.region}/{service}/aws4_request, "
            "SignedHeaders=host, Signature=forward-access-session")
        if self.session_token:
            environ["HTTP_X_AMZ_SECURITY_TOKEN"] = self.session_token
        for name, value in headers.items():
            if name.lower() == "content-type":
                environ["CONTENT_TYPE"] = value
            else:
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        return environ

    def _serve(self, service, method, host, path, query, body, headers) -> Answer:
        environ = self._environ(service, method, host, path, query, body, headers)
        box: dict = {}

        def start_response(status, response_headers, exc_info=None):
            box["status"], box["headers"] = status, response_headers
            return lambda data: box.setdefault("written", []).append(data)

        result = recorded(self._authorize)(environ, start_response)
        try:
            data = b"".join(box.get("written", [])) + b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        status = int(str(box.get("status", "500")).split(" ", 1)[0])
        return status, {k.lower(): v for k, v in box.get("headers", [])}, data

    def _authorize(self, environ: dict, start_response: Callable):
        req = environ[REQUEST_ENVIRON] = parse_request(environ)
        environ[CALLER_ARN_ENVIRON] = self.caller.arn
        note_caller(environ, req, self.caller)
        base = {k: v for k, v in global_context(req, self.caller).items()
                if k not in _NOT_FORWARDED}
        base.update({"aws:ViaAWSService": "true", "aws:CalledVia": [self.via],
                     "aws:CalledViaFirst": self.via, "aws:CalledViaLast": self.via})
        return Call(self.app, req, self.caller, base, environ, start_response).serve()


def xml_values(body: bytes, tag: str) -> List[str]:
    """Every TAG element's text in an S3 XML answer (namespace ignored)."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return []
    return [el.text or "" for el in root.iter() if el.tag.rsplit("}", 1)[-1] == tag]
