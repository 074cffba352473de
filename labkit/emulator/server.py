"""The embedded emulator: moto plus labkit's fidelity layer, served on loopback.

One emulator runs per process: a learner's shared lab (the background process of
labkit.emulator.shared_lab, which every kernel and terminal of that learner attaches
to), a private one in a kernel or test (LABKIT_SHARED_LAB=0), or a grader's. Clients reach it as an HTTPS
proxy: see labkit.emulator.proxy for why.
"""
from __future__ import annotations

import os
import secrets
import string
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from labkit import config

# moto reads these when its IAM backend is first built: load AWS managed policies
# (AmazonSageMakerFullAccess, ReadOnlyAccess, ...) so lessons can attach them.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

_LOCK = threading.Lock()
_RUNNING: "Emulator | None" = None


@dataclass(frozen=True)
class RootCredentials:
    """The lab's bootstrap identity: it plays the account root until users exist."""

    access_key_id: str
    secret_access_key: str


def _new_root_credentials() -> RootCredentials:
    alphabet = string.ascii_uppercase + string.digits
    # "LK" marks labkit-made root keys so nobody mistakes them for real ones.
    key_id = "AKIALK" + "".join(secrets.choice(alphabet) for _ in range(14))
    secret = secrets.token_urlsafe(30)[:40]
    return RootCredentials(key_id, secret)


class Emulator:
    """moto behind labkit's authorization, reachable as a loopback HTTPS proxy."""

    in_process = True  # its moto state is this process's: control calls need no HTTP

    def __init__(self, home: Path | None = None, *, port: int = 0, enforce: bool = True,
                 verbose: bool = False, aws_like: bool | None = None):
        self.home = Path(home or config.labkit_home())
        #: Behave like a real account (labkit.emulator.aws_like); None: LABKIT_AWS_LIKE decides.
        self.aws_like = aws_like
        self.account_id = config.EMULATOR_ACCOUNT_ID
        self.enforce = enforce
        self.root = _new_root_credentials()
        #: What every request to this lab must carry (labkit.emulator.proxy): its learner's only.
        self.token = secrets.token_urlsafe(24)
        self._port, self._verbose = port, verbose
        self._server = None
        #: time.monotonic() of the last request served: a shared lab stops when idle.
        self.last_request = time.monotonic()

    # --- life cycle --------------------------------------------------------
    def start(self) -> "Emulator":
        from labkit.emulator import services
        from labkit.emulator.app import make_app
        from labkit.emulator.proxy import ProxyServer
        from labkit.emulator.tls import CertificateAuthority

        services.install_all()
        self._install_aws_like()
        app = make_app(root_access_key_id=self.root.access_key_id,
                       root_secret_access_key=self.root.secret_access_key, enforce=self.enforce)
        ca = CertificateAuthority(self.home / "tls")
        self._server = ProxyServer(self._noting_activity(app), ca, port=self._port,
                                   verbose=self._verbose, token=self.token).start()
        return self

    def _noting_activity(self, app):
        def noted(environ, start_response):
            self.last_request = time.monotonic()
            return app(environ, start_response)

        return noted

    def _install_aws_like(self) -> None:
        from labkit.emulator import aws_like

        if self.aws_like is not None:
            aws_like.enable(self.aws_like)
        if aws_like.enabled():
            aws_like.delay()  # a bad LABKIT_AWS_LIKE_DELAY fails here, not in a request
            aws_like.install()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def proxy_url(self) -> str:
        """The URL clients use as their HTTPS proxy: it carries the lab's token."""
        from labkit.emulator.proxy import proxy_url

        return proxy_url(self.url, self.token)

    @property
    def ca_bundle(self) -> Path:
        return self.home / "tls" / "ca.pem"

    def reset(self) -> None:
        """Forget every resource (all accounts, all services)."""
        from moto.moto_api import _internal

        from labkit.emulator import aws_like

        _internal.moto_api_backend.reset()
        aws_like.reset()  # pending state changes refer to resources that are gone

    def describe(self) -> dict:
        """What another process needs to attach (holds the lab root's secret: keep private)."""
        from labkit.emulator import aws_like

        return {"url": self.url, "token": self.token, "ca_bundle": str(self.ca_bundle),
                "account_id": self.account_id, "aws_like": aws_like.enabled(),
                "root_access_key_id": self.root.access_key_id,
                "root_secret_access_key": self.root.secret_access_key}

    # --- what clients need -------------------------------------------------
    def client(self, service: str, access_key_id: str | None = None,
               secret_access_key: str | None = None, region: str | None = None):
        """A boto3 client routed here, whatever the process environment says.

        Without keys it acts as the lab's root identity.
        """
        import boto3
        from botocore.config import Config

        if access_key_id is None:
            access_key_id, secret_access_key = self.root.access_key_id, self.root.secret_access_key
        session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region or config.region(),
        )
        proxies = {"https": self.proxy_url, "http": self.proxy_url}
        return session.client(service, config=Config(proxies=proxies), verify=str(self.ca_bundle))

    def client_environ(self) -> dict[str, str]:
        """Environment variables that route AWS clients (boto3, the CLI) here."""
        loopback = "127.0.0.1,localhost,::1"
        return {
            "HTTPS_PROXY": self.proxy_url,
            "https_proxy": self.proxy_url,
            "HTTP_PROXY": self.proxy_url,
            "http_proxy": self.proxy_url,
            "NO_PROXY": loopback,
            "no_proxy": loopback,
            "AWS_CA_BUNDLE": str(self.ca_bundle),
            # Never ask the EC2 metadata service (a non-loopback address) for credentials.
            "AWS_EC2_METADATA_DISABLED": "true",
        }


