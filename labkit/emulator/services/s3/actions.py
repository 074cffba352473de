"""S3 and S3 Control: which IAM action(s) a request needs, on which resources, with what context.

The tables follow the S3 "actions, resources and condition keys" reference:
an operation is found from method, bucket/key and subresource, then mapped to
its IAM action (HeadObject needs s3:GetObject, ListObjectsV2 s3:ListBucket on
the bucket ARN, DeleteBucketEncryption s3:PutEncryptionConfiguration, ...).
Some operations need two checks (CopyObject: s3:GetObject on the source and
s3:PutObject on the target). Requests through an access point are decided
against the access point policy (access point ARN) AND the bucket (bucket ARN),
with s3:DataAccessPointArn/Account set, as S3 documents.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple
from urllib.parse import quote, unquote

from labkit.emulator.authz.decide import Permission
from labkit.emulator.request import AwsRequest

PARTITION = "aws"
#: A resource policy that allows and denies nothing: stands in for a missing
#: bucket policy where the engine needs a gate (access point requests).
NO_POLICY = ('{"Version":"2012-10-17","Statement":[{"Sid":"NoBucketPolicy","Effect":"Allow",'
             '"Principal":{"AWS":"arn:aws:iam::000000000000:root"},'
             '"Action":"s3:LabkitNoPolicy","Resource":"arn:aws:s3:::labkit-no-policy"}]}')

_AP_HOST = re.compile(r"^(?P<name>[a-z0-9-]+)-(?P<account>\d{12})\.s3-accesspoint[.-]")
_CONTROL_HOST = re.compile(r"^(?:(?P<account>\d{12})\.)?s3-control[.-]")
_VHOST = re.compile(r"^(?P<bucket>.+?)\.s3(?:[.-]|$)")
_AP_ARN = re.compile(r"^arn:aws[a-z-]*:s3:(?P<region>[^:]*):(?P<account>\d{12}):accesspoint/"
                     r"(?P<name>[^/]+)(?:/object/(?P<key>.*))?$")

# Bucket subresources: (method, subresource) -> IAM action. Order matters: first hit wins.
_BUCKET_SUB: Dict[str, Dict[str, str]] = {
    "GET": {
        "policy": "GetBucketPolicy", "policyStatus": "GetBucketPolicyStatus",
        "encryption": "GetEncryptionConfiguration", "versioning": "GetBucketVersioning",
        "publicAccessBlock": "GetBucketPublicAccessBlock",
        "ownershipControls": "GetBucketOwnershipControls", "acl": "GetBucketAcl",
        "location": "GetBucketLocation", "tagging": "GetBucketTagging", "cors": "GetBucketCORS",
        "lifecycle": "GetLifecycleConfiguration", "logging": "GetBucketLogging",
        "notification": "GetBucketNotification", "website": "GetBucketWebsite",
        "replication": "GetReplicationConfiguration",
        "object-lock": "GetBucketObjectLockConfiguration",
        "accelerate": "GetAccelerateConfiguration", "requestPayment": "GetBucketRequestPayment",
        "analytics": "GetAnalyticsConfiguration", "inventory": "GetInventoryConfiguration",
        "metrics": "GetMetricsConfiguration",
        "intelligent-tiering": "GetIntelligentTieringConfiguration",
        "versions": "ListBucketVersions", "uploads": "ListBucketMultipartUploads",
    },
    "PUT": {
        "policy": "PutBucketPolicy", "encryption": "PutEncryptionConfiguration",
        "versioning": "PutBucketVersioning", "publicAccessBlock": "PutBucketPublicAccessBlock",
        "ownershipControls": "PutBucketOwnershipControls", "acl": "PutBucketAcl",
        "tagging": "PutBucketTagging", "cors": "PutBucketCORS",
        "lifecycle": "PutLifecycleConfiguration", "logging": "PutBucketLogging",
        "notification": "PutBucketNotification", "website": "PutBucketWebsite",
        "replication": "PutReplicationConfiguration",
        "object-lock": "PutBucketObjectLockConfiguration",
        "accelerate": "PutAccelerateConfiguration", "requestPayment": "PutBucketRequestPayment",
        "analytics": "PutAnalyticsConfiguration", "inventory": "PutInventoryConfiguration",
        "metrics": "PutMetricsConfiguration",
        "intelligent-tiering": "PutIntelligentTieringConfiguration",
    },
    "DELETE": {
        # AWS has no Delete* action for most configurations: deleting is a Put.
        "policy": "DeleteBucketPolicy", "encryption": "PutEncryptionConfiguration",
        "publicAccessBlock": "PutBucketPublicAccessBlock",
        "ownershipControls": "PutBucketOwnershipControls", "tagging": "PutBucketTagging",
        "cors": "PutBucketCORS", "lifecycle": "PutLifecycleConfiguration",
        "website": "DeleteBucketWebsite", "replication": "PutReplicationConfiguration",
        "analytics": "PutAnalyticsConfiguration", "inventory": "PutInventoryConfiguration",
        "metrics": "PutMetricsConfiguration",
        "intelligent-tiering": "PutIntelligentTieringConfiguration",
    },
}

# Object subresources: method -> {subresource: (action, action with versionId)}.
_OBJECT_SUB: Dict[str, Dict[str, Tuple[str, str]]] = {
    "GET": {"acl": ("GetObjectAcl", "GetObjectVersionAcl"),
            "tagging": ("GetObjectTagging", "GetObjectVersionTagging"),
            "uploadId": ("ListMultipartUploadParts", "ListMultipartUploadParts"),
            "attributes": ("GetObjectAttributes", "GetObjectVersionAttributes"),
            "retention": ("GetObjectRetention", "GetObjectRetention"),
            "legal-hold": ("GetObjectLegalHold", "GetObjectLegalHold"),
            "torrent": ("GetObjectTorrent", "GetObjectVersionTorrent")},
    "PUT": {"acl": ("PutObjectAcl", "PutObjectVersionAcl"),
            "tagging": ("PutObjectTagging", "PutObjectVersionTagging"),
            "retention": ("PutObjectRetention", "PutObjectRetention"),
            "legal-hold": ("PutObjectLegalHold", "PutObjectLegalHold"),
            "uploadId": ("PutObject", "PutObject")},             # UploadPart
    "POST": {"uploads": ("PutObject", "PutObject"),              # CreateMultipartUpload
             "uploadId": ("PutObject", "PutObject"),             # CompleteMultipartUpload
             "restore": ("RestoreObject", "RestoreObject"),
             "select": ("GetObject", "GetObject")},
    "DELETE": {"uploadId": ("AbortMultipartUpload", "AbortMultipartUpload"),
               "tagging": ("DeleteObjectTagging", "DeleteObjectVersionTagging")},
}
_PLAIN_OBJECT = {"GET": ("GetObject", "GetObjectVersion"),
                 "HEAD": ("GetObject", "GetObjectVersion"),
                 "PUT": ("PutObject", "PutObject"),
                 "DELETE": ("DeleteObject", "DeleteObjectVersion")}
_GRANTS = tuple((h, f"s3:{h}") for h in (
    "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp",
    "x-amz-grant-full-control"))
_PUT_HEADERS = tuple((h, f"s3:{h}") for h in (
    "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-customer-algorithm", "x-amz-acl", "x-amz-copy-source",
    "x-amz-metadata-directive", "x-amz-storage-class", "x-amz-website-redirect-location")) + (
    # The object lock keys drop the header's x-amz- (Service Authorization Reference, S3).
    ("x-amz-object-lock-mode", "s3:object-lock-mode"),
    ("x-amz-object-lock-retain-until-date", "s3:object-lock-retain-until-date"),
    ("x-amz-object-lock-legal-hold", "s3:object-lock-legal-hold"),
    ("if-match", "s3:if-match"), ("if-none-match", "s3:if-none-match")) + _GRANTS
#: action -> (request header, condition key) pairs S3 sets for it.
_HEADER_KEYS = {
    "PutObject": _PUT_HEADERS,
    "PutObjectAcl": (("x-amz-acl", "s3:x-amz-acl"),) + _GRANTS,
    "PutObjectVersionAcl": (("x-amz-acl", "s3:x-amz-acl"),) + _GRANTS,
    "PutBucketAcl": (("x-amz-acl", "s3:x-amz-acl"),) + _GRANTS,
    "CreateBucket": (("x-amz-acl", "s3:x-amz-acl"),
                     ("x-amz-object-ownership", "s3:x-amz-object-ownership")) + _GRANTS,
}
#: action -> (XML element of the request body, condition key): the body says what is set.
_BODY_KEYS = {
    "PutObjectRetention": (("Mode", "s3:object-lock-mode"),
                           ("RetainUntilDate", "s3:object-lock-retain-until-date")),
    "PutObjectLegalHold": (("Status", "s3:object-lock-legal-hold"),),
}
#: Listings whose query parameters are condition keys (s3:prefix, s3:delimiter, s3:max-keys).
_LISTINGS = {"ListBucket", "ListBucketVersions"}
#: Operations that need a second action on the same object (S3 API reference of each):
#: GetObjectAttributes needs s3:GetObject too (s3:GetObjectVersion for a version).
_ALSO_NEEDS = {"GetObjectAttributes": "GetObject",
               "GetObjectVersionAttributes": "GetObjectVersion"}


@dataclass
class AccessPoint:
    """An S3 access point as moto stores it."""

    name: str
    account_id: str
    region: str
    bucket: str
    policy: Optional[str]
    network_origin: str

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:{self.region}:{self.account_id}:accesspoint/{self.name}"


@dataclass
class Target:
    """What an S3 request addresses: bucket, key, and the access point used, if any."""

    bucket: Optional[str]
    key: Optional[str]
    access_point: Optional[AccessPoint] = None
    control: bool = False
    alias: Optional[str] = None  # the access point alias used as a bucket name


# ----------------------------------------------------------------------------- moto lookups

def _s3_backend(account_id: str):
    from moto.s3.models import s3_backends

    return s3_backends[account_id][PARTITION]


def bucket_owner(bucket: str) -> Optional[str]:
    """The account that owns BUCKET (bucket names are global), or None if it does not exist."""
    from moto.s3.models import s3_backends

    found = s3_backends.bucket_accounts.get(bucket)
    return found[1] if found else None


def bucket_policy(bucket: str) -> Optional[str]:
    """BUCKET's policy JSON, or None."""
    owner = bucket_owner(bucket)
    if owner is None:
        return None
    found = _s3_backend(owner).buckets.get(bucket)
    if found is None or not found.policy:
        return None
    policy = found.policy
    return policy.decode("utf-8") if isinstance(policy, bytes) else policy


