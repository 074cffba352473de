"""One authenticated request on its way through the pipeline, and what may be done with it.

A service's ``gateway.handle(call)`` (see labkit.emulator.services) gets a
:class:`Call`: the parsed request, the caller, the global condition keys, and the
ways to answer: decide a permission, refuse with the service's AccessDenied,
answer outright, pass the request on to moto, or pass it on saying that the
emulator could not decide it. :meth:`Call.serve_generic` is the path every
request takes whose service has no gateway, or whose gateway declines it.
"""
from __future__ import annotations

from typing import Callable, Iterable, List, Optional, Tuple

from labkit.emulator import services
from labkit.emulator.authz import coverage, errors, generic
from labkit.emulator.authz.decide import Permission, decide, denial_message
from labkit.emulator.authz.identity import Caller
from labkit.emulator.request import AwsRequest
from labkit.policy import Decision

#: Response header naming what the emulator could not decide (see authz.coverage).
NOTE_HEADER = "x-labkit-authorization"


class Call:
    """The request, its caller and its global context, with the WSGI plumbing to answer."""

    def __init__(self, app: Callable, req: AwsRequest, caller: Caller, base: dict,
                 environ: dict, start_response: Callable):
        self.app, self.req, self.caller, self.base = app, req, caller, base
        self.environ, self.start_response = environ, start_response

    # --- deciding ----------------------------------------------------------------
    def decide(self, permission: Permission) -> Decision:
        return decide(self.caller, permission, self.base)

    def first_refusal(self, permissions: Iterable[Permission]) -> Optional[Iterable[bytes]]:
        """Decide each permission in turn; the AccessDenied answer for the first denied."""
        for permission in permissions:
            decision = self.decide(permission)
            if not decision.allowed:
                return self.deny(decision)
        return None

    # --- answering ---------------------------------------------------------------
    def send(self, response: errors.Response) -> List[bytes]:
        status, headers, body = response
        self.start_response(errors.status_line(status),
                            headers + [("Content-Length", str(len(body)))])
        return [body]

    def deny(self, decision: Optional[Decision]) -> List[bytes]:
        """The service's AccessDenied, worded as AWS words it for this caller."""
        return self.send(errors.access_denied(self.req, denial_message(self.caller, decision)))

    def forward(self, then: Optional[Callable[[], None]] = None) -> Iterable[bytes]:
        """Let moto answer; THEN runs once it has (forget cached policies after IAM changed)."""
        if then is None:
            return self.app(self.environ, self.start_response)
        try:
            return list(self.app(self.environ, self.start_response))
        finally:
            then()

    def forward_and_read(self) -> Tuple[str, list, bytes]:
        """Moto's answer as (status line, headers, body), for a gateway to amend it."""
        box: dict = {}

        def start_response(status, headers, exc_info=None):
            box["status"], box["headers"] = status, headers
            return lambda data: box.setdefault("written", []).append(data)

        result = self.app(self.environ, start_response)
        try:
            body = b"".join(box.get("written", [])) + b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        return box["status"], list(box["headers"]), body

    def undecided(self, why: str) -> Iterable[bytes]:
        """Pass a request the emulator cannot decide to moto, saying so in the log and in an
        x-labkit-authorization response header (never a silent allow)."""
        req = self.req
        note = coverage.unmapped(req.service, req.method, req.path, req.operation,
                                 self.caller.arn, why)

        def noted(status, headers, exc_info=None):
            safe = note.encode("latin-1", "replace").decode("latin-1")
            return self.start_response(status, list(headers) + [(NOTE_HEADER, safe)], exc_info)

        return self.app(self.environ, noted)

    # --- the path of services without a gateway ----------------------------------------
    def generic_permissions(self) -> List[Permission]:
        account = self.caller.account_id
        return [Permission(action, resource, ctx, None, account)
                for action, resource, ctx in generic.checks(self.req, account, self.caller.arn)]

    def serve(self) -> Iterable[bytes]:
        """Hand the call to its service's gateway; the generic path when it has none or
        the gateway leaves the request to it."""
        service = services.for_signing_name(self.req.service)
        gateway = service.module("gateway") if service is not None else None
        answer = gateway.handle(self) if gateway is not None else None
        return answer if answer is not None else self.serve_generic()

    def serve_generic(self, then: Optional[Callable[[], None]] = None,
                      validate: Optional[Callable[[], Optional[errors.Response]]] = None
                      ) -> Iterable[bytes]:
        """Decide the action and resources generic.checks finds, then forward to moto.
        VALIDATE, once the caller is allowed (AWS authorizes before it validates), may
        answer with the service's error for a request AWS would refuse and moto accepts."""
        refusal = self.first_refusal(self.generic_permissions())
        if refusal is not None:
            return refusal
        problem = validate() if validate is not None else None
        if problem is not None:
            return self.send(problem)
        why = None if self.caller.is_root else generic.unmapped_reason(self.req)
        if why is not None:
            return self.undecided(why)
        return self.forward(then)


# --- what every way into the pipeline shares (the middleware, calls made for a caller) ---
#: The WSGI environ key (an HTTP header to moto's handlers) carrying the caller's ARN.
CALLER_ARN_ENVIRON = "HTTP_X_LABKIT_CALLER_ARN"


def recorded(serve: Callable) -> Callable:
    """SERVE wrapped by every service's recorder (CloudTrail sees every outcome)."""
    for _service, recorder in services.with_module("recorder"):
        serve = _around(recorder, serve)
    return serve


def _around(recorder, serve: Callable) -> Callable:
    def wrapped(environ: dict, start_response: Callable):
        return recorder.recorded(serve, environ, start_response)

    return wrapped


def note_caller(environ: dict, req: AwsRequest, caller: Caller) -> None:
    """Tell every recorder who made REQ (it is authenticated: it will be recorded)."""
    for _service, recorder in services.with_module("recorder"):
        recorder.note(environ, req, caller)

