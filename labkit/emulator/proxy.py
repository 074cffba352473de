"""A loopback HTTPS proxy that hands AWS requests to a WSGI app (the emulator).

Why a proxy and not an endpoint URL: with ``endpoint_url`` botocore prefixes
s3control hosts with the account id and builds access point hosts from the
ARN (``demo-access-123456789012.127.0.0.1``), which no resolver knows. As a
proxy, the emulator sees the real AWS host names, so every client (labkit, the
learner's boto3 clients, the `aws` CLI) works unchanged, as in CloudShell.

Only AWS host names are served. Any other destination is refused, so a lab in
emulator mode cannot reach the internet through us, and nothing ever leaves
the machine: we never open an outbound connection.

A lab answers its learner only. Loopback is shared by every user of the machine
(a JupyterHub host) and reachable from any web page the learner opens, so each
request must carry the lab's token, which only its learner can read (a 0600 file):
proxied requests as ``Proxy-Authorization: Basic`` (the proxy URL
``http://lab:TOKEN@127.0.0.1:PORT`` that labkit sets makes botocore, the aws CLI and
every client built on them send it), direct ones (the control paths) as
``X-Labkit-Token``. A browser's cross-site request (an ``Origin`` header) is refused
whatever it carries.
"""
from __future__ import annotations

import base64
import hmac
import io
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import unquote, urlsplit

from labkit.emulator.tls import CertificateAuthority

#: Host name suffixes the emulator answers for.
AWS_HOST_SUFFIXES = (".amazonaws.com", ".api.aws", ".sagemaker.aws", ".amazonaws.com.cn")
MAX_BODY = 5 * 1024**3  # S3's single PUT limit
#: The user name in the proxy URL; the password is the lab's token.
PROXY_USER = "lab"
#: The header a direct (non-proxied) request to the lab carries the token in.
TOKEN_HEADER = "X-Labkit-Token"


def is_aws_host(host: str) -> bool:
    return host.lower().rstrip(".").endswith(AWS_HOST_SUFFIXES)


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "ProxyServer"

    def setup(self) -> None:
        super().setup()
        # Small request/response pairs on one connection: without this, Nagle's
        # algorithm and delayed ACKs add ~40 ms to every call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # --- tunnel set-up -------------------------------------------------
    def do_CONNECT(self) -> None:
        host, _, _port = self.path.rpartition(":")
        if not self._admitted(proxied=True):
            return
        if not is_aws_host(host):
            self._refuse(host)
            return
        self.send_response(200, "Connection Established")
        self.end_headers()
        self.wfile.flush()
        try:
            tls = self.server.ca.server_context(host).wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True  # the client gave up on the handshake
            return
        self.connection = tls
        self.rfile = tls.makefile("rb", -1)
        self.wfile = tls.makefile("wb", 0)
        self._tunnel_host = host
        self.close_connection = False

    def _refuse(self, host: str) -> None:
        self._close_with(403, "Forbidden",
                         f"labkit emulator: refused a connection to {host!r}. The lab runs "
                         "offline and only answers AWS endpoints; nothing is sent to the internet.")

    def _admitted(self, proxied: bool) -> bool:
        """Whether this request may use the lab; if not, answer why and close."""
        token = getattr(self.server, "token", None)
        if token is None:
            return True  # a listener only one client can reach (a grader's kernel gate)
        if self.headers.get("Origin") is not None:
            self._close_with(403, "Forbidden",
                             "labkit emulator: refused a request from a web page (it has an "
                             "Origin header). A lab answers its learner's own clients only.")
            return False
        if proxied:
            given = _basic_password(self.headers.get("Proxy-Authorization", ""))
        else:
            given = self.headers.get(TOKEN_HEADER, "")
        if given and hmac.compare_digest(given.encode(), token.encode()):
            return True
        where = ("Proxy-Authorization (the HTTPS_PROXY URL labkit sets holds it)" if proxied
                 else f"the {TOKEN_HEADER} header")
        self._close_with(407 if proxied else 401,
                         "Proxy Authentication Required" if proxied else "Unauthorized",
                         f"labkit emulator: this lab answers only requests carrying its token in "
                         f"{where}; it is in the lab's files, readable by its learner only. "
                         "Use the environment `labkit emulator env` prints, or labkit.start().",
                         [("Proxy-Authenticate", 'Basic realm="labkit lab"')] if proxied else [])
        return False

    def _close_with(self, code: int, reason: str, text: str, headers=()) -> None:
        body = (text + "\n").encode()
        self.send_response(code, reason)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    # --- requests --------------------------------------------------------
    def _serve(self) -> None:
        url = urlsplit(self.path)
        tunnel_host = getattr(self, "_tunnel_host", None)
        host = self.headers.get("Host") or url.netloc or tunnel_host or ""
        hostname = host.split(":")[0]
        # Inside a tunnel the CONNECT was admitted; otherwise each request shows the token.
        if tunnel_host is None and not self._admitted(proxied=bool(url.scheme)):
            return
        if tunnel_host is None and url.scheme and not is_aws_host(hostname):
            self._refuse(hostname)  # plain-HTTP proxying to a non-AWS host
            return
        body = self._read_body()
        environ = self._environ(url, host, body, https=tunnel_host is not None)
        status, headers, payload = _call_app(self.server.app, environ)
        self._respond(status, headers, payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return _read_chunked(self.rfile)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length else b""

    def _environ(self, url, host: str, body: bytes, https: bool) -> dict:
        # Mirrors werkzeug's make_environ, which moto's handlers are written against.
        raw_path = url.path or "/"
        raw_uri = raw_path + (f"?{url.query}" if url.query else "")
        environ = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if https else "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(raw_path).encode("utf-8").decode("latin-1"),
            "QUERY_STRING": url.query,
            "REQUEST_URI": raw_uri,
            "RAW_URI": raw_uri,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": self.client_address[1],
            "SERVER_NAME": host.split(":")[0],
            "SERVER_PORT": host.split(":")[1] if ":" in host else ("443" if https else "80"),
            "SERVER_PROTOCOL": self.request_version,
            "CONTENT_LENGTH": str(len(body)),
        }
        for key, value in self.headers.items():
            if key.lower() in ("transfer-encoding", "proxy-connection", "content-length"):
                continue
            name = key.upper().replace("-", "_")
            if name != "CONTENT_TYPE":
                name = "HTTP_" + name
            environ[name] = f"{environ[name]},{value}" if name in environ else value
        environ["HTTP_HOST"] = host
        if https and hasattr(self.connection, "version"):  # CloudTrail's tlsDetails
            cipher = self.connection.cipher()
            environ["labkit.tls"] = (self.connection.version(), cipher[0] if cipher else "")
        return environ

    def _respond(self, status: str, headers: list, payload: bytes) -> None:
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason or None)
        has_length = False
        for key, value in headers:
            if key.lower() in ("connection", "transfer-encoding", "server", "date"):
                continue
            has_length |= key.lower() == "content-length"
            self.send_header(key, value)
        if not has_length:
            self.send_header("Content-Length", str(len(payload)))
        # One write for head and body, again to keep the round trip to one packet.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD" and payload:
            self._headers_buffer.append(payload)
        self.wfile.write(b"".join(self._headers_buffer))
        self._headers_buffer = []
        self.wfile.flush()

    def send_response(self, code, message=None):  # no Server/Date noise beyond AWS's own
        self.log_request(code)
        self.send_response_only(code, message)

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        if self.server.verbose:
            sys.stderr.write("labkit emulator: " + format % args + "\n")