def _control_backend(account_id: str):
    from moto.s3control.models import s3control_backends

    return s3control_backends[account_id][PARTITION]


def access_point(account_id: str, name: str, region: str) -> Optional[AccessPoint]:
    """The access point NAME of ACCOUNT_ID, or None."""
    try:
        ap = _control_backend(account_id).access_points[account_id].get(name)
    except KeyError:
        return None
    return None if ap is None else _wrap_ap(ap, account_id, region)


def _wrap_ap(ap, account_id: str, region: str) -> AccessPoint:
    return AccessPoint(ap.name, account_id, region, ap.bucket, ap.policy, ap.network_origin)


def access_point_by_alias(alias: str, region: str) -> Optional[AccessPoint]:
    """The access point whose alias is ALIAS (aliases end in -s3alias)."""
    from moto.s3control.models import s3control_backends

    for account_id, parts in list(s3control_backends.items()):
        backend = parts.get(PARTITION) if hasattr(parts, "get") else None
        if backend is None:
            continue
        for ap in list(backend.access_points.get(account_id, {}).values()):
            if ap.alias == alias:
                return _wrap_ap(ap, account_id, region)
    return None


def public_access_restricted(account_id: Optional[str], bucket: str) -> bool:
    """Block Public Access RestrictPublicBuckets for BUCKET (from labkit's S3 fidelity layer)."""
    try:
        from labkit.emulator.services.s3 import behaviour as fidelity_s3
    except ImportError:
        return False
    check = getattr(fidelity_s3, "public_access_restricted", None)
    if check is None or not account_id:
        return False
    flags = check(account_id, bucket)
    # (restrict_public_buckets, ignore_public_acls), or a bare bool
    return bool(flags[0] if isinstance(flags, tuple) else flags)


