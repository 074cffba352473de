"""Trails: what moto stores, the checks AWS makes and moto does not, and what a trail selects.

moto keeps the trails (CreateTrail, DescribeTrails, StartLogging, ...). Added here:

- CreateTrail refuses a bucket whose policy does not let CloudTrail write
  (InsufficientS3BucketPolicyException) and a name already in use
  (TrailAlreadyExistsException); DeleteTrail of an unknown trail is
  TrailNotFoundException (moto ignores it).
- PutEventSelectors validates basic selectors (ReadWriteType, at most 5,
  DataResources of a known type with S3 values ``arn:aws:s3`` or
  ``arn:aws:s3:::BUCKET/[PREFIX]``) and advanced selectors (known fields and
  operators, eventCategory in every selector, resources.type for data
  events), and one kind replaces the other (moto keeps both).
- GetTrailStatus reports the delivery state of labkit.emulator.services.cloudtrail.delivery
  (LatestDeliveryTime, LatestDeliveryError, ...), not moto's invented times.

Selection follows "Logging data events" and "Logging management events" in the CloudTrail
user guide (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from labkit.emulator.services.cloudtrail.store import Event

SERVICE_PRINCIPAL = "cloudtrail.amazonaws.com"
#: Services whose events are "global service events" (delivered by trails including them).
GLOBAL_SOURCES = ("iam.amazonaws.com", "sts.amazonaws.com", "signin.amazonaws.com")
DATA_RESOURCE_TYPES = ("AWS::S3::Object", "AWS::Lambda::Function", "AWS::DynamoDB::Table")
READ_WRITE_TYPES = ("ReadOnly", "WriteOnly", "All")
ADVANCED_FIELDS = ("eventCategory", "resources.type", "resources.ARN", "readOnly", "eventName",
                   "eventSource", "eventType", "sessionCredentialFromConsole",
                   "userIdentity.arn", "errorCode")
OPERATORS = ("Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith")
MAX_BASIC_SELECTORS = 5


class SelectorError(ValueError):
    """A selector AWS refuses: ``code`` is the CloudTrail exception name."""

    def __init__(self, message: str, code: str = "InvalidEventSelectorsException"):
        super().__init__(message)
        self.code = code


# ----------------------------------------------------------------------------- delivery state

@dataclass
class Status:
    """What GetTrailStatus reports about deliveries of one trail."""

    cursor: int = 0                          # the last event sequence number handled
    latest_delivery_time: Optional[float] = None
    latest_attempt_time: Optional[float] = None
    latest_attempt_succeeded: Optional[bool] = None
    latest_delivery_error: Optional[str] = None
    delivered_keys: List[str] = field(default_factory=list)


_lock = threading.RLock()
STATUS: Dict[str, Status] = {}


def status_for(trail_arn: str) -> Status:
    with _lock:
        return STATUS.setdefault(trail_arn, Status())


def forget(trail_arn: str) -> None:
    with _lock:
        STATUS.pop(trail_arn, None)


def reset() -> None:
    with _lock:
        STATUS.clear()


# ----------------------------------------------------------------------------- moto's trails

def all_trails():
    """Every trail moto holds, all accounts and regions."""
    from moto.cloudtrail.models import cloudtrail_backends

    for account_id in list(cloudtrail_backends.keys()):
        regions = cloudtrail_backends[account_id]
        for region in list(regions.keys()):
            for trail in list(regions[region].trails.values()):
                yield trail


# ----------------------------------------------------------------------------- the bucket policy

def bucket_allows(trail_arn: str, account_id: str, bucket: str, key: str) -> Tuple[bool, str]:
    """May CloudTrail (the service principal, for TRAIL_ARN) write KEY to BUCKET?

    Checks s3:GetBucketAcl on the bucket and s3:PutObject on the key, with the context
    CloudTrail sends (s3:x-amz-acl bucket-owner-full-control, aws:SourceArn,
    aws:SourceAccount), against the bucket policy: a service principal gets nothing
    from the account's identity policies. Returns (allowed, S3 error code).
    """
    from labkit.emulator.services.s3.actions import bucket_owner, bucket_policy
    from labkit.policy import Request, evaluate

    owner = bucket_owner(bucket)
    if owner is None:
        return False, "NoSuchBucket"
    policy = bucket_policy(bucket)
    if policy is None:
        return False, "AccessDenied"
    ctx = {"aws:SourceArn": trail_arn, "aws:SourceAccount": account_id,
           "aws:SecureTransport": "true", "aws:PrincipalServiceName": SERVICE_PRINCIPAL}
    checks = [("s3:GetBucketAcl", f"arn:aws:s3:::{bucket}", {}),
              ("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}",
               {"s3:x-amz-acl": "bucket-owner-full-control"})]
    for action, resource, extra in checks:
        request = Request(SERVICE_PRINCIPAL, action, resource, {**ctx, **extra},
                          resource_account=owner)
        if not evaluate(request, [], (f"bucket policy {bucket}", policy)).allowed:
            return False, "AccessDenied"
    return True, ""


def key_prefix(trail) -> str:
    """AWSLogs/... is under the trail's S3KeyPrefix, when it has one."""
    prefix = (trail.s3_key_prefix or "").strip("/")
    return f"{prefix}/" if prefix else ""


