"""Build the CloudTrail record of one request, with AWS's fields and no secrets.

Fields and their meaning follow the CloudTrail user guide, "CloudTrail record
contents for management, data, and network activity events"
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)
and "CloudTrail userIdentity element"
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html).
S3 object-level calls are data events, everything else here is a management
event ("Logging data events", cloudtrail-data-events.html).

Secrets never reach a record: request and response values whose name says
secret, token, password or private key become ``HIDDEN_DUE_TO_SECURITY_REASONS``
(the text AWS itself logs), and no request or response body of an S3 object is
read at all.
"""
from __future__ import annotations

import json
import re
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple

from labkit import config
from labkit.emulator.request import AwsRequest
from labkit.emulator.services.cloudtrail import kms_records
from labkit.emulator.services.cloudtrail.store import Event
from labkit.policy.matching import parse_arn

EVENT_VERSION = "1.11"
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
#: Parameter names (lower-case, without _ or -) whose values are secrets: AWS logs its
#: placeholder in their place.
_SECRET_WORDS = ("secret", "password", "sessiontoken", "securitytoken", "privatekey",
                 "keymaterial", "webidentitytoken", "samlassertion")
#: ... and those AWS leaves out of the record altogether (CreateAccessKey's and
#: AssumeRole's secret access key; KMS's plaintext and ciphertext, see kms_records).
_ABSENT_WORDS = ("secretaccesskey", "plaintext", "ciphertextblob")
#: Parameters that are part of the signature, never the request.
_SIGNATURE_PARAMS = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                     "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token",
                     "AWSAccessKeyId", "Signature", "Expires", "Action", "Version"}
_READ_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup", "Simulate", "Generate",
                  "Search", "Select", "Check", "Query")
#: The largest request/response document kept in a record (bigger ones are summarised).
MAX_DOCUMENT = 16 * 1024
_DENIAL_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                 "UnauthorizedAccess", "Forbidden"}

# S3 REST API operation names (what CloudTrail's eventName says) by method and subresource.
_S3_OBJECT_SUB = {("GET", "acl"): "GetObjectAcl", ("PUT", "acl"): "PutObjectAcl",
                  ("GET", "tagging"): "GetObjectTagging", ("PUT", "tagging"): "PutObjectTagging",
                  ("DELETE", "tagging"): "DeleteObjectTagging",
                  ("GET", "attributes"): "GetObjectAttributes",
                  ("GET", "retention"): "GetObjectRetention",
                  ("PUT", "retention"): "PutObjectRetention",
                  ("GET", "legal-hold"): "GetObjectLegalHold",
                  ("PUT", "legal-hold"): "PutObjectLegalHold",
                  ("POST", "uploads"): "CreateMultipartUpload",
                  ("POST", "uploadId"): "CompleteMultipartUpload",
                  ("PUT", "uploadId"): "UploadPart", ("GET", "uploadId"): "ListParts",
                  ("DELETE", "uploadId"): "AbortMultipartUpload",
                  ("POST", "restore"): "RestoreObject", ("POST", "select"): "SelectObjectContent"}
_S3_OBJECT = {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject",
              "DELETE": "DeleteObject"}
_S3_BUCKET_NAMES = {"versions": "ListObjectVersions", "uploads": "ListMultipartUploads",
                    "location": "GetBucketLocation"}
_S3_BUCKET_SUBS = ("policyStatus", "policy", "encryption", "versioning", "publicAccessBlock",
                   "ownershipControls", "acl", "location", "tagging", "cors", "lifecycle",
                   "logging", "notification", "website", "replication", "object-lock",
                   "accelerate", "requestPayment", "analytics", "inventory", "metrics",
                   "intelligent-tiering", "versions", "uploads")
_VERB = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head", "POST": "Post"}