# ----------------------------------------------------------------------------- addressing

def target(req: AwsRequest) -> Target:
    """Bucket, key and access point of an S3 request (host-style, path-style, access point)."""
    host = req.host
    if _CONTROL_HOST.match(host):
        return Target(None, None, control=True)
    m = _AP_HOST.match(host)
    if m:
        ap = access_point(m.group("account"), m.group("name"), req.region)
        bucket = ap.bucket if ap else None
        return Target(bucket, req.path[1:] or None, ap or _missing_ap(m, req.region))
    m = _VHOST.match(host)
    if m and m.group("bucket") not in ("s3", ""):
        bucket, key = m.group("bucket"), req.path[1:] or None
    else:
        bucket, _, key = req.path[1:].partition("/")
        bucket, key = bucket or None, key or None
    if bucket and bucket.endswith("-s3alias"):
        ap = access_point_by_alias(bucket, req.region)
        if ap is not None:
            return Target(ap.bucket, key, ap, alias=bucket)
    return Target(bucket, key)


def _missing_ap(m, region: str) -> AccessPoint:
    # AWS still decides first; moto then answers NoSuchAccessPoint.
    return AccessPoint(m.group("name"), m.group("account"), region, "", None, "Internet")


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


# ----------------------------------------------------------------------------- operations

