"""CloudTrail's part of the request pipeline: every request it serves becomes an event.

The pipeline (labkit.emulator.authz.middleware) finds this module through the
service registry (``recorder.py`` of a service folder) and calls:

- ``recorded(serve, environ, start_response)`` around each request: runs it,
  keeps the response's status, headers and (for failures and small answers)
  body, and the decisions made while serving it (``authz.decide.recording``:
  every decision, the KMS key policy's and the trust policy's included), and
  stores the event record;
- ``note(environ, req, caller)`` once the caller is known (requests whose key
  is unknown or whose signature is wrong are not recorded: CloudTrail logs
  only authenticated requests and S3's anonymous ones).

Recording never changes an answer: if building a record fails, the request is
served as it was and the failure is logged with its cause.
"""
from __future__ import annotations

import logging
import os
from typing import Callable, List

from labkit.emulator.authz.decide import recording
from labkit.emulator.authz.on_behalf import INVOKED_BY_ENVIRON
from labkit.emulator.services.cloudtrail.store import STORE

log = logging.getLogger(__name__)
#: Set LABKIT_CLOUDTRAIL=off to serve requests without recording them (benchmarks).
ENABLED_VARIABLE = "LABKIT_CLOUDTRAIL"
_NOTE = "labkit.cloudtrail.request"


def enabled() -> bool:
    return os.environ.get(ENABLED_VARIABLE, "on").lower() not in ("off", "0", "false", "no")


def note(environ: dict, req, caller) -> None:
    """The request and its (authenticated or anonymous) caller: it will be recorded."""
    environ[_NOTE] = (req, caller)


def recorded(serve: Callable, environ: dict, start_response: Callable):
    """SERVE(environ, start_response), recording the request as a CloudTrail event."""
    if not enabled() or environ.get("PATH_INFO", "").startswith("/moto-api"):
        return serve(environ, start_response)
    box: dict = {}

    def capture(status, headers, exc_info=None):
        box["status"], box["headers"] = status, headers
        if exc_info is not None:
            return start_response(status, headers, exc_info)
        return start_response(status, headers)

    with recording() as decisions:
        result = serve(environ, capture)
        try:
            chunks = list(result)
        finally:
            getattr(result, "close", lambda: None)()
    noted = environ.get(_NOTE)
    if noted is not None and "status" in box:
        _record(noted, box["status"], box["headers"], chunks, decisions, environ)
    return chunks


def _record(noted, status_line: str, headers_list, chunks, decisions, environ) -> None:
    from labkit.emulator.services.cloudtrail import records

    req, caller = noted
    try:
        status = int(status_line.split(" ", 1)[0])
        headers = {k.lower(): v for k, v in headers_list}
        t = None
        if req.service == "s3":
            from labkit.emulator.services.s3 import actions as s3

            t = s3.target(req)
        # Object bodies are never read; other bodies only when the record needs them.
        need_body = status >= 300 or (req.service != "s3" and
                                      not records.is_read_only(records.event_name(req, t)))
        body = b"".join(chunks) if need_body else b""
        checked = [check.resource for check, _ in decisions]
        event = records.build(req, caller, t, status, headers, body, checked,
                              reason_of(decisions), environ.get("labkit.tls"),
                              invoked_by=environ.get(INVOKED_BY_ENVIRON))
        code = event.record.get("errorCode")
        if code and all(d.allowed for _, d in decisions):
            # The policies allowed it, the service refused it after (Block Public Access,
            # a malformed policy, a missing key): that refusal is the reason.
            allowed = f" (the policies allowed it: {event.reason})" if event.reason else ""
            event.reason = f"{code}: {event.record.get('errorMessage', '')}{allowed}"
        STORE.add(event)
    except Exception:  # a record that cannot be built must not break the request
        log.warning("CloudTrail: could not record %s %s%s", req.method, req.host, req.path,
                    exc_info=True)


def reason_of(decisions) -> str:
    """labkit's deciding statements: the first denial's, else every allow's."""
    for _check, decision in decisions:
        if not decision.allowed:
            if decision.reasons:
                return "; ".join(str(r) for r in decision.reasons)
            return str(decision)
    seen: List[str] = []
    for _check, decision in decisions:
        for reason in decision.reasons:
            text = str(reason)
            if text not in seen:
                seen.append(text)
    return "; ".join(seen)
