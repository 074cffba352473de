"""CloudWatch's loopback control path: alarms evaluated in simulated time, from any process.

CloudWatch alarms are evaluated in simulated time by
:func:`labkit.emulator.services.cloudwatch.behaviour.evaluate_alarms`, which must run
in the process that holds moto's state. A grader or the terminal sandbox attaches
to that process over HTTP (labkit.emulator.server.AttachedEmulator), so the
emulator answers ``POST /labkit-api/cloudwatch/evaluate-alarms`` itself (through
labkit.emulator.control: direct loopback requests only, no AWS API).

Client side: :func:`evaluate_alarms` (an Emulator, an AttachedEmulator or a URL).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import List, Optional, Union

from labkit.emulator.control import call_control, json_response
from labkit.emulator.services.cloudwatch.behaviour import Transition, evaluate_alarms as _evaluate

#: The path of the alarm evaluation endpoint.
EVALUATE_ALARMS_PATH = "/labkit-api/cloudwatch/evaluate-alarms"


def handle(environ: dict, start_response):
    """Serve the control path (the caller checked it is a direct loopback request)."""
    if environ["PATH_INFO"] != EVALUATE_ALARMS_PATH:
        return json_response(start_response, 404, {
            "error": f"no such control path {environ['PATH_INFO']!r}; "
                     f"CloudWatch's is {EVALUATE_ALARMS_PATH}"})
    if environ.get("REQUEST_METHOD") != "POST":
        return json_response(start_response, 405, {"error": f"{EVALUATE_ALARMS_PATH} takes POST"})
    try:
        args = _parse_request(environ)
    except ValueError as exc:
        return json_response(start_response, 400, {"error": str(exc)})
    try:
        transitions = _evaluate(**args)
    except KeyError as exc:
        return json_response(start_response, 400, {"error": f"unknown account or region {exc}"})
    return json_response(start_response, 200,
                         {"transitions": [_transition_json(t) for t in transitions]})


def _parse_request(environ: dict) -> dict:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise ValueError('the body must be JSON: {"account_id": ..., "region": ..., '
                         '"now": "2026-01-01T12:00:00+00:00"}') from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object with account_id, region and now")
    unknown = set(body) - {"account_id", "region", "now"}
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)}; allowed: account_id, region, now")
    for name in ("account_id", "region"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise ValueError(f"{name} must be a string (or null for the default), "
                             f"not {body[name]!r}")
    now = body.get("now")
    if now is not None:
        try:
            now = datetime.fromisoformat(now)
        except (TypeError, ValueError):
            raise ValueError(f"now={now!r} is not an ISO 8601 time such as "
                             "2026-01-01T12:00:00+00:00") from None
    return {"account_id": body.get("account_id"), "region": body.get("region"), "now": now}


def _transition_json(t) -> dict:
    return {"alarm_name": t.alarm_name, "old_state": t.old_state, "new_state": t.new_state,
            "reason": t.reason, "actions": list(t.actions)}


def evaluate_alarms(emulator: Union[object, str], now: Optional[datetime] = None, *,
                    account_id: Optional[str] = None, region: Optional[str] = None,
                    timeout: float = 60.0) -> List[Transition]:
    """Evaluate the CloudWatch alarms of EMULATOR at simulated NOW, from any process.

    EMULATOR is an Emulator, an AttachedEmulator or its URL (http://127.0.0.1:PORT).
    ``account_id``/``region`` default to the emulator's account and labkit's region;
    ``now`` to the current time (naive datetimes are UTC). Returns the
    :class:`~labkit.emulator.services.cloudwatch.behaviour.Transition` of every evaluated alarm.
    """
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    body = {"account_id": account_id or getattr(emulator, "account_id", None), "region": region,
            "now": now.isoformat() if now else None}
    payload = call_control(emulator, "POST", EVALUATE_ALARMS_PATH, body, timeout)
    return [Transition(**t) for t in payload["transitions"]]
