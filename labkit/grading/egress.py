"""The grader worker's emulator makes no outbound connection at all (issue 21).

Why: the emulator runs in the grader worker, outside the sandbox. moto delivers some
messages itself over HTTP (SNS HTTP/HTTPS subscriptions, EventBridge API destinations,
Firehose HTTP endpoints, Lambda's runtime API), so a kernel that subscribes a URL and
publishes could make the worker connect to any loopback service of the grading machine,
the emulators of other workers included, and even to its own emulator's front door
(``/moto-api/reset``) unflagged. Rather than hoping moto never calls out, this process
refuses, in three layers:

- ``requests`` (how moto calls out) refuses every request in this process: nothing else
  in a grader worker uses it (botocore has its own urllib3 pool);
- a socket opened from a thread serving a sandboxed kernel (KernelGate marks them)
  cannot connect to any TCP address, loopback included;
- any other thread may connect over TCP to this worker's own emulator port only (the
  checks' boto3 clients), never anywhere else.
"""
from __future__ import annotations

import ipaddress
import socket
import threading

REFUSED = ("labkit grader: the emulator makes no outbound connection while grading "
           "(SNS/SQS/Lambda/EventBridge/Firehose deliveries to a URL are refused); "
           "blocked a connection to {target}")

_local = threading.local()
_allowed_ports: set[int] = set()
_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
_installed = False


class OutboundRefused(ConnectionRefusedError):
    """A connection the grader worker's emulator must not make."""


def serving_kernel() -> None:
    """Mark this thread as serving a sandboxed kernel's requests (no TCP connect at all)."""
    _local.kernel = True


def _loopback(host) -> bool:
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"


def _check(sock: socket.socket, address) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # unix sockets: the kernels' ZMQ channels and gates
    allowed = (not getattr(_local, "kernel", False) and isinstance(address, tuple)
               and _loopback(address[0]) and address[1] in _allowed_ports)
    if not allowed:
        raise OutboundRefused(REFUSED.format(target=repr(address)))


def _connect(self, address):
    _check(self, address)
    return _original_connect(self, address)


def _connect_ex(self, address):
    _check(self, address)
    return _original_connect_ex(self, address)


def _refuse_requests(self, request, *args, **kwargs):
    """moto's outbound HTTP: refused with an AWS-shaped error the kernel's call receives
    (InternalError, as SNS answers a Publish it cannot complete), saying why."""
    from moto.core.exceptions import ServiceException

    class DeliveryRefused(ServiceException):
        code = "InternalError"

    raise DeliveryRefused(REFUSED.format(target=repr(request.url)))


def install(emulator_port: int) -> None:
    """Guard this process: TCP only to ``emulator_port`` on loopback, no ``requests``."""
    global _installed
    import requests.adapters

    _allowed_ports.add(int(emulator_port))
    if _installed:
        return
    socket.socket.connect = _connect
    socket.socket.connect_ex = _connect_ex
    requests.adapters.HTTPAdapter.send = _refuse_requests
    _installed = True