# ----------------------------------------------------------------------------- validation

def validate_basic(selectors: Any) -> List[dict]:
    if not isinstance(selectors, list) or not selectors:
        raise SelectorError("EventSelectors must be a non-empty list")
    if len(selectors) > MAX_BASIC_SELECTORS:
        raise SelectorError(f"A trail can have at most {MAX_BASIC_SELECTORS} event selectors, "
                            f"not {len(selectors)}")
    out = []
    for selector in selectors:
        rw = selector.get("ReadWriteType", "All")
        if rw not in READ_WRITE_TYPES:
            raise SelectorError(f"ReadWriteType {rw!r} is not one of {', '.join(READ_WRITE_TYPES)}")
        resources = []
        for resource in selector.get("DataResources") or []:
            kind = resource.get("Type")
            if kind not in DATA_RESOURCE_TYPES:
                raise SelectorError(f"DataResources Type {kind!r} is not valid; for S3 objects "
                                    f"use AWS::S3::Object")
            values = resource.get("Values") or []
            if kind == "AWS::S3::Object":
                values = [_s3_value(v) for v in values]
            resources.append({"Type": kind, "Values": values})
        out.append({"ReadWriteType": rw,
                    "IncludeManagementEvents": selector.get("IncludeManagementEvents", True),
                    "DataResources": resources,
                    "ExcludeManagementEventSources":
                        selector.get("ExcludeManagementEventSources", [])})
    return out


def _s3_value(value: Any) -> str:
    """An S3 data resource value: arn:aws:s3 (every bucket) or arn:aws:s3:::BUCKET/[PREFIX]."""
    if not isinstance(value, str):
        raise SelectorError(f"DataResources value {value!r} must be a string")
    if value in ("arn:aws:s3", "arn:aws:s3:::"):
        return value
    if not value.startswith("arn:aws:s3:::") or value == "arn:aws:s3:::":
        raise SelectorError(f"Value {value} for parameter DataResources.Values is invalid: use "
                            f"arn:aws:s3:::BUCKET/ (a bucket) or arn:aws:s3:::BUCKET/PREFIX")
    if "/" not in value[len("arn:aws:s3:::"):]:
        return value + "/"  # a bucket ARN means all its objects, as the console writes it
    return value


