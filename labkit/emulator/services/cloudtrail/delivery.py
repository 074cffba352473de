"""Log file delivery: gzipped ``{"Records": [...]}`` files in the trail's bucket.

Key layout ("CloudTrail log file examples", cloudtrail-log-file-examples.html, and
"Finding your CloudTrail log files"):

    [PREFIX/]AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/
        ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz

YYYY...mm is the delivery time (UTC); UNIQUE is 16 random characters; a file
holds the records of one region. CloudTrail writes as its service principal,
so the bucket policy decides (s3:GetBucketAcl and s3:PutObject for
cloudtrail.amazonaws.com): when it does not allow, nothing is written, the
events wait, and GetTrailStatus reports the S3 error as LatestDeliveryError.

AWS delivers about every 5 minutes; here a background timer delivers every
``LABKIT_CLOUDTRAIL_DELIVERY_SECONDS`` (default 3), and :func:`deliver_all`
(or the control endpoint POST /labkit-api/cloudtrail/deliver) forces a delivery.
The files are written into moto's S3 directly: CloudTrail's own writes are not
requests of the account, so they are not recorded (no trail logs itself forever).
"""
from __future__ import annotations

import gzip
import json
import logging
import os
import secrets
import string
import threading
import time
from collections import defaultdict
from datetime import datetime, timezone
from typing import Dict, List, Optional

from labkit.emulator.services.cloudtrail import trails
from labkit.emulator.services.cloudtrail.store import STORE

log = logging.getLogger(__name__)
INTERVAL_VARIABLE = "LABKIT_CLOUDTRAIL_DELIVERY_SECONDS"
DEFAULT_INTERVAL = 3.0
_UNIQUE = string.ascii_letters + string.digits
_lock = threading.Lock()
_timer: Optional[threading.Thread] = None


def log_key(trail, region: str, when: float) -> str:
    """The object key of a log file TRAIL delivers for REGION at WHEN (epoch seconds)."""
    t = datetime.fromtimestamp(when, timezone.utc)
    account = trail.account_id
    unique = "".join(secrets.choice(_UNIQUE) for _ in range(16))
    return (f"{trails.key_prefix(trail)}AWSLogs/{account}/CloudTrail/{region}/"
            f"{t:%Y/%m/%d}/{account}_CloudTrail_{region}_{t:%Y%m%dT%H%MZ}_{unique}.json.gz")


def _put(bucket: str, key: str, body: bytes) -> None:
    from moto.s3.models import s3_backends

    from labkit.emulator.services.s3.actions import bucket_owner

    backend = s3_backends[bucket_owner(bucket)]["aws"]
    found = backend.get_bucket(bucket)
    rule = (getattr(found, "encryption", None) or {}).get("Rule", {})
    algorithm = rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
    kms = rule.get("ApplyServerSideEncryptionByDefault", {}).get("KMSMasterKeyID")
    backend.put_object(bucket, key, body, encryption=algorithm, kms_key_id=kms,
                       disable_notification=True)


def deliver_trail(trail, now: Optional[float] = None) -> Dict[str, object]:
    """Deliver TRAIL's new events; returns {"trail", "files", "error"}."""
    now = time.time() if now is None else now
    status = trails.status_for(trail.arn)
    pending = STORE.since(status.cursor)
    upto = pending[-1].seq if pending else status.cursor
    chosen = [e for e in pending if trails.selects(trail, e)]
    result: Dict[str, object] = {"trail": trail.arn, "files": [], "error": None}
    if not chosen:
        status.cursor = upto
        return result
    by_region: Dict[str, List] = defaultdict(list)
    for event in chosen:
        by_region[event.region].append(event)
    status.latest_attempt_time = now
    keys = []
    for region, events in sorted(by_region.items()):
        key = log_key(trail, region, now)
        allowed, error = trails.bucket_allows(trail.arn, trail.account_id, trail.bucket_name, key)
        if not allowed:
            # Nothing of this batch is written: the events wait for a policy that lets
            # CloudTrail in (AWS keeps trying; GetTrailStatus shows the error meanwhile).
            status.latest_attempt_succeeded = False
            status.latest_delivery_error = error
            result["error"] = error
            return result
        keys.append((key, events))
    for key, events in keys:
        body = gzip.compress(json.dumps({"Records": [e.record for e in events]}).encode())
        _put(trail.bucket_name, key, body)
        status.delivered_keys.append(key)
        result["files"].append(key)
    status.cursor = upto
    status.latest_delivery_time = now
    status.latest_attempt_succeeded = True
    status.latest_delivery_error = None
    return result


def deliver_all(now: Optional[float] = None) -> List[Dict[str, object]]:
    """Deliver every logging trail's new events now (all accounts and regions)."""
    with _lock:
        return [deliver_trail(t, now) for t in list(trails.all_trails()) if t.status.is_logging]


def interval() -> float:
    raw = os.environ.get(INTERVAL_VARIABLE)
    if not raw:
        return DEFAULT_INTERVAL
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{INTERVAL_VARIABLE}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise ValueError(f"{INTERVAL_VARIABLE} must be more than 0 seconds, not {value}")
    return value


def _run(every: float) -> None:
    while True:
        time.sleep(every)
        try:
            deliver_all()
        except Exception:  # keep delivering later; say what went wrong now
            log.warning("CloudTrail: a timed delivery failed", exc_info=True)


def start_timer() -> None:
    """Start the background delivery timer once per process (a daemon thread)."""
    global _timer
    with _lock:
        if _timer is not None and _timer.is_alive():
            return
        _timer = threading.Thread(target=_run, args=(interval(),), daemon=True,
                                  name="labkit-cloudtrail-delivery")
        _timer.start()