def _subresource(req: AwsRequest, table: Dict) -> Optional[str]:
    for name in table:
        if name in req.query:
            return name
    return None


def bucket_action(req: AwsRequest) -> Optional[str]:
    """The IAM action (without "s3:") for a request on a bucket (no key), or None if unknown."""
    sub = _subresource(req, _BUCKET_SUB.get(req.method, {}))
    if sub:
        return _BUCKET_SUB[req.method][sub]
    if req.method in ("GET", "HEAD"):
        return "ListBucket"
    if req.method == "PUT":
        return "CreateBucket"
    if req.method == "DELETE":
        return "DeleteBucket"
    if req.method == "POST" and "delete" in req.query:
        return "DeleteObject"  # DeleteObjects: decided per key by the app
    return None


def object_action(req: AwsRequest) -> Optional[str]:
    """The IAM action (without "s3:") for a request on an object."""
    versioned = bool(req.query.get("versionId", [""])[0])
    subs = _OBJECT_SUB.get(req.method, {})
    sub = _subresource(req, subs)
    if sub:
        return subs[sub][1 if versioned else 0]
    plain = _PLAIN_OBJECT.get(req.method)
    return None if plain is None else plain[1 if versioned else 0]


def is_delete_objects(req: AwsRequest, t: Target) -> bool:
    return req.method == "POST" and t.key is None and "delete" in req.query


def copy_source(req: AwsRequest) -> Optional[Tuple[str, str, Optional[AccessPoint]]]:
    """(bucket, key, access point) named by x-amz-copy-source, or None."""
    raw = req.header("x-amz-copy-source")
    if not raw:
        return None
    source = unquote(raw.split("?", 1)[0]).lstrip("/")
    m = _AP_ARN.match(source)
    if m:
        ap = access_point(m.group("account"), m.group("name"), m.group("region") or req.region)
        if ap is not None:
            return ap.bucket, m.group("key") or "", ap
    bucket, _, key = source.partition("/")
    if bucket.endswith("-s3alias"):
        ap = access_point_by_alias(bucket, req.region)
        if ap is not None:
            return ap.bucket, key, ap
    return bucket, key, None


def copy_source_for_moto(req: AwsRequest) -> Optional[str]:
    """x-amz-copy-source naming the bucket behind an access point ARN or alias, or None
    when the source names a bucket (or an unknown access point: moto says NoSuchBucket).

    S3 accepts an access point as CopyObject/UploadPartCopy source; moto only knows buckets.
    """
    source = copy_source(req)
    if source is None or source[2] is None:
        return None
    bucket, key, _ = source
    raw = req.header("x-amz-copy-source", "")
    query = raw.split("?", 1)[1] if "?" in raw else ""
    value = quote(f"{bucket}/{key}", safe="/-._~")
    return f"{value}?{query}" if query else value


# ----------------------------------------------------------------------------- context

