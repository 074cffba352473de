"""S3 and S3 Control as the pipeline serves them: each permission decided, then S3's own
refusals (SSE-KMS, malformed policies), then moto with what it cannot resolve resolved.

What is particular to S3 over the generic path: DeleteObjects is decided per key
(denied keys come back as Errors in a 200), a missing key is a 403 for a caller
who may not list the bucket, access point aliases and copy sources through an
access point are shown to moto as the bucket behind them.
"""
from __future__ import annotations

import base64
import hashlib
import io
import xml.etree.ElementTree as ET
from typing import List, Optional, Tuple
from xml.sax.saxutils import escape

from labkit.emulator.authz import errors
from labkit.emulator.authz.call import Call
from labkit.emulator.request import AwsRequest
from labkit.emulator.services.kms import s3 as kms_s3
from labkit.emulator.services.s3 import actions as s3
from labkit.policy import PolicyError, parse_policy

_S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def handle(call: Call):
    """Serve one S3 or S3 Control request (S3 accepts anonymous callers: policies decide)."""
    req, caller = call.req, call.caller
    t = s3.target(req)
    if not t.control and s3.is_delete_objects(req, t):
        return _delete_objects(call, t)
    needed = s3.control_checks(req) if t.control else s3.checks(req, t)
    refusal = call.first_refusal(needed)
    if refusal is not None:
        return refusal
    why = None if needed or caller.is_root else s3.unmapped_reason(req, t)
    if why is not None:
        return call.undecided(why)
    kms_refusal = None if t.control else kms_s3.refusal(req, caller, t, call.base)  # SSE-KMS
    if kms_refusal is not None:
        return call.send(kms_refusal)
    bad_policy = _malformed_resource_policy(req, t)
    if bad_policy is not None:
        return call.send(bad_policy)
    if t.alias:
        _rewrite_alias(call.environ, t)
    if t.key is not None and req.method == "PUT":
        _rewrite_copy_source(call.environ, req)
    if t.key is not None and req.method in ("GET", "HEAD") and not caller.is_root:
        return _hide_missing_keys(call, t)
    return call.forward()


def _hide_missing_keys(call: Call, t):
    """AWS answers 403, not 404, for a missing key when the caller may not list the bucket."""
    status, headers, body = call.forward_and_read()
    if status.startswith("404") and b"NoSuchKey" in body or (
            status.startswith("404") and call.req.method == "HEAD"):
        decision = call.decide(s3.list_bucket_check(t))
        if not decision.allowed:
            return call.deny(decision)
    call.start_response(status, headers)
    return [body]


def _delete_objects(call: Call, t):
    """DeleteObjects: each key is decided alone; denied keys come back as Errors."""
    req = call.req
    try:
        quiet, objects = _parse_delete(req.body)
    except ET.ParseError:
        return call.forward()  # moto reports MalformedXML
    allowed, denied = [], []
    for key, version in objects:
        decision = call.decide(s3.delete_objects_check(req, t, key, version))
        (allowed if decision.allowed else denied).append((key, version))
    if not denied:
        return call.forward()
    denied_xml = "".join(
        f"<Error><Key>{escape(k)}</Key>" + (f"<VersionId>{escape(v)}</VersionId>" if v else "")
        + "<Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        for k, v in denied)
    if not allowed:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="{_S3_NS}">'
                f"{denied_xml}</DeleteResult>").encode()
        return call.send((200, [("Content-Type", "application/xml")], body))
    _replace_body(call.environ, _delete_body(quiet, allowed))
    status, headers, body = call.forward_and_read()
    if status.startswith("200"):
        text = body.decode("utf-8")
        cut = text.rfind("</DeleteResult>")
        if cut >= 0:
            body = (text[:cut] + denied_xml + text[cut:]).encode("utf-8")
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    call.start_response(status, headers)
    return [body]


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
