"""The lab's own certificate authority, so AWS clients can talk TLS to the emulator.

Clients keep AWS's real host names (that is what makes access point ARNs and
s3control's account-prefixed hosts work, for boto3 and the `aws` CLI alike), so
the emulator must present a certificate for, say, ``s3.us-east-1.amazonaws.com``.
It does so with a CA made for this lab only: clients trust it through
``AWS_CA_BUNDLE``, which labkit sets in the lab's environment and nowhere else.
The CA key never leaves LABKIT_HOME and is useless outside the emulator.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import ipaddress
import ssl
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from labkit.files import write_private

_CA_NAME = "labkit emulator local CA (not trusted outside the lab)"


class CertificateAuthority:
    """A CA kept in ``folder`` (created once, shared by every kernel of this LABKIT_HOME)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.cert_path = self.folder / "ca.pem"
        self._key_path = self.folder / "ca-key.pem"
        self._ca_cert, self._ca_key = self._load_or_create()
        # One leaf key for every host: generating keys is the slow part of TLS set-up.
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def _load_or_create(self):
        from labkit.files import private_folder

        private_folder(self.folder)  # the CA's private key never leaves a 0700 folder
        # A lock file so that two kernels starting at once agree on one CA.
        with open(self.folder / ".ca.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (self.cert_path.exists() and self._key_path.exists()):
                self._create()
            cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
            key = serialization.load_pem_private_key(self._key_path.read_bytes(), None)
        return cert, key

    def _create(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _CA_NAME)])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_private(self._key_path, key_pem)
        write_private(self.cert_path, cert.public_bytes(serialization.Encoding.PEM))

    def server_context(self, host: str) -> ssl.SSLContext:
        """A TLS server context presenting a certificate for ``host`` (cached)."""
        with self._lock:
            ctx = self._contexts.get(host)
            if ctx is None:
                ctx = self._contexts[host] = self._make_context(host)
            return ctx

    def _make_context(self, host: str) -> ssl.SSLContext:
        cert = self._leaf_certificate(host)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # ssl can only load a chain from files; they live a moment in a private temp dir.
        with tempfile.TemporaryDirectory() as tmp:
            cert_file, key_file = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
            cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            key_file.write_bytes(
                self._leaf_key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            ctx.load_cert_chain(cert_file, key_file)
        return ctx

    def _leaf_certificate(self, host: str) -> x509.Certificate:
        now = dt.datetime.now(dt.timezone.utc)
        try:
            san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            san = x509.DNSName(host)
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64])]))
            .issuer_name(self._ca_cert.subject)
            .public_key(self._leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName([san]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self._ca_key, hashes.SHA256())
        )