def request_context(req: AwsRequest, action: str, t: Target) -> Dict[str, object]:
    """S3 condition keys AWS sets for this request."""
    ctx: Dict[str, object] = {
        "s3:signatureversion": "AWS4-HMAC-SHA256",
        "s3:authType": "REST-QUERY-STRING" if "X-Amz-Credential" in req.query else "REST-HEADER",
        "s3:TlsVersion": "1.2" if req.secure else None,
        "s3:x-amz-content-sha256": req.header("x-amz-content-sha256"),
    }
    if action in _LISTINGS:
        for name in ("prefix", "delimiter", "max-keys"):
            values = req.query.get(name)
            if values is not None:
                ctx[f"s3:{name}"] = values[0]
    version = req.query.get("versionId", [""])[0]
    if version:
        ctx["s3:VersionId"] = version
    if action == "PutObject" and "uploadId" in req.query:
        ctx.update(_multipart_context(t.bucket, req.query["uploadId"][0]))
    headers = _HEADER_KEYS.get(action)
    if headers:
        for header, key in headers:
            value = req.header(header)
            if value is not None:
                ctx[key] = value
    if action == "CreateBucket":
        ctx["s3:LocationConstraint"] = _location_constraint(req.body)
    for element, key in _BODY_KEYS.get(action, ()):
        m = re.search(rf"<{element}>([^<]*)</{element}>".encode(), req.body or b"")
        if m:
            ctx[key] = m.group(1).decode("utf-8", "replace")
    return {k: v for k, v in ctx.items() if v is not None}


def _location_constraint(body: bytes) -> Optional[str]:
    """The LocationConstraint of a CreateBucket body (none: us-east-1)."""
    if not body:
        return None
    m = re.search(rb"<LocationConstraint>([^<]*)</LocationConstraint>", body)
    return m.group(1).decode("utf-8", "replace") if m else None


def _multipart_context(bucket: Optional[str], upload_id: str) -> Dict[str, object]:
    """UploadPart/CompleteMultipartUpload carry no SSE headers: the upload's own
    encryption (set by CreateMultipartUpload) is what S3 evaluates, so a bucket policy
    requiring SSE does not break `aws s3 cp --sse` of large files."""
    owner = bucket_owner(bucket) if bucket else None
    if owner is None:
        return {}
    found = _s3_backend(owner).buckets.get(bucket)
    upload = found.multiparts.get(upload_id) if found is not None else None
    if upload is None:
        return {}
    ctx: Dict[str, object] = {}
    if getattr(upload, "sse_encryption", None):
        ctx["s3:x-amz-server-side-encryption"] = upload.sse_encryption
    if getattr(upload, "kms_key_id", None):
        ctx["s3:x-amz-server-side-encryption-aws-kms-key-id"] = upload.kms_key_id
    return ctx


def _access_point_context(ap: AccessPoint) -> Dict[str, object]:
    return {"s3:DataAccessPointArn": ap.arn, "s3:DataAccessPointAccount": ap.account_id,
            "s3:AccessPointNetworkOrigin": ap.network_origin}


# ----------------------------------------------------------------------------- object tags

def _supporting(prefix: str) -> frozenset:
    from labkit.policy.service_data import actions_supporting

    return actions_supporting("s3", prefix)


class ObjectTags:
    """s3:ExistingObjectTag/<key>, s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys for
    one request, for the actions the S3 reference lists them for (read from moto once)."""

    def __init__(self, req: AwsRequest, bucket: Optional[str], key: Optional[str],
                 version: Optional[str]):
        self.req, self.bucket, self.key, self.version = req, bucket, key, version
        self._existing: Optional[Dict[str, str]] = None
        self._requested: Optional[Dict[str, str]] = None

    def context(self, action: str) -> Dict[str, object]:
        ctx: Dict[str, object] = {}
        name = action.lower()
        if name in _supporting("s3:ExistingObjectTag/"):
            for k, v in self.existing().items():
                ctx[f"s3:ExistingObjectTag/{k}"] = v
        if name in _supporting("s3:RequestObjectTag/"):
            requested = self.requested()
            for k, v in requested.items():
                ctx[f"s3:RequestObjectTag/{k}"] = v
            if requested:
                ctx["s3:RequestObjectTagKeys"] = sorted(requested)
        return ctx

    def existing(self) -> Dict[str, str]:
        """The tags moto holds for the object (or version) addressed; {} if there is none."""
        if self._existing is None:
            self._existing = existing_object_tags(self.bucket, self.key, self.version)
        return self._existing

    def requested(self) -> Dict[str, str]:
        """Tags the request sets: x-amz-tagging, or the Tagging body of PutObjectTagging."""
        if self._requested is None:
            self._requested = requested_object_tags(self.req)
        return self._requested