def _basic_password(header: str) -> str:
    """The password of a ``Basic`` credentials header, or "" when there is none."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[2]


def _read_chunked(rfile) -> bytes:
    chunks = []
    while True:
        size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline().strip():  # trailers
                pass
            return b"".join(chunks)
        chunks.append(rfile.read(size))
        rfile.readline()


def _call_app(app: Callable, environ: dict) -> tuple[str, list, bytes]:
    captured: dict = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, headers
        return lambda data: captured.setdefault("written", []).append(data)

    try:
        result = app(environ, start_response)
        try:
            payload = b"".join(captured.get("written", [])) + b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
    except Exception as exc:  # an emulator bug must answer like a 500, not hang the client
        message = f"labkit emulator internal error: {type(exc).__name__}: {exc}"
        sys.stderr.write(message + "\n")
        body = (
            "<?xml version='1.0' encoding='UTF-8'?><Error><Code>InternalError</Code>"
            f"<Message>{_xml_escape(message)}</Message></Error>"
        ).encode()
        return "500 Internal Server Error", [("Content-Type", "application/xml")], body
    return captured["status"], captured["headers"], payload


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ProxyServer(ThreadingHTTPServer):
    """Serve ``app`` on 127.0.0.1:``port`` (0 picks a free port) in a daemon thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app: Callable, ca: CertificateAuthority, port: int = 0, verbose=False,
                 token: str | None = None):
        super().__init__(("127.0.0.1", port), ProxyHandler)
        self.app, self.ca, self.verbose, self.token = app, ca, verbose, token
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ProxyServer":
        self._thread = threading.Thread(
            target=self.serve_forever, name="labkit-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def handle_error(self, request, client_address):
        # A client hanging up mid-request is routine (timeouts, Ctrl-C), not news.
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, socket.timeout, ssl.SSLError)):
            super().handle_error(request, client_address)


def proxy_url(url: str, token: str | None) -> str:
    """URL as a proxy URL that carries TOKEN (clients send it as Proxy-Authorization)."""
    if not token:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{PROXY_USER}:{token}@{rest}"
