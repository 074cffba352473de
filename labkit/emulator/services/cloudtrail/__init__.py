"""CloudTrail, offline: every request the emulator serves is an event record.

moto stores trails but records nothing and has no LookupEvents. labkit's
authorization layer sees every request with its caller and decision, so:

- ``recorder.py``: the hook the authorization middleware calls around each request;
- ``records.py``: builds the CloudTrail record (AWS's fields, no secrets);
- ``store.py``: the bounded in-memory event store (``LABKIT_CLOUDTRAIL_MAX_EVENTS``, default 100,000);
- ``lookup.py``: LookupEvents (management events, newest first, one lookup attribute, pages);
- ``trails.py``: CreateTrail / PutEventSelectors / GetTrailStatus / DeleteTrail / ... over
  moto's trail store, with AWS's checks moto lacks; which events a trail selects;
- ``delivery.py``: gzipped log files in the trail's bucket, written as cloudtrail.amazonaws.com
  through the bucket policy, by a background timer and on demand;
- ``control.py``: the loopback control paths (force a delivery, read events with labkit's reasons);
- ``behaviour.py``: ``install()`` patches moto's CloudTrail responses.
"""

from labkit.emulator.services import Service

SERVICE = Service(("cloudtrail",), "json")