def existing_object_tags(bucket: Optional[str], key: Optional[str],
                         version: Optional[str]) -> Dict[str, str]:
    owner = bucket_owner(bucket) if bucket else None
    if owner is None or key is None:
        return {}
    backend = _s3_backend(owner)
    try:
        found = backend.get_object(bucket, key, version_id=version)
    except Exception:  # moto raises for a missing bucket or a bad version id
        return {}
    arn = getattr(found, "arn", None)
    if found is None or arn is None:
        return {}
    return dict(backend.tagger.get_tag_dict_for_resource(arn))


def requested_object_tags(req: AwsRequest) -> Dict[str, str]:
    if req.method == "PUT" and "tagging" in req.query:
        return _tagging_body(req.body)
    header = req.header("x-amz-tagging")
    if not header:
        return {}
    from urllib.parse import parse_qsl

    return dict(parse_qsl(header, keep_blank_values=True))


def _tagging_body(body: bytes) -> Dict[str, str]:
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return {}  # moto answers MalformedXML
    tags = {}
    for tag in root.iter():
        if tag.tag.rsplit("}", 1)[-1] != "Tag":
            continue
        parts = {c.tag.rsplit("}", 1)[-1]: c.text or "" for c in tag}
        if "Key" in parts:
            tags[parts["Key"]] = parts.get("Value", "")
    return tags


# ----------------------------------------------------------------------------- checks

def _check(action: str, bucket: str, key: Optional[str], ctx: Dict[str, object],
           ap: Optional[AccessPoint]) -> Permission:
    """A Permission for ACTION on BUCKET[/KEY], through access point AP when given."""
    owner = bucket_owner(bucket)
    resource = object_arn(bucket, key) if key is not None else bucket_arn(bucket)
    ctx = dict(ctx)
    if owner:
        ctx["s3:ResourceAccount"] = owner
    bpolicy = bucket_policy(bucket)
    restricted = public_access_restricted(owner, bucket)
    if ap is None:
        gates = None if bpolicy is None else (f"bucket policy {bucket}", bpolicy)
        return Permission(f"s3:{action}", resource, ctx, gates, owner, restricted)
    ctx.update(_access_point_context(ap))
    ap_resource = ap.arn + (f"/object/{key}" if key is not None else "")
    gates = [(f"access point policy {ap.name}", ap.policy or NO_POLICY, ap_resource),
             (f"bucket policy {bucket}", bpolicy or NO_POLICY, resource)]
    return Permission(f"s3:{action}", ap_resource, ctx, gates, owner or ap.account_id, restricted)


def checks(req: AwsRequest, t: Target) -> List[Permission]:
    """Every permission an S3 (not S3 Control) request needs; [] if none is known."""
    if t.bucket is None and t.access_point is None:
        if req.method == "GET":
            return [Permission("s3:ListAllMyBuckets", "*", {})]
        return []
    if t.access_point is not None and not t.access_point.bucket:
        return []  # no such access point: moto answers
    if t.key is None:
        action = bucket_action(req)
        if action is None or is_delete_objects(req, t):
            return []
        return [_check(action, t.bucket, None, request_context(req, action, t), t.access_point)]
    action = object_action(req)
    if action is None:
        return []
    source = copy_source(req) if req.method == "PUT" else None
    out = []
    if source is not None:
        src_bucket, src_key, src_ap = source
        version = re.search(r"[?&]versionId=([^&]+)", req.header("x-amz-copy-source", ""))
        src_action = "GetObjectVersion" if version else "GetObject"
        src_version = unquote(version.group(1)) if version else None
        src_ctx = {"s3:VersionId": src_version} if version else {}
        src_ctx.update(ObjectTags(req, src_bucket, src_key, src_version).context(src_action))
        out.append(_check(src_action, src_bucket, src_key, src_ctx, src_ap))
    version = req.query.get("versionId", [""])[0] or None
    tags = ObjectTags(req, t.bucket, t.key, version)
    for needed in _object_actions(req, action, source is not None):
        ctx = request_context(req, needed, t)
        ctx.update(tags.context(needed))
        out.append(_check(needed, t.bucket, t.key, ctx, t.access_point))
    return out


def _object_actions(req: AwsRequest, action: str, is_copy: bool) -> List[str]:
    """ACTION and the further actions the same request needs on the target object."""
    out = [action]
    if action in _ALSO_NEEDS:
        out.insert(0, _ALSO_NEEDS[action])
    if action == "PutObject" and _tagging_header(req, is_copy) is not None:
        # S3 PutObject/CopyObject/CreateMultipartUpload: tags in x-amz-tagging need
        # s3:PutObjectTagging as well.
        out.append("PutObjectTagging")
    return out


