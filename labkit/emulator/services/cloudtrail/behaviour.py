"""CloudTrail behaviour added over moto: LookupEvents, AWS's trail checks, real delivery status.

``install()`` (idempotent) patches moto's CloudTrailResponse:

- ``lookup_events``: new (moto has none), answered from labkit's event store;
- ``create_trail``: TrailAlreadyExistsException, InsufficientS3BucketPolicyException;
- ``delete_trail``: TrailNotFoundException for an unknown trail, by name or ARN;
- ``put_event_selectors``: validated; basic and advanced selectors replace each other;
- ``start_logging`` / ``stop_logging``: delivery starts from now / flushes what is pending;
- ``get_trail_status``: the delivery state (LatestDeliveryError when the bucket policy
  does not let CloudTrail write);
- ``describe_trails`` / ``get_trail``: HasCustomEventSelectors as AWS reports it.

It also makes a moto reset forget the recorded events and starts the delivery timer.
"""
from __future__ import annotations

import functools
import json
from datetime import datetime, timezone

from moto.cloudtrail.models import cloudtrail_backends
from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.exceptions import JsonRESTError

from labkit.emulator.patching import replace
from labkit.emulator.services.cloudtrail import delivery, lookup, trails
from labkit.emulator.services.cloudtrail.store import STORE

_PATCHED = "_labkit_cloudtrail"


class CloudTrailError(JsonRESTError):
    code = 400

    def __init__(self, error_type: str, message: str):
        super().__init__(error_type, message)


def _iso(epoch):
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def _find(response: CloudTrailResponse, name: str):
    """The trail NAME (or ARN) of the caller's account in any region, or TrailNotFoundException."""
    for trail in trails.all_trails():
        if trail.account_id == response.current_account and name in (trail.trail_name, trail.arn):
            return trail
    arn = name if name.startswith("arn:") else (
        f"arn:aws:cloudtrail:{response.region}:{response.current_account}:trail/{name}")
    raise CloudTrailError("TrailNotFoundException",
                          f"Unknown trail: {arn} for the user: {response.current_account}")


# ----------------------------------------------------------------------------- handlers

def lookup_events(self: CloudTrailResponse) -> str:
    params = json.loads(self.body or "{}")
    try:
        answer = lookup.lookup(params, self.current_account, self.region)
    except lookup.LookupError_ as exc:
        raise CloudTrailError(exc.code, exc.message) from None
    return json.dumps(answer)


def _create_trail(original, self: CloudTrailResponse) -> str:
    params = json.loads(self.body or "{}")
    name, bucket = params.get("Name", ""), params.get("S3BucketName", "")
    if name in self.cloudtrail_backend.trails:
        raise CloudTrailError("TrailAlreadyExistsException",
                              f"Trail {name} already exists for customer: {self.current_account}")
    from labkit.emulator.services.s3.actions import bucket_owner

    if bucket and bucket_owner(bucket) is not None:
        arn = f"arn:aws:cloudtrail:{self.region}:{self.current_account}:trail/{name}"
        prefix = (params.get("S3KeyPrefix") or "").strip("/")
        probe = (f"{prefix}/" if prefix else "") + f"AWSLogs/{self.current_account}/CloudTrail/"
        allowed, _ = trails.bucket_allows(arn, self.current_account, bucket, probe)
        if not allowed:
            raise CloudTrailError("InsufficientS3BucketPolicyException",
                                  f"Incorrect S3 bucket policy is detected for bucket: {bucket}")
    answer = original(self)
    trails.forget(f"arn:aws:cloudtrail:{self.region}:{self.current_account}:trail/{name}")
    return answer


def _delete_trail(original, self: CloudTrailResponse) -> str:
    trail = _find(self, self._get_param("Name") or "")
    cloudtrail_backends[trail.account_id][trail.region_name].trails.pop(trail.trail_name, None)
    trails.forget(trail.arn)
    return json.dumps({})


def _put_event_selectors(original, self: CloudTrailResponse) -> str:
    params = json.loads(self.body or "{}")
    basic, advanced = params.get("EventSelectors"), params.get("AdvancedEventSelectors")
    if basic and advanced:
        raise CloudTrailError("InvalidParameterCombinationException",
                              "You can use either EventSelectors or AdvancedEventSelectors, "
                              "not both.")
    if not basic and not advanced:
        raise CloudTrailError("InvalidParameterCombinationException",
                              "Specify EventSelectors or AdvancedEventSelectors.")
    trail = _find(self, params.get("TrailName") or "")
    try:
        if basic:
            trail.event_selectors, trail.advanced_event_selectors = trails.validate_basic(basic), []
        else:
            trail.event_selectors = []
            trail.advanced_event_selectors = trails.validate_advanced(advanced)
    except trails.SelectorError as exc:
        raise CloudTrailError(exc.code, str(exc)) from None
    return json.dumps({"TrailARN": trail.arn, "EventSelectors": trail.event_selectors,
                       "AdvancedEventSelectors": trail.advanced_event_selectors})


