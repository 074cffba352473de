"""The emulator's control endpoint: labkit's loopback paths, answered before authorization.

Some things a process attached to the emulator needs must run in the process
that holds moto's state: alarms evaluated in simulated time, CloudTrail's
deliveries and event records. Each service that has such paths answers them in
its folder's ``control.py`` (``handle(environ, start_response)``) under
``/labkit-api/<folder>/``, found through the service registry. The endpoint is no
AWS API: it answers only requests made directly to the emulator's own loopback
URL (http://127.0.0.1:PORT) with the lab's token (the proxy checks it, see
labkit.emulator.proxy), never through an AWS host name or a TLS tunnel; moto's
``/moto-api/`` likewise. An untrusted listener's clients (a graded
kernel) get none of it, nor moto's /moto-api/.

Client side: :func:`call_control` (an Emulator, an AttachedEmulator or a URL).
"""
from __future__ import annotations

import json
from typing import Callable, Optional, Union

_LOOPBACK_ADDRESSES = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
#: Set in the WSGI environ by a listener whose clients are untrusted (a grader's sandboxed
#: kernels, labkit.grading.sandbox.KernelGate): they get AWS APIs only, never moto's
#: /moto-api/ (reset, data.json dump) nor labkit's control paths.
UNTRUSTED_ENVIRON = "labkit.untrusted_client"
OPERATOR_PREFIXES = ("/moto-api", "/labkit-api")
CONTROL_PREFIX = "/labkit-api/"
_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed"}


class ControlEndpoint:
    """WSGI middleware: serve labkit's control paths, pass everything else to APP."""

    def __init__(self, app: Callable):
        self.app = app

    def __call__(self, environ: dict, start_response: Callable):
        path = environ.get("PATH_INFO", "")
        if environ.get(UNTRUSTED_ENVIRON) and path.startswith(OPERATOR_PREFIXES):
            return json_response(start_response, 403, {
                "error": f"{path!r} is the emulator operator's, not open to "
                         "a graded notebook's kernel"})
        if path.startswith(OPERATOR_PREFIXES) and not _direct(environ):
            return json_response(start_response, 403, {
                "error": f"{path!r} answers only on the lab's own loopback URL "
                         "(http://127.0.0.1:PORT, with the lab's token), not through an AWS "
                         "host name"})
        if not path.startswith(CONTROL_PREFIX):
            return self.app(environ, start_response)
        from labkit.emulator import services

        folder = path[len(CONTROL_PREFIX):].split("/", 1)[0]
        owners = {service.folder: module for service, module in services.with_module("control")}
        if folder not in owners:
            paths = ", ".join(f"{CONTROL_PREFIX}{name}/..." for name in sorted(owners))
            return json_response(start_response, 404, {
                "error": f"no such control path {path!r}; the services with control paths "
                         f"are {paths}"})
        return owners[folder].handle(environ, start_response)


def _direct(environ: dict) -> bool:
    """True for a plain-HTTP request from loopback to the emulator's own address."""
    host = environ.get("HTTP_HOST", "")
    host = host.split("]")[0] + "]" if host.startswith("[") else host.rsplit(":", 1)[0]
    return (environ.get("wsgi.url_scheme") == "http"
            and environ.get("REMOTE_ADDR") in _LOOPBACK_ADDRESSES
            and host in _LOOPBACK_HOSTS)


def json_response(start_response, status: int, payload) -> list:
    """A control path's JSON answer."""
    body = json.dumps(payload).encode()
    start_response(f"{status} {_REASONS[status]}", [("Content-Type", "application/json"),
                                                    ("Content-Length", str(len(body)))])
    return [body]


# ----------------------------------------------------------------------------- client

def call_control(emulator: Union[object, str], method: str, path: str,
                 body: Optional[dict] = None, timeout: float = 60.0):
    """The JSON answer of EMULATOR's control PATH (an Emulator, an AttachedEmulator or its
    URL); RuntimeError with the emulator's words when it refuses."""
    import urllib.error
    import urllib.request

    from labkit.emulator.proxy import TOKEN_HEADER

    url, token = _url_and_token(emulator)
    data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
    headers = {"Content-Type": "application/json", **({TOKEN_HEADER: token} if token else {})}
    request = urllib.request.Request(url.rstrip("/") + path, method=method, data=data,
                                     headers=headers)
    # Straight to loopback: the lab's HTTP(S)_PROXY variables point at the emulator itself.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        raise RuntimeError(f"the emulator at {url} refused {method} {path} ({exc.code}): "
                           f"{detail}") from None


def _url_and_token(emulator) -> tuple:
    """(plain URL, token) of an Emulator, an AttachedEmulator or a proxy URL with the token."""
    from urllib.parse import urlsplit

    if not isinstance(emulator, str):
        url = getattr(emulator, "url", None)
        if not url:
            raise TypeError(f"needs an Emulator, an AttachedEmulator or the emulator's URL, "
                            f"not {emulator!r}")
        return url, getattr(emulator, "token", None)
    parts = urlsplit(emulator)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}", parts.password
