"""The WSGI layer in front of moto: find the caller, decide, then pass on or deny.

Per request: parse it (labkit.emulator.request), resolve the access key to a
caller (unknown key -> InvalidAccessKeyId / InvalidClientTokenId), work out the
permissions it needs (services.s3.actions / authz.generic), decide each with
labkit.policy, and either hand the request to moto or answer with the
service's AccessDenied. A few calls are answered here because moto gets them
wrong or lacks them: STS GetCallerIdentity for the root key, IAM Simulate*,
S3 DeleteObjects (decided per key).
"""
from __future__ import annotations

import base64
import hashlib
import uuid
import xml.etree.ElementTree as ET
from typing import Callable, List, Optional, Tuple
from xml.sax.saxutils import escape

from labkit import config
from labkit.emulator.authz import coverage, errors, generic, identity, signature
from labkit.emulator.services.s3 import actions as s3
from labkit.emulator.services.iam import simulate
from labkit.emulator.services.kms import gateway as kms_gateway, s3 as kms_s3
from labkit.emulator.services.sts import actions as sts
from labkit.emulator.authz.decide import decide, denial_message, global_context
from labkit.emulator.authz.identity import Caller, UnknownAccessKey
from labkit.emulator.request import AwsRequest, parse_request
from labkit.policy import PolicyError, parse_policy
# --- CloudTrail (issue 13): every request served is recorded; decisions are kept for it.
from labkit.emulator.services.cloudtrail import recorder as _cloudtrail
decide = _cloudtrail.watch(decide)
# --- end CloudTrail

_S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
#: The WSGI environ key (an HTTP header to moto's handlers) carrying the caller's ARN.
CALLER_ARN_ENVIRON = "HTTP_X_LABKIT_CALLER_ARN"
#: Response header naming what the emulator could not decide (see authz.coverage).
NOTE_HEADER = "x-labkit-authorization"
#: IAM/STS operations that change nothing (no need to refresh cached policies).
_READ_PREFIXES = ("Get", "List", "Simulate", "Generate")