#: ARN (service, resource type) -> CloudFormation-style resource type CloudTrail uses.
_ARN_TYPES = {("iam", "user"): "AWS::IAM::User", ("iam", "group"): "AWS::IAM::Group",
              ("iam", "role"): "AWS::IAM::Role", ("iam", "policy"): "AWS::IAM::Policy",
              ("cloudtrail", "trail"): "AWS::CloudTrail::Trail",
              ("lambda", "function"): "AWS::Lambda::Function",
              ("ecr", "repository"): "AWS::ECR::Repository",
              ("eks", "cluster"): "AWS::EKS::Cluster",
              ("s3", "accesspoint"): "AWS::S3::AccessPoint",
              ("kms", "key"): "AWS::KMS::Key"}


# ----------------------------------------------------------------------------- time

def iso(epoch: float) -> str:
    """eventTime's format: 2026-01-01T12:00:00Z."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------- identity

def user_identity(caller, access_key_id: Optional[str]) -> Dict[str, Any]:
    """The userIdentity element for CALLER (labkit.emulator.authz.identity.Caller)."""
    if caller.is_anonymous:
        # S3 logs unsigned requests with this identity (userIdentity element, AWSAccount).
        return {"type": "AWSAccount", "principalId": "", "accountId": "anonymous"}
    base = {"principalId": caller.user_id or caller.account_id, "arn": caller.arn,
            "accountId": caller.account_id, "accessKeyId": access_key_id or ""}
    if caller.is_root:
        return {"type": "Root", **base}
    if caller.kind == "user":
        return {"type": "IAMUser", **base, "userName": caller.name}
    role_arn = caller.role_arn
    role_name = role_arn.rsplit("/", 1)[1]
    role_id = (caller.user_id or "").split(":", 1)[0]
    created = _session_created(caller.account_id, access_key_id)
    return {"type": "AssumedRole", **base, "sessionContext": {
        "sessionIssuer": {"type": "Role", "principalId": role_id, "arn": role_arn,
                          "accountId": caller.account_id, "userName": role_name},
        "attributes": {"creationDate": created, "mfaAuthenticated": "false"}}}


def _session_created(account_id: str, access_key_id: Optional[str]) -> str:
    """When the role session of ACCESS_KEY_ID was issued (moto keeps its expiry and duration)."""
    try:
        from moto.sts.models import sts_backends

        for session in sts_backends[account_id]["aws"].assumed_roles:
            if session.access_key_id == access_key_id:
                created = getattr(session.access_key, "create_date", None)
                if created is not None:
                    return created.strftime("%Y-%m-%dT%H:%M:%SZ")
    except (KeyError, AttributeError):
        pass
    return ""


def username(identity: Dict[str, Any]) -> str:
    """What LookupEvents reports as Username: the user, the role session, or root."""
    from labkit.emulator.services.cloudtrail.store import _username

    return _username(identity)


# ----------------------------------------------------------------------------- names

def s3_event_name(req: AwsRequest, t) -> str:
    """The S3 API operation of REQ (CloudTrail names S3 events by API, not IAM action)."""
    if t.control:
        from labkit.emulator.services.s3 import actions as s3

        checks = s3.control_checks(req)
        return checks[0].action.split(":", 1)[1] if checks else f"{req.method} {req.path}"
    if t.bucket is None and t.access_point is None:
        return "ListBuckets"
    if t.key is not None:
        for (method, sub), name in _S3_OBJECT_SUB.items():
            if method == req.method and sub in req.query:
                if name == "UploadPart" and req.header("x-amz-copy-source"):
                    return "UploadPartCopy"
                return name
        if req.method == "PUT" and req.header("x-amz-copy-source"):
            return "CopyObject"
        return _S3_OBJECT.get(req.method, f"{req.method} object")
    if req.method == "POST" and "delete" in req.query:
        return "DeleteObjects"
    for sub in _S3_BUCKET_SUBS:
        if sub in req.query:
            if sub in _S3_BUCKET_NAMES and req.method == "GET":
                return _S3_BUCKET_NAMES[sub]
            words = "".join(w[:1].upper() + w[1:] for w in sub.split("-"))
            return f"{_VERB.get(req.method, req.method)}Bucket{words}"
    return {"GET": "ListObjects", "HEAD": "HeadBucket", "PUT": "CreateBucket",
            "DELETE": "DeleteBucket"}.get(req.method, f"{req.method} bucket")


def event_name(req: AwsRequest, t=None) -> str:
    if req.service == "s3" and t is not None:
        return s3_event_name(req, t)
    if req.operation:
        return req.operation
    from labkit.emulator.authz import generic

    op, _ = generic.operation(req)
    if op:
        return op
    return f"{req.method} {req.path}"


def event_source(service: str) -> str:
    return f"{service}.amazonaws.com"


def is_read_only(name: str) -> bool:
    # KMS's cryptographic operations read a key: AWS records them readOnly (Encrypt too).
    return name.startswith(_READ_PREFIXES) or name in kms_records.CRYPTO_OPERATIONS


# ----------------------------------------------------------------------------- secrets

def _is_secret(name: str) -> bool:
    flat = name.lower().replace("_", "").replace("-", "")
    return any(word in flat for word in _SECRET_WORDS)


def _is_absent(name: str) -> bool:
    flat = name.lower().replace("_", "").replace("-", "")
    return any(word in flat for word in _ABSENT_WORDS)


def scrub(value: Any) -> Any:
    """VALUE without the fields AWS leaves out, and every other secret-looking field
    replaced by AWS's placeholder."""
    if isinstance(value, dict):
        return {k: (HIDDEN if _is_secret(str(k)) and v not in (None, "") else scrub(v))
                for k, v in value.items() if not _is_absent(str(k))}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:] if name else name


