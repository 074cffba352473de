"""The emulator's WSGI app: moto, with labkit's fidelity and authorization in front.

This first version passes every request straight to moto; the authorization
layer (labkit.emulator.authz) wraps it.
"""
from __future__ import annotations


def make_app(*, root_access_key_id: str | None = None, enforce: bool = True):
    """Build the WSGI app the proxy serves.

    ``root_access_key_id`` is the lab's bootstrap identity, which plays the
    account root; ``enforce=False`` gives bare moto (for benchmarks).
    """
    from moto.server import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)
