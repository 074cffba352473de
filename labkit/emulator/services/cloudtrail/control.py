"""CloudTrail's loopback control paths, and their clients.

Served through labkit.emulator.control, these are no AWS API: they
answer only direct plain-HTTP loopback requests to the emulator's own URL, so
a process attached to the emulator (a grader, the terminal sandbox, a kernel
started with LABKIT_EMULATOR_ATTACH) can

- ``POST /labkit-api/cloudtrail/deliver``: deliver every logging trail's events now;
- ``GET /labkit-api/cloudtrail/events?since=SEQ``: read the recorded events
  (records with labkit's reason, oldest first, data events included).

Clients: :func:`deliver` and :func:`events` take an Emulator (answered in
process), an AttachedEmulator or the emulator's URL.
"""
from __future__ import annotations

from typing import List
from urllib.parse import parse_qs

from labkit.emulator.control import call_control, json_response

PREFIX = "/labkit-api/cloudtrail/"
DELIVER_PATH = PREFIX + "deliver"
EVENTS_PATH = PREFIX + "events"


def event_json(event) -> dict:
    return {"seq": event.seq, "record": event.record, "reason": event.reason}


def handle(environ: dict, start_response):
    from labkit.emulator.services.cloudtrail import delivery
    from labkit.emulator.services.cloudtrail.store import STORE

    path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
    if path == DELIVER_PATH:
        if method != "POST":
            return json_response(start_response, 405, {"error": f"{DELIVER_PATH} takes POST"})
        return json_response(start_response, 200, {"deliveries": delivery.deliver_all()})
    if path == EVENTS_PATH:
        if method != "GET":
            return json_response(start_response, 405, {"error": f"{EVENTS_PATH} takes GET"})
        query = parse_qs(environ.get("QUERY_STRING", ""))
        try:
            since = int(query.get("since", ["0"])[0])
        except ValueError:
            return json_response(start_response, 400, {"error": "since must be a whole number "
                                                        "(an event sequence number)"})
        return json_response(start_response, 200, {
            "events": [event_json(e) for e in STORE.since(since)], "last_seq": STORE.last_seq,
            "cap": STORE.cap, "dropped": STORE.dropped})
    return json_response(start_response, 404, {"error": f"no such control path {path!r}; CloudTrail's "
                                                f"are {DELIVER_PATH} (POST), {EVENTS_PATH} (GET)"})


# ----------------------------------------------------------------------------- clients

def _in_process(emulator) -> bool:
    return bool(getattr(emulator, "in_process", False))


def deliver(emulator) -> List[dict]:
    """Deliver every logging trail's new events now; one result per trail
    ({"trail", "files", "error"})."""
    if _in_process(emulator):
        from labkit.emulator.services.cloudtrail import delivery

        return delivery.deliver_all()
    return call_control(emulator, "POST", DELIVER_PATH)["deliveries"]


def events(emulator, since: int = 0) -> List[dict]:
    """The recorded events after sequence number SINCE, oldest first, each
    {"seq", "record", "reason"}."""
    if _in_process(emulator):
        from labkit.emulator.services.cloudtrail.store import STORE

        return [event_json(e) for e in STORE.since(since)]
    return call_control(emulator, "GET", f"{EVENTS_PATH}?since={int(since)}")["events"]