def _tagging_header(req: AwsRequest, is_copy: bool) -> Optional[str]:
    """x-amz-tagging when it sets the new object's tags (CopyObject: only with REPLACE)."""
    value = req.header("x-amz-tagging")
    if value is None:
        return None
    if is_copy and (req.header("x-amz-tagging-directive") or "COPY").upper() != "REPLACE":
        return None
    if req.method == "PUT" and "uploadId" in req.query:
        return None  # UploadPart carries no tags
    return value


def unmapped_reason(req: AwsRequest, t: Target) -> Optional[str]:
    """Why REQ has no permission mapping (so it is not decided), or None when it has one."""
    if t.control:
        if any(m == req.method and p.match(req.path) for m, p, _a, _k in _CONTROL_COMPILED):
            return None
        return "no IAM action is known for this S3 Control request"
    if t.bucket is None and t.access_point is None:
        return None if req.method == "GET" else "no IAM action is known for this S3 request"
    if t.access_point is not None and not t.access_point.bucket:
        return None  # no such access point: moto answers NoSuchAccessPoint
    action = bucket_action(req) if t.key is None else object_action(req)
    return None if action is not None else "no IAM action is known for this S3 request"


def delete_objects_check(req: AwsRequest, t: Target, key: str,
                         version: Optional[str]) -> Permission:
    """The check for one key of a DeleteObjects request."""
    action = "DeleteObjectVersion" if version else "DeleteObject"
    ctx = {"s3:VersionId": version} if version else {}
    return _check(action, t.bucket, key, ctx, t.access_point)


def list_bucket_check(t: Target) -> Permission:
    """s3:ListBucket on the target bucket (decides 404 vs 403 for a missing key)."""
    return _check("ListBucket", t.bucket, None, {}, t.access_point)


# ----------------------------------------------------------------------------- S3 Control

_CONTROL_ROUTES = [
    # (method, path regex, action, resource kind)
    ("PUT", r"^/v20180820/accesspoint/(?P<name>[^/]+)$", "CreateAccessPoint", "ap"),
    ("GET", r"^/v20180820/accesspoint/(?P<name>[^/]+)$", "GetAccessPoint", "ap"),
    ("DELETE", r"^/v20180820/accesspoint/(?P<name>[^/]+)$", "DeleteAccessPoint", "ap"),
    ("GET", r"^/v20180820/accesspoint/?$", "ListAccessPoints", "*"),
    ("PUT", r"^/v20180820/accesspoint/(?P<name>[^/]+)/policy$", "PutAccessPointPolicy", "ap"),
    ("GET", r"^/v20180820/accesspoint/(?P<name>[^/]+)/policy$", "GetAccessPointPolicy", "ap"),
    ("DELETE", r"^/v20180820/accesspoint/(?P<name>[^/]+)/policy$", "DeleteAccessPointPolicy",
     "ap"),
    ("GET", r"^/v20180820/accesspoint/(?P<name>[^/]+)/policyStatus$",
     "GetAccessPointPolicyStatus", "ap"),
    ("PUT", r"^/v20180820/configuration/publicAccessBlock$", "PutAccountPublicAccessBlock", "*"),
    ("GET", r"^/v20180820/configuration/publicAccessBlock$", "GetAccountPublicAccessBlock", "*"),
    ("DELETE", r"^/v20180820/configuration/publicAccessBlock$", "PutAccountPublicAccessBlock",
     "*"),
]
_CONTROL_COMPILED = [(m, re.compile(p), a, k) for m, p, a, k in _CONTROL_ROUTES]


def control_checks(req: AwsRequest) -> List[Permission]:
    """Permissions an S3 Control request needs (access points, account BPA)."""
    m_host = _CONTROL_HOST.match(req.host)
    account = (m_host.group("account") if m_host else None) or req.header("x-amz-account-id")
    for method, pattern, action, kind in _CONTROL_COMPILED:
        if method != req.method:
            continue
        m = pattern.match(req.path)
        if m is None:
            continue
        if kind == "ap" and account:
            resource = f"arn:aws:s3:{req.region}:{account}:accesspoint/{m.group('name')}"
        else:
            resource = "*"
        return [Permission(f"s3:{action}", resource, {}, None, account)]
    return []
