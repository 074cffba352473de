"""The emulator's control endpoint: simulated time for processes that only attach.

CloudWatch alarms are evaluated in simulated time by
labkit.emulator.services.cloudwatch.behaviour.evaluate_alarms, which must run in the
process that holds moto's state. A grader or the terminal sandbox attaches to
that process over HTTP (labkit.emulator.server.AttachedEmulator), so the WSGI
app answers ``POST /labkit-api/cloudwatch/evaluate-alarms`` itself, before
authorization and moto. The endpoint is no AWS API: it answers only requests
made directly to the emulator's own loopback URL (http://127.0.0.1:PORT), never
through an AWS host name or a TLS tunnel, and otherwise passes the request on.

Client side: :func:`evaluate_alarms` (works with an Emulator, an
AttachedEmulator or a URL).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Callable, List, Optional, Union

#: The path of the alarm evaluation endpoint.
EVALUATE_ALARMS_PATH = "/labkit-api/cloudwatch/evaluate-alarms"
_LOOPBACK_ADDRESSES = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
#: Set in the WSGI environ by a listener whose clients are untrusted (a grader's sandboxed
#: kernels, labkit.grading.sandbox.KernelGate): they get AWS APIs only, never moto's
#: /moto-api/ (reset, data.json dump) nor labkit's control paths.
UNTRUSTED_ENVIRON = "labkit.untrusted_client"
OPERATOR_PREFIXES = ("/moto-api", "/labkit-api")


class ControlEndpoint:
    """WSGI middleware: serve labkit's control paths, pass everything else to APP."""

    def __init__(self, app: Callable):
        self.app = app

    def __call__(self, environ: dict, start_response: Callable):
        if environ.get(UNTRUSTED_ENVIRON) and environ.get("PATH_INFO", "").startswith(
                OPERATOR_PREFIXES):
            return _json(start_response, 403, {
                "error": f"{environ['PATH_INFO']!r} is the emulator operator's, not open to "
                         "a graded notebook's kernel"})
        if not environ.get("PATH_INFO", "").startswith("/labkit-api/") or not _direct(environ):
            return self.app(environ, start_response)
        if environ["PATH_INFO"].startswith("/labkit-api/cloudtrail/"):  # issue 13: CloudTrail
            from labkit.emulator.services.cloudtrail import control as cloudtrail

            return cloudtrail.handle(environ, start_response)
        if environ["PATH_INFO"] != EVALUATE_ALARMS_PATH:
            return _json(start_response, 404, {
                "error": f"no such control path {environ['PATH_INFO']!r}; "
                         f"the only one is {EVALUATE_ALARMS_PATH}"})
        if environ.get("REQUEST_METHOD") != "POST":
            return _json(start_response, 405, {"error": f"{EVALUATE_ALARMS_PATH} takes POST"})
        try:
            args = _parse_request(environ)
        except ValueError as exc:
            return _json(start_response, 400, {"error": str(exc)})
        from labkit.emulator.services.cloudwatch import behaviour as cloudwatch

        try:
            transitions = cloudwatch.evaluate_alarms(**args)
        except KeyError as exc:
            return _json(start_response, 400, {"error": f"unknown account or region {exc}"})
        return _json(start_response, 200, {"transitions": [_transition_json(t) for t in transitions]})


def _direct(environ: dict) -> bool:
    """True for a plain-HTTP request from loopback to the emulator's own address."""
    host = environ.get("HTTP_HOST", "")
    host = host.split("]")[0] + "]" if host.startswith("[") else host.rsplit(":", 1)[0]
    return (environ.get("wsgi.url_scheme") == "http"
            and environ.get("REMOTE_ADDR") in _LOOPBACK_ADDRESSES
            and host in _LOOPBACK_HOSTS)


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


def _json(start_response, status: int, payload: dict):
    body = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"),
                                          ("Content-Length", str(len(body)))])
    return [body]


# ----------------------------------------------------------------------------- client

def evaluate_alarms(emulator: Union[object, str], now: Optional[datetime] = None, *,
                    account_id: Optional[str] = None, region: Optional[str] = None,
                    timeout: float = 60.0) -> List["Transition"]:
    """Evaluate the CloudWatch alarms of EMULATOR at simulated NOW, from any process.

    EMULATOR is an Emulator, an AttachedEmulator or its URL (http://127.0.0.1:PORT).
    ``account_id``/``region`` default to the emulator's account and labkit's region;
    ``now`` to the current time (naive datetimes are UTC). Returns the
    labkit.emulator.services.cloudwatch.behaviour.Transition of every evaluated alarm.
    """
    import urllib.error
    import urllib.request

    from labkit.emulator.services.cloudwatch.behaviour import Transition

    url = emulator if isinstance(emulator, str) else getattr(emulator, "url", None)
    if not url:
        raise TypeError(f"evaluate_alarms needs an Emulator, an AttachedEmulator or the "
                        f"emulator's URL, not {emulator!r}")
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    body = {"account_id": account_id or getattr(emulator, "account_id", None), "region": region,
            "now": now.isoformat() if now else None}
    request = urllib.request.Request(url.rstrip("/") + EVALUATE_ALARMS_PATH, method="POST",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    # Straight to loopback: the lab's HTTP(S)_PROXY variables point at the emulator itself.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        raise RuntimeError(f"the emulator at {url} refused to evaluate alarms "
                           f"({exc.code}): {detail}") from None
    return [Transition(**t) for t in payload["transitions"]]