class AuthorizationMiddleware:
    """WSGI middleware: authorize every AWS request before moto sees it."""

    def __init__(self, app: Callable, root_access_key_id: Optional[str] = None,
                 account_id: Optional[str] = None, root_secret_access_key: Optional[str] = None):
        self.app = app
        self.root_access_key_id = root_access_key_id
        self.root_secret_access_key = root_secret_access_key
        self.account_id = account_id or config.EMULATOR_ACCOUNT_ID

    # --- WSGI ------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable):
        # CloudTrail (issue 13): record the request around everything below.
        return _cloudtrail.recorded(self._authorize, environ, start_response)

    def _authorize(self, environ: dict, start_response: Callable):
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            return self.app(environ, start_response)
        req = parse_request(environ)
        try:
            caller = identity.resolve(req.access_key_id, req.session_token,
                                      self.root_access_key_id)
        except UnknownAccessKey as exc:
            return _send(start_response, errors.invalid_key(req, exc.access_key_id, exc.reason))
        if not caller.is_anonymous:
            # Handlers behind us (the fidelity layer's messages) need the caller's ARN,
            # which moto cannot work out for the lab root; pass it along.
            environ[CALLER_ARN_ENVIRON] = caller.arn
        if not caller.is_anonymous and signature.enabled():
            secret = signature.secret_for(req.access_key_id, self.root_access_key_id,
                                          self.root_secret_access_key)
            if secret is not None and not signature.matches(req, environ, secret):
                return _send(start_response, errors.bad_signature(req, req.access_key_id))
        _cloudtrail.note(environ, req, caller)  # CloudTrail (issue 13): authenticated: record it
        if req.service == "s3":
            return self._s3(req, caller, environ, start_response)
        return self._generic(req, caller, environ, start_response)

    # --- query / JSON services ---------------------------------------------------
    def _generic(self, req: AwsRequest, caller: Caller, environ, start_response):
        if caller.is_anonymous:
            return _send(start_response, _missing_token(req))
        if req.service == "access-analyzer":  # issue 14: policy checks by labkit.policy.analyze
            from labkit.emulator.services.accessanalyzer import handler  # z3 loads on first use
            return _send(start_response, handler.handle(req, caller, global_context(req, caller)))
        if req.service == "sts" and req.operation == "GetCallerIdentity" and caller.is_root:
            return _send(start_response, _root_caller_identity(caller))
        base = global_context(req, caller)
        if req.service == "sts" and req.operation == "AssumeRole":
            return self._assume_role(req, caller, base, environ, start_response)
        if req.service == "kms":  # key policies, grants, key states: services/kms/
            return kms_gateway.handle(self.app, req, caller, base, environ, start_response)
        for action, resource, ctx in generic.checks(req, caller.account_id, caller.arn):
            check = s3.Check(action, resource, ctx, None, caller.account_id)
            decision = decide(caller, check, base)
            if not decision.allowed:
                return _send(start_response,
                             errors.access_denied(req, denial_message(caller, decision)))
        why = None if caller.is_root else generic.unmapped_reason(req)
        if why is not None:
            return _undecided(self.app, environ, start_response, req, caller, why)
        if req.service == "iam" and req.operation in simulate.OPERATIONS:
            return _send(start_response, simulate.handle(req))
        if req.service in ("iam", "sts") and not (req.operation or "").startswith(_READ_PREFIXES):
            return self._then(environ, start_response, identity.bump)
        return self.app(environ, start_response)

    def _assume_role(self, req, caller, base, environ, start_response):
        """AssumeRole: identity policies AND the role's trust policy decide."""
        decision = sts.decide_assume_role(req, caller, base)
        if decision is None:
            return _send(start_response, errors.error(req, 403, "AccessDenied", sts.ROOT_REFUSAL))
        if not decision.allowed:
            return _send(start_response,
                         errors.access_denied(req, denial_message(caller, decision)))
        return self._then(environ, start_response, identity.bump)

    def _then(self, environ, start_response, after: Callable):
        """Call moto, then AFTER (e.g. forget cached policies once IAM changed)."""
        try:
            return list(self.app(environ, start_response))
        finally:
            after()

    # --- S3 ------------------------------------------------------------------
    def _s3(self, req: AwsRequest, caller: Caller, environ, start_response):
        t = s3.target(req)
        base = global_context(req, caller)
        if not t.control and s3.is_delete_objects(req, t):
            return self._delete_objects(req, caller, t, base, environ, start_response)
        needed = s3.control_checks(req) if t.control else s3.checks(req, t)
        for check in needed:
            decision = decide(caller, check, base)
            if not decision.allowed:
                return _send(start_response,
                             errors.access_denied(req, denial_message(caller, decision)))
        why = None if needed or caller.is_root else s3.unmapped_reason(req, t)
        if why is not None:
            return _undecided(self.app, environ, start_response, req, caller, why)
        kms_refusal = None if t.control else kms_s3.refusal(req, caller, t, base)  # SSE-KMS
        if kms_refusal is not None:
            return _send(start_response, kms_refusal)
        bad_policy = _malformed_resource_policy(req, t)
        if bad_policy is not None:
            return _send(start_response, bad_policy)
        if t.alias:
            _rewrite_alias(environ, t)
        if t.key is not None and req.method == "PUT":
            _rewrite_copy_source(environ, req)
        if t.key is not None and req.method in ("GET", "HEAD") and not caller.is_root:
            return self._hide_missing_keys(req, caller, t, base, environ, start_response)
        return self.app(environ, start_response)

    def _hide_missing_keys(self, req, caller, t, base, environ, start_response):
        """AWS answers 403, not 404, for a missing key when the caller may not list the bucket."""
        status, headers, body = _call(self.app, environ)
        if status.startswith("404") and b"NoSuchKey" in body or (
                status.startswith("404") and req.method == "HEAD"):
            decision = decide(caller, s3.list_bucket_check(t), base)
            if not decision.allowed:
                return _send(start_response,
                             errors.access_denied(req, denial_message(caller, decision)))
        start_response(status, headers)
        return [body]

    def _delete_objects(self, req, caller, t, base, environ, start_response):
        """DeleteObjects: each key is decided alone; denied keys come back as Errors."""
        try:
            quiet, objects = _parse_delete(req.body)
        except ET.ParseError:
            return self.app(environ, start_response)  # moto reports MalformedXML
        allowed, denied = [], []
        for key, version in objects:
            decision = decide(caller, s3.delete_objects_check(req, t, key, version), base)
            (allowed if decision.allowed else denied).append((key, version))
        if not denied:
            return self.app(environ, start_response)
        denied_xml = "".join(
            f"<Error><Key>{escape(k)}</Key>" + (f"<VersionId>{escape(v)}</VersionId>" if v else "")
            + "<Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
            for k, v in denied)
        if not allowed:
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="{_S3_NS}">'
                    f"{denied_xml}</DeleteResult>").encode()
            return _send(start_response, (200, [("Content-Type", "application/xml")], body))
        _replace_body(environ, _delete_body(quiet, allowed))
        status, headers, body = _call(self.app, environ)
        if status.startswith("200"):
            text = body.decode("utf-8")
            cut = text.rfind("</DeleteResult>")
            if cut >= 0:
                body = (text[:cut] + denied_xml + text[cut:]).encode("utf-8")
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, headers)
        return [body]


# ----------------------------------------------------------------------------- helpers

def _send(start_response, response: errors.Response):
    status, headers, body = response
    start_response(errors.status_line(status), headers + [("Content-Length", str(len(body)))])
    return [body]


