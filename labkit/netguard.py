"""Refuse every network connection that leaves the machine.

Used two ways: as a pytest plugin (``-p labkit.netguard`` in pyproject.toml),
so no test can reach a real endpoint by accident; and inside notebook kernels
when LABKIT_NO_NETWORK=1 (``make test``/``make run`` set it), so executed
lessons are held to the same rule.
"""
from __future__ import annotations

import ipaddress
import os
import socket

_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex


class NetworkBlocked(ConnectionRefusedError):
    """A connection to a non-loopback address was attempted."""


def _is_loopback(address) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name: it would need DNS, which is the network too


def _check(sock: socket.socket, address) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise NetworkBlocked(
            f"labkit.netguard: blocked a connection to {address!r}. Tests and lessons run "
            "offline against the embedded emulator (loopback only). If this is an AWS "
            "client, it was created before labkit.start() set up the emulator's environment."
        )


def _guarded_connect(self, address):
    _check(self, address)
    return _original_connect(self, address)


def _guarded_connect_ex(self, address):
    _check(self, address)
    return _original_connect_ex(self, address)


def install() -> None:
    """Block non-loopback connections in this process (idempotent)."""
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex


def uninstall() -> None:
    socket.socket.connect = _original_connect
    socket.socket.connect_ex = _original_connect_ex


def install_if_requested() -> None:
    if os.environ.get("LABKIT_NO_NETWORK") == "1":
        install()


# pytest plugin hook: loaded by `-p labkit.netguard`.
def pytest_configure(config) -> None:  # pragma: no cover - exercised by every test run
    install()