def validate_advanced(selectors: Any) -> List[dict]:
    if not isinstance(selectors, list) or not selectors:
        raise SelectorError("AdvancedEventSelectors must be a non-empty list")
    for selector in selectors:
        fields = selector.get("FieldSelectors") or []
        names = [f.get("Field") for f in fields]
        for f in fields:
            if f.get("Field") not in ADVANCED_FIELDS:
                raise SelectorError(f"Field {f.get('Field')!r} is not a valid field for an "
                                    f"advanced event selector ({', '.join(ADVANCED_FIELDS)})")
            used = [op for op in OPERATORS if f.get(op)]
            if not used:
                raise SelectorError(f"Field selector {f.get('Field')} needs one of "
                                    f"{', '.join(OPERATORS)} with a list of values")
        if "eventCategory" not in names:
            raise SelectorError("Each advanced event selector must have an eventCategory "
                                "field selector (Equals Management or Data)")
        category = next(f for f in fields if f.get("Field") == "eventCategory")
        if "Data" in (category.get("Equals") or []) and "resources.type" not in names:
            raise SelectorError("An advanced event selector for data events must have a "
                                "resources.type field selector, e.g. Equals AWS::S3::Object")
    return selectors


# ----------------------------------------------------------------------------- selection

def _rw_ok(rw: str, read_only: bool) -> bool:
    return rw == "All" or (rw == "ReadOnly") == read_only


def _basic_selects(selectors: List[dict], r: dict) -> bool:
    for selector in selectors:
        if not _rw_ok(selector.get("ReadWriteType", "All"), r["readOnly"]):
            continue
        if r["managementEvent"]:
            if selector.get("IncludeManagementEvents", True) and r["eventSource"] not in (
                    selector.get("ExcludeManagementEventSources") or []):
                return True
            continue
        arns = [res["ARN"] for res in r.get("resources", []) if res["type"] == "AWS::S3::Object"]
        for resource in selector.get("DataResources") or []:
            if resource.get("Type") != "AWS::S3::Object":
                continue
            for value in resource.get("Values") or []:
                if value in ("arn:aws:s3", "arn:aws:s3:::") or any(
                        a.startswith(value) for a in arns):
                    return True
    return False


def _field_values(r: dict, name: str) -> List[str]:
    if name == "eventCategory":
        return [r["eventCategory"]]
    if name == "readOnly":
        return ["true" if r["readOnly"] else "false"]
    if name == "resources.type":
        return [res["type"] for res in r.get("resources", [])]
    if name == "resources.ARN":
        return [res["ARN"] for res in r.get("resources", [])]
    if name == "userIdentity.arn":
        return [r["userIdentity"].get("arn", "")]
    if name == "sessionCredentialFromConsole":
        return ["false"]
    return [str(r.get(name, ""))]


def _field_ok(f: dict, values: List[str]) -> bool:
    def any_value(test):
        return any(test(v) for v in values)

    if f.get("Equals") and not any_value(lambda v: v in f["Equals"]):
        return False
    if f.get("StartsWith") and not any_value(lambda v: any(v.startswith(p) for p in f["StartsWith"])):
        return False
    if f.get("EndsWith") and not any_value(lambda v: any(v.endswith(p) for p in f["EndsWith"])):
        return False
    if f.get("NotEquals") and any_value(lambda v: v in f["NotEquals"]):
        return False
    if f.get("NotStartsWith") and any_value(
            lambda v: any(v.startswith(p) for p in f["NotStartsWith"])):
        return False
    if f.get("NotEndsWith") and any_value(lambda v: any(v.endswith(p) for p in f["NotEndsWith"])):
        return False
    return True


def _advanced_selects(selectors: List[dict], r: dict) -> bool:
    return any(all(_field_ok(f, _field_values(r, f["Field"])) for f in s.get("FieldSelectors", []))
               for s in selectors)


def selects(trail, event: Event) -> bool:
    """Does TRAIL deliver EVENT (account, region, global events, selectors)?"""
    r = event.record
    if r["recipientAccountId"] != trail.account_id:
        return False
    if r["eventSource"] in GLOBAL_SOURCES:
        if not trail.include_global_service_events:
            return False
    elif not trail.is_multi_region and r["awsRegion"] != trail.region_name:
        return False
    if trail.advanced_event_selectors and not trail.event_selectors:
        return _advanced_selects(trail.advanced_event_selectors, r)
    if trail.event_selectors:
        return _basic_selects(trail.event_selectors, r)
    return r["managementEvent"]  # no selectors: all management events, as AWS's default