def _get_event_selectors(original, self: CloudTrailResponse) -> str:
    params = json.loads(self.body or "{}")
    trail = _find(self, params.get("TrailName") or "")
    answer = {"TrailARN": trail.arn}
    if trail.advanced_event_selectors and not trail.event_selectors:
        answer["AdvancedEventSelectors"] = trail.advanced_event_selectors
    else:
        # A trail without selectors logs all management events (AWS shows that default).
        answer["EventSelectors"] = trail.event_selectors or [
            {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
             "ExcludeManagementEventSources": []}]
    return json.dumps(answer)


def _start_logging(original, self: CloudTrailResponse) -> str:
    trail = _find(self, self._get_param("Name") or "")
    if not trail.status.is_logging:
        # Only what happens from now on is delivered.
        trails.status_for(trail.arn).cursor = STORE.last_seq
    trail.start_logging()
    delivery.start_timer()
    return json.dumps({})


def _stop_logging(original, self: CloudTrailResponse) -> str:
    trail = _find(self, self._get_param("Name") or "")
    if trail.status.is_logging:
        with delivery._lock:
            delivery.deliver_trail(trail)  # what was logged until now still arrives
    trail.stop_logging()
    return json.dumps({})


def _get_trail_status(original, self: CloudTrailResponse) -> str:
    trail = _find(self, self._get_param("Name") or "")
    moto_status, ours = trail.status, trails.status_for(trail.arn)
    answer = {"IsLogging": moto_status.is_logging}
    if moto_status.started:
        answer["StartLoggingTime"] = moto_status.started.replace(tzinfo=timezone.utc).timestamp()
        answer["TimeLoggingStarted"] = _iso(answer["StartLoggingTime"])
    if moto_status.stopped:
        answer["StopLoggingTime"] = moto_status.stopped.replace(tzinfo=timezone.utc).timestamp()
        answer["TimeLoggingStopped"] = _iso(answer["StopLoggingTime"])
    if ours.latest_delivery_time is not None:
        answer["LatestDeliveryTime"] = ours.latest_delivery_time
        answer["LatestDeliveryAttemptSucceeded"] = _iso(ours.latest_delivery_time)
    if ours.latest_attempt_time is not None:
        answer["LatestDeliveryAttemptTime"] = _iso(ours.latest_attempt_time)
    if ours.latest_delivery_error:
        answer["LatestDeliveryError"] = ours.latest_delivery_error
    return json.dumps(answer)


def _with_custom_selectors(original, self: CloudTrailResponse) -> str:
    answer = json.loads(original(self))
    for item in answer.get("trailList", []) + ([answer["Trail"]] if "Trail" in answer else []):
        trail = next((t for t in trails.all_trails() if t.arn == item.get("TrailARN")), None)
        if trail is not None:
            item["HasCustomEventSelectors"] = bool(trail.event_selectors
                                                   or trail.advanced_event_selectors)
    return json.dumps(answer)


# ----------------------------------------------------------------------------- install

def _wrap(name: str, handler) -> None:
    original = getattr(CloudTrailResponse, name)
    if getattr(original, _PATCHED, False):
        return

    @functools.wraps(original)
    def patched(self):
        return handler(original, self)

    setattr(patched, _PATCHED, True)
    replace(CloudTrailResponse, name, patched)


def _reset_forgets_events() -> None:
    from moto.moto_api import _internal

    backend = _internal.moto_api_backend
    original = type(backend).reset
    if getattr(original, _PATCHED, False):
        return

    @functools.wraps(original)
    def reset(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        STORE.clear()
        trails.reset()
        return result

    setattr(reset, _PATCHED, True)
    replace(type(backend), "reset", reset)


def install() -> None:
    """Patch moto's CloudTrail as described above (idempotent) and start delivering."""
    replace(CloudTrailResponse, "lookup_events", lookup_events, adds=True)  # moto has no LookupEvents
    _wrap("create_trail", _create_trail)
    _wrap("delete_trail", _delete_trail)
    _wrap("put_event_selectors", _put_event_selectors)
    _wrap("get_event_selectors", _get_event_selectors)
    _wrap("start_logging", _start_logging)
    _wrap("stop_logging", _stop_logging)
    _wrap("get_trail_status", _get_trail_status)
    _wrap("describe_trails", _with_custom_selectors)
    _wrap("get_trail", _with_custom_selectors)
    _reset_forgets_events()
    delivery.start_timer()


__all__ = ["install", "CloudTrailError"]
