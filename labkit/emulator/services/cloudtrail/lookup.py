"""LookupEvents, as the CloudTrail API reference describes it.

https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html:
management events only (data events are never in event history), of the
caller's account and the request's region, newest first; at most one
LookupAttribute (EventId, EventName, ReadOnly, Username, ResourceType,
ResourceName, EventSource, AccessKeyId); StartTime/EndTime (inclusive);
MaxResults 1-50 (default 50) with NextToken; each event carries its record
as the JSON string CloudTrailEvent.
"""
from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from labkit.emulator.services.cloudtrail import records
from labkit.emulator.services.cloudtrail.store import STORE, Event

ATTRIBUTE_KEYS = ("EventId", "EventName", "ReadOnly", "Username", "ResourceType",
                  "ResourceName", "EventSource", "AccessKeyId")
MAX_RESULTS = 50


class LookupError_(Exception):
    """A LookupEvents request AWS refuses: ``code`` and ``message`` as AWS words them."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _time(value: Any, name: str) -> Optional[float]:
    """A botocore timestamp (epoch seconds, or ISO 8601 text) as epoch seconds."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise LookupError_("InvalidTimeRangeException",
                           f"{name} {value!r} is not a time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _attribute(params: Dict[str, Any]):
    attributes = params.get("LookupAttributes") or []
    if not isinstance(attributes, list):
        raise LookupError_("InvalidLookupAttributesException",
                           "LookupAttributes must be a list of {AttributeKey, AttributeValue}")
    if len(attributes) > 1:
        raise LookupError_("InvalidLookupAttributesException",
                           "You cannot specify more than one lookup attribute.")
    if not attributes:
        return None
    key, value = attributes[0].get("AttributeKey"), attributes[0].get("AttributeValue")
    if key not in ATTRIBUTE_KEYS:
        raise LookupError_("InvalidLookupAttributesException",
                           f"AttributeKey {key!r} is not one of {', '.join(ATTRIBUTE_KEYS)}")
    if not isinstance(value, str) or not value:
        raise LookupError_("InvalidLookupAttributesException",
                           f"AttributeValue of {key} must be a non-empty string")
    return key, value


def matches(event: Event, key: str, value: str) -> bool:
    """Does EVENT have VALUE for lookup attribute KEY? (Index fields: no record is unpacked.)"""
    if key == "EventId":
        return event.event_id == value
    if key == "EventName":
        return event.name == value
    if key == "ReadOnly":
        return str(event.read_only).lower() == value.lower()
    if key == "Username":
        return event.username == value
    if key == "EventSource":
        return event.source == value
    if key == "AccessKeyId":
        return event.access_key == value
    if key == "ResourceType":
        return any(t == value for t, _ in event.lookup_resources)
    if key == "ResourceName":
        return any(n == value for _, n in event.lookup_resources) or value in event.resource_arns
    return False


def _token(params: Dict[str, Any], seq: int) -> str:
    """A NextToken: where to go on, bound to the query it came from (AWS requires the
    same parameters with a token)."""
    raw = json.dumps({"seq": seq, "q": _query_hash(params)}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _query_hash(params: Dict[str, Any]) -> str:
    same = {k: params.get(k) for k in ("LookupAttributes", "StartTime", "EndTime",
                                       "EventCategory")}
    return hashlib.sha256(json.dumps(same, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _from_token(params: Dict[str, Any]) -> Optional[int]:
    token = params.get("NextToken")
    if token is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        seq, query = int(data["seq"]), data["q"]
    except (ValueError, KeyError, TypeError):
        raise LookupError_("InvalidNextTokenException", "Invalid NextToken") from None
    if query != _query_hash(params):
        raise LookupError_("InvalidNextTokenException",
                           "The NextToken was issued for a query with other parameters; "
                           "repeat the same LookupAttributes, StartTime and EndTime with it")
    return seq


def event_json(event: Event) -> Dict[str, Any]:
    """One Event of the LookupEvents answer."""
    r = event.record
    out = {"EventId": r["eventID"], "EventName": r["eventName"],
           "ReadOnly": "true" if r["readOnly"] else "false",
           "EventTime": event.epoch, "EventSource": r["eventSource"],
           "Resources": [{"ResourceType": t, "ResourceName": n}
                         for t, n in event.lookup_resources],
           "CloudTrailEvent": json.dumps(r)}
    key = r["userIdentity"].get("accessKeyId")
    if key:
        out["AccessKeyId"] = key
    name = records.username(r["userIdentity"])
    if name:
        out["Username"] = name
    return out


def lookup(params: Dict[str, Any], account_id: str, region: str) -> Dict[str, Any]:
    """The LookupEvents answer for PARAMS (the request's JSON) in ACCOUNT_ID / REGION."""
    attribute = _attribute(params)
    start, end = _time(params.get("StartTime"), "StartTime"), _time(params.get("EndTime"), "EndTime")
    if start is not None and end is not None and start > end:
        raise LookupError_("InvalidTimeRangeException",
                           "Start time must be equal to or before end time.")
    limit = params.get("MaxResults", MAX_RESULTS)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_RESULTS:
        raise LookupError_("InvalidMaxResultsException",
                           f"MaxResults must be from 1 to {MAX_RESULTS}, not {limit!r}")
    category = params.get("EventCategory")
    if category not in (None, "insight"):
        raise LookupError_("InvalidEventCategoryException",
                           f"EventCategory {category!r} is not valid; the only one is 'insight'")
    if category == "insight":
        return {"Events": []}  # no Insights in the emulator: nothing to find
    below = _from_token(params)
    found: List[Event] = []
    more = False
    for event in STORE.newest_first():
        if below is not None and event.seq >= below:
            continue
        if not event.management or event.region != region or event.account != account_id:
            continue
        if (start is not None and event.epoch < start) or (end is not None and event.epoch > end):
            continue
        if attribute is not None and not matches(event, *attribute):
            continue
        if len(found) == limit:
            more = True
            break
        found.append(event)
    answer: Dict[str, Any] = {"Events": [event_json(e) for e in found]}
    if more:
        answer["NextToken"] = _token(params, found[-1].seq)
    return answer
