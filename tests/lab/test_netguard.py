import socket

import pytest

from labkit.netguard import NetworkBlocked


def test_non_loopback_connections_are_blocked():
    # TEST-NET-1 address: never routable; the guard must refuse before any packet.
    with socket.socket() as sock, pytest.raises(NetworkBlocked, match="offline"):
        sock.connect(("192.0.2.1", 443))


def test_public_ipv6_is_blocked():
    with socket.socket(socket.AF_INET6) as sock, pytest.raises(NetworkBlocked):
        sock.connect(("2001:db8::1", 443, 0, 0))


def test_loopback_is_allowed():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