class AttachedEmulator:
    """An emulator running in another process (a grader, the shared lab of kernels and terminals).

    Built from the dict ``Emulator.describe()`` returns; offers what a lab needs
    (URL, CA bundle, root credentials, client environment, clients) but cannot
    be stopped or reset from here.
    """

    running = True
    in_process = False  # its moto state lives in another process: reach it over HTTP

    def __init__(self, description: dict):
        self.url = description["url"]
        self.port = int(self.url.rsplit(":", 1)[1])
        #: None for a listener only this client can reach (a grader's kernel gate).
        self.token = description.get("token")
        self.ca_bundle = Path(description["ca_bundle"])
        self.account_id = description["account_id"]
        self.root = RootCredentials(description["root_access_key_id"],
                                    description["root_secret_access_key"])
        #: Whether that emulator behaves like a real account (labkit.emulator.aws_like).
        self.aws_like = bool(description.get("aws_like"))

    client_environ = Emulator.client_environ
    client = Emulator.client
    proxy_url = Emulator.proxy_url


#: When set, labkit.start() attaches to the emulator described in this JSON file
#: instead of starting one in the kernel.
ATTACH_VARIABLE = "LABKIT_EMULATOR_ATTACH"


def write_attach_file(emulator: Emulator, path: Path) -> Path:
    """Write ``emulator.describe()`` to ``path`` (mode 0600, atomically)."""
    import json

    from labkit.files import write_private

    write_private(Path(path), json.dumps(emulator.describe()).encode())
    return Path(path)


def attached_from_environment() -> AttachedEmulator | None:
    """The emulator named by LABKIT_EMULATOR_ATTACH, if set."""
    import json

    path = os.environ.get(ATTACH_VARIABLE)
    if not path:
        return None
    try:
        return AttachedEmulator(json.loads(Path(path).read_text()))
    except (OSError, ValueError, KeyError) as exc:
        raise RuntimeError(f"{ATTACH_VARIABLE}={path} does not describe a running emulator "
                           f"({exc}); unset it to start one in this kernel.") from None


def get_running() -> Emulator | None:
    """The emulator of this process, if one was started."""
    return _RUNNING


def ensure_running(home: Path | None = None, **kwargs) -> Emulator:
    """Start this process's emulator once; later calls return the same one."""
    global _RUNNING
    with _LOCK:
        if _RUNNING is None or not _RUNNING.running:
            _RUNNING = Emulator(home, **kwargs).start()
        return _RUNNING