#: Request members whose values are documents or user-chosen keys, recorded as written.
_AS_WRITTEN = ("Document", "Policy", "EncryptionContext")


def camel_keys(value: Any) -> Any:
    """VALUE with every dict key in CloudTrail's lowerCamelCase (policy documents and the
    learner's own maps, such as an encryption context, kept as written)."""
    if isinstance(value, dict):
        return {_camel(k): (v if k.endswith(_AS_WRITTEN) else camel_keys(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [camel_keys(v) for v in value]
    return value


# ----------------------------------------------------------------------------- parameters

def _s3_parameters(req: AwsRequest, t) -> Dict[str, Any]:
    params: Dict[str, Any] = {}
    if t.bucket:
        params["bucketName"] = t.bucket
    if t.access_point is not None:
        params["accessPointArn"] = t.access_point.arn
    params["Host"] = req.host
    if t.key is not None:
        params["key"] = t.key
    for name, values in req.query.items():
        if name not in _SIGNATURE_PARAMS:
            params[name] = values[0] if values else ""
    for header in ("x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
                   "x-amz-acl", "x-amz-copy-source", "x-amz-storage-class"):
        value = req.header(header)
        if value is not None:
            params[header] = value
    if req.method == "PUT" and t.key is None and "policy" in req.query and req.body:
        params["bucketPolicy"] = _json_or_text(req.body)
    elif req.method == "PUT" and t.key is None and "publicAccessBlock" in req.query:
        params["PublicAccessBlockConfiguration"] = _xml_dict(req.body)
    return params


def _json_or_text(raw: bytes) -> Any:
    if len(raw) > MAX_DOCUMENT:
        return f"<{len(raw)} bytes, not kept>"
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _xml_dict(raw: bytes) -> Any:
    """A small XML document as nested dicts (tags without namespaces)."""
    if not raw or len(raw) > MAX_DOCUMENT:
        return None
    try:
        root = ET.fromstring(raw)
    except ET.ParseError:
        return None
    return _node(root)


def _node(node) -> Any:
    children = list(node)
    if not children:
        return (node.text or "").strip()
    out: Dict[str, Any] = {}
    for child in children:
        tag = child.tag.rsplit("}", 1)[-1]
        value = _node(child)
        if tag in out:
            out[tag] = out[tag] if isinstance(out[tag], list) else [out[tag]]
            out[tag].append(value)
        else:
            out[tag] = value
    return out


def request_parameters(req: AwsRequest, t=None) -> Optional[Dict[str, Any]]:
    if req.service == "s3" and t is not None:
        return scrub(_s3_parameters(req, t))
    if req.params and (req.operation and "Action" in req.params):
        params = {_camel(k): (v[0] if len(v) == 1 else v) for k, v in req.params.items()
                  if k not in _SIGNATURE_PARAMS}
        for key in [k for k in params if k.endswith("Document")]:
            if isinstance(params[key], str):
                params[key] = _json_or_text(params[key].encode())
        return scrub(params) or None
    if req.body and req.header("content-type", "").startswith(("application/x-amz-json",
                                                                "application/json")):
        data = req.json_body()
        if len(req.body) > MAX_DOCUMENT:
            return {"note": f"request of {len(req.body)} bytes, not kept"}
        return scrub(camel_keys(data)) or None
    return None


def response_elements(req: AwsRequest, t, status: int, headers: Dict[str, str], body: bytes,
                      read_only: bool) -> Optional[Dict[str, Any]]:
    """responseElements: present for calls that change something, null for reads and failures."""
    if read_only or status >= 300:
        return None
    if req.service == "s3":
        found = {h: headers[h] for h in ("x-amz-server-side-encryption", "x-amz-version-id",
                                         "x-amz-server-side-encryption-aws-kms-key-id")
                 if h in headers}
        return found or None
    if not body or len(body) > MAX_DOCUMENT:
        return None
    kind = headers.get("content-type", "")
    if "json" in kind:
        try:
            data = json.loads(body)
        except ValueError:
            return None
        return scrub(camel_keys(data)) if isinstance(data, dict) else None
    result = _xml_dict(body)
    if isinstance(result, dict):
        result.pop("ResponseMetadata", None)
        inner = next(iter(result.values()), None) if len(result) == 1 else result
        if isinstance(inner, dict):
            return scrub(camel_keys(inner)) or None
    return None


# ----------------------------------------------------------------------------- errors

def error_of(status: int, headers: Dict[str, str], body: bytes) -> Tuple[Optional[str], Optional[str]]:
    """(errorCode, errorMessage) of a failed response, or (None, None)."""
    if status < 400:
        return None, None
    code = message = None
    text = body[:MAX_DOCUMENT] if body else b""
    if text.lstrip().startswith(b"{"):
        try:
            data = json.loads(text)
            code = str(data.get("__type") or data.get("code") or data.get("Code") or "")
            code = code.rsplit("#", 1)[-1] or None
            message = data.get("message") or data.get("Message")
        except ValueError:
            pass
    elif text:
        m = re.search(rb"<Code>([^<]+)</Code>", text)
        code = m.group(1).decode() if m else None
        m = re.search(rb"<Message>([^<]*)</Message>", text)
        message = _unescape(m.group(1).decode()) if m else None
    if code is None:
        code = headers.get("x-amzn-errortype", "").split(":", 1)[0] or {
            403: "AccessDenied", 404: "NotFound", 400: "BadRequest"}.get(status, str(status))
    return code, message


def _unescape(text: str) -> str:
    from xml.sax.saxutils import unescape

    return unescape(text, {"&quot;": '"', "&apos;": "'"})


# ----------------------------------------------------------------------------- resources

def _arn_resource(arn: str) -> Optional[Tuple[str, str, str]]:
    """(CloudTrail type, name, ARN) of a resource ARN labkit decides on, or None."""
    parts = parse_arn(arn)
    if parts is None:
        return None
    service, rest = parts[1], parts[4]
    kind, _, name = rest.partition("/") if "/" in rest else rest.partition(":")
    resource_type = _ARN_TYPES.get((service, kind))
    if resource_type is None:
        return None
    return resource_type, name.rsplit("/", 1)[-1], arn


def resources(req: AwsRequest, t, account: Optional[str], checked: List[str]):
    """(resources element, [(type, name)] for LookupEvents' Resources)."""
    found: List[Dict[str, str]] = []
    names: List[Tuple[str, str]] = []
    if req.service == "s3" and t is not None and not t.control and t.bucket:
        from labkit.emulator.services.s3.actions import bucket_owner

        owner = bucket_owner(t.bucket) or account
        if t.key is not None:
            found.append({"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{t.bucket}/{t.key}"})
            names.append(("AWS::S3::Object", t.key))
        if t.access_point is not None:
            found.append({"accountId": t.access_point.account_id, "type": "AWS::S3::AccessPoint",
                          "ARN": t.access_point.arn})
        found.append({"accountId": owner, "type": "AWS::S3::Bucket",
                      "ARN": f"arn:aws:s3:::{t.bucket}"})
        names.append(("AWS::S3::Bucket", t.bucket))
        return found, names
    for arn in checked:
        item = _arn_resource(arn) if arn and arn != "*" else None
        if item is not None:
            resource_type, name, full = item
            found.append({"accountId": account, "type": resource_type, "ARN": full})
            names.append((resource_type, name))
    return found, names


# ----------------------------------------------------------------------------- the record

def is_data_event(req: AwsRequest, t) -> bool:
    """S3 object-level calls (and DeleteObjects) are data events; the rest management."""
    if req.service == "s3" and t is not None and not t.control:
        return t.key is not None or (req.method == "POST" and "delete" in req.query)
    return req.service == "lambda" and (req.path or "").endswith("/invocations")


def tls_details(req: AwsRequest, tls: Optional[Tuple[str, str]]) -> Optional[Dict[str, str]]:
    """tlsDetails: the TLS the proxy negotiated (None for plain HTTP)."""
    if not req.secure:
        return None
    version, cipher = tls or ("", "")
    return {"tlsVersion": version, "cipherSuite": cipher, "clientProvidedHostHeader": req.host}


def build(req: AwsRequest, caller, t, status: int, headers: Dict[str, str], body: bytes,
          checked: List[str], reason: str, tls=None, now: Optional[float] = None,
          invoked_by: Optional[str] = None) -> Event:
    """The Event (record + labkit's reason) of REQ made by CALLER, answered with STATUS;
    INVOKED_BY names the service that made it on the caller's behalf (Athena reading S3)."""
    epoch = now if now is not None else time.time()
    name = event_name(req, t)
    read_only = is_read_only(name)
    data = is_data_event(req, t)
    account = caller.account_id or config.EMULATOR_ACCOUNT_ID
    found, names = resources(req, t, account, checked)
    parameters = request_parameters(req, t)
    responses = response_elements(req, t, status, headers, body, read_only)
    if kms_records.is_crypto(req.service, name):
        parameters = kms_records.request_parameters(name, parameters,
                                                    kms_records.key_arns(checked))
        responses = None
    recipient = account
    if data or (req.service == "s3" and found):
        recipient = found[-1].get("accountId") or account
    identity = user_identity(caller, req.access_key_id)
    if invoked_by:
        identity["invokedBy"] = invoked_by
    record: Dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": identity,
        "eventTime": iso(epoch),
        "eventSource": event_source(req.service),
        "eventName": name,
        "awsRegion": req.region,
        "sourceIPAddress": req.source_ip,
        "userAgent": (req.header("user-agent") or "")[:1024],
        "requestParameters": parameters,
        "responseElements": responses,
    }
    code, message = error_of(status, headers, body)
    if code is not None:
        record["errorCode"] = code
        record["errorMessage"] = message or ""
    record.update({
        "requestID": (headers.get("x-amz-request-id") or headers.get("x-amzn-requestid")
                      or uuid.uuid4().hex[:16].upper()),
        "eventID": str(uuid.uuid4()),
        "readOnly": read_only,
        "resources": found or None,
        "eventType": "AwsApiCall",
        "managementEvent": not data,
        "recipientAccountId": recipient,
        "eventCategory": "Data" if data else "Management",
    })
    details = tls_details(req, tls)
    if details:
        record["tlsDetails"] = details
    if record["resources"] is None:
        del record["resources"]
    return Event(0, epoch, record, reason, names)