def _undecided(app, environ, start_response, req: AwsRequest, caller: Caller, why: str):
    """Pass a request the emulator cannot decide to moto, saying so in the log and in an
    x-labkit-authorization response header (never a silent allow)."""
    note = coverage.unmapped(req.service, req.method, req.path, req.operation, caller.arn, why)

    def noted(status, headers, exc_info=None):
        safe = note.encode("latin-1", "replace").decode("latin-1")
        return start_response(status, list(headers) + [(NOTE_HEADER, safe)], exc_info)

    return app(environ, noted)


def _call(app, environ) -> Tuple[str, list, bytes]:
    box: dict = {}

    def start_response(status, headers, exc_info=None):
        box["status"], box["headers"] = status, headers
        return lambda data: box.setdefault("written", []).append(data)

    result = app(environ, start_response)
    try:
        body = b"".join(box.get("written", [])) + b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return box["status"], list(box["headers"]), body


def _missing_token(req: AwsRequest) -> errors.Response:
    proto = errors.protocol(req)
    if proto in ("json", "cbor"):
        return errors.error(req, 400, "MissingAuthenticationTokenException",
                            "Missing Authentication Token")
    return errors.error(req, 403, "MissingAuthenticationToken",
                        "Request is missing Authentication Token")


def _root_caller_identity(caller: Caller) -> errors.Response:
    # moto reports the root key as user/moto; AWS says the account root.
    body = (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<GetCallerIdentityResult><Arn>{caller.arn}</Arn><UserId>{caller.account_id}</UserId>"
        f"<Account>{caller.account_id}</Account></GetCallerIdentityResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    ).encode()
    return 200, [("Content-Type", "text/xml")], body


def _malformed_resource_policy(req: AwsRequest, t: s3.Target) -> Optional[errors.Response]:
    """S3 refuses a malformed bucket/access point policy (moto stores it and breaks later)."""
    is_bucket_policy = req.method == "PUT" and t.key is None and "policy" in req.query \
        and not t.control
    is_ap_policy = t.control and req.method == "PUT" and req.path.endswith("/policy")
    if not (is_bucket_policy or is_ap_policy):
        return None
    doc = req.body
    if is_ap_policy:
        try:
            node = ET.fromstring(req.body).find(".//{*}Policy")
            if node is None:
                node = ET.fromstring(req.body).find(".//Policy")
            doc = (node.text or "") if node is not None else req.body
        except ET.ParseError:
            return None
    try:
        parse_policy(doc, "bucket policy", "resource")
    except PolicyError as exc:
        return errors.error(req, 400, "MalformedPolicy", str(exc))
    return None


def _parse_delete(body: bytes) -> Tuple[bool, List[Tuple[str, Optional[str]]]]:
    root = ET.fromstring(body)
    quiet = False
    objects = []
    for child in root:
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "Quiet":
            quiet = (child.text or "").strip().lower() == "true"
        elif tag == "Object":
            key = version = None
            for part in child:
                ptag = part.tag.rsplit("}", 1)[-1]
                if ptag == "Key":
                    key = part.text or ""
                elif ptag == "VersionId":
                    version = part.text
            if key is not None:
                objects.append((key, version))
    return quiet, objects


def _delete_body(quiet: bool, objects) -> bytes:
    parts = [f'<Delete xmlns="{_S3_NS}">', f"<Quiet>{'true' if quiet else 'false'}</Quiet>"]
    for key, version in objects:
        parts.append(f"<Object><Key>{escape(key)}</Key>"
                     + (f"<VersionId>{escape(version)}</VersionId>" if version else "")
                     + "</Object>")
    parts.append("</Delete>")
    return "".join(parts).encode("utf-8")


def _replace_body(environ: dict, body: bytes) -> None:
    import io

    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ["HTTP_CONTENT_MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    for name in [k for k in environ if k.startswith("HTTP_X_AMZ_CHECKSUM_")]:
        del environ[name]


def _rewrite_alias(environ: dict, t: s3.Target) -> None:
    """Show moto the bucket behind an access point alias (moto does not resolve aliases)."""
    for name in ("HTTP_HOST", "SERVER_NAME"):
        if environ.get(name, "").startswith(t.alias + "."):
            environ[name] = t.access_point.bucket + environ[name][len(t.alias):]
    for name in ("PATH_INFO", "RAW_URI", "REQUEST_URI"):
        value = environ.get(name, "")
        if value.startswith("/" + t.alias):
            environ[name] = "/" + t.access_point.bucket + value[len(t.alias) + 1:]


def _rewrite_copy_source(environ: dict, req: AwsRequest) -> None:
    """Show moto the bucket behind an access point copy source (authorized above, through
    the access point; moto would answer NoSuchBucket for the ARN or alias)."""
    value = s3.copy_source_for_moto(req)
    if value is not None:
        environ["HTTP_X_AMZ_COPY_SOURCE"] = value
