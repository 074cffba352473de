"""The request pipeline: the WSGI layer in front of moto.

Per request, once each:

1. parse it (labkit.emulator.request; the parsed request travels in the environ);
2. identify the caller (unknown key -> InvalidAccessKeyId / InvalidClientTokenId,
   a wrong signature -> SignatureDoesNotMatch);
3. hand it, as a :class:`~labkit.emulator.authz.call.Call`, to its service's
   ``gateway.handle`` when the service has one (found in the service registry,
   labkit.emulator.services), else to the generic path: decide every permission
   it needs with labkit.policy (authz.decide, which records each decision made);
4. moto answers what was allowed.

Services that record requests (CloudTrail's ``recorder.py``) wrap all of it; no
step imports a service's module.
"""
from __future__ import annotations

import time
from typing import Callable, Optional

from labkit import config
from labkit.emulator.authz import errors, identity, signature
from labkit.emulator.authz.call import CALLER_ARN_ENVIRON, NOTE_HEADER, Call, note_caller, recorded
from labkit.emulator.authz.decide import global_context
from labkit.emulator.authz.identity import UnknownAccessKey
from labkit.emulator.request import AwsRequest, request_of

#: Services that take unsigned requests (their resource policies decide): S3 only.
ANONYMOUS_SERVICES = ("s3",)

__all__ = ["AuthorizationMiddleware", "CALLER_ARN_ENVIRON", "NOTE_HEADER"]


class AuthorizationMiddleware:
    """WSGI middleware: authorize every AWS request before moto sees it."""

    def __init__(self, app: Callable, root_access_key_id: Optional[str] = None,
                 account_id: Optional[str] = None, root_secret_access_key: Optional[str] = None):
        self.app = app
        self.root_access_key_id = root_access_key_id
        self.root_secret_access_key = root_secret_access_key
        self.account_id = account_id or config.EMULATOR_ACCOUNT_ID
        self._serve = recorded(self._authorize)

    def __call__(self, environ: dict, start_response: Callable):
        return self._serve(environ, start_response)

    def _authorize(self, environ: dict, start_response: Callable):
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            return self.app(environ, start_response)
        req = request_of(environ)
        try:
            caller = identity.resolve(req.access_key_id, req.session_token,
                                      self.root_access_key_id)
        except UnknownAccessKey as exc:
            return _send(start_response, errors.invalid_key(req, exc.access_key_id, exc.reason))
        if not caller.is_anonymous:
            # Handlers behind us (the fidelity layer's messages) need the caller's ARN,
            # which moto cannot work out for the lab root; pass it along.
            environ[CALLER_ARN_ENVIRON] = caller.arn
        if not caller.is_anonymous and signature.enabled():
            secret = signature.secret_for(req.access_key_id, self.root_access_key_id,
                                          self.root_secret_access_key)
            if secret is not None and not signature.matches(req, environ, secret):
                return _send(start_response, errors.bad_signature(req, req.access_key_id))
            late = signature.timing_problem(req, time.time())
            if late is not None:
                return _send(start_response, errors.error(req, *late))
        note_caller(environ, req, caller)
        if caller.is_anonymous and req.service not in ANONYMOUS_SERVICES:
            return _send(start_response, _missing_token(req))
        return Call(self.app, req, caller, global_context(req, caller), environ,
                    start_response).serve()


def _send(start_response, response: errors.Response):
    status, headers, body = response
    start_response(errors.status_line(status), headers + [("Content-Length", str(len(body)))])
    return [body]


def _missing_token(req: AwsRequest) -> errors.Response:
    proto = errors.protocol(req)
    if proto in ("json", "cbor"):
        return errors.error(req, 400, "MissingAuthenticationTokenException",
                            "Missing Authentication Token")
    return errors.error(req, 403, "MissingAuthenticationToken",
                        "Request is missing Authentication Token")
