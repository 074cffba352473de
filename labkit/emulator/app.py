"""The emulator's WSGI app: moto, with labkit's authorization in front.

moto's own IAM enforcement stays off: it ignores conditions, resource policies
and boundaries. Instead labkit.emulator.authz decides every request with
labkit.policy.
"""
from __future__ import annotations


def make_app(*, root_access_key_id: str | None = None, root_secret_access_key: str | None = None,
             enforce: bool = True):
    """Build the WSGI app the proxy serves.

    ``root_access_key_id`` and its secret are the lab's bootstrap identity,
    which plays the account root; ``enforce=False`` leaves out the authorization
    pipeline (benchmarks measure its cost; behaviours already installed in the process stay).
    """
    from moto.server import DomainDispatcherApplication, create_backend_app

    from labkit.emulator.control import ControlEndpoint

    from labkit.emulator.aws_like import AwsLikeApp

    # aws-like mode (a no-op while off) sits just in front of moto, behind authorization.
    moto_app = AwsLikeApp(DomainDispatcherApplication(create_backend_app))
    if not enforce:
        return ControlEndpoint(moto_app)
    from labkit.emulator import services
    from labkit.emulator.authz import AuthorizationMiddleware

    services.install_all()  # each service's behaviour over moto (idempotent)
    # The control endpoint (simulated time for attached processes) is no AWS API:
    # it is answered before authorization, for direct loopback requests only.
    return ControlEndpoint(AuthorizationMiddleware(
        moto_app, root_access_key_id=root_access_key_id,
        root_secret_access_key=root_secret_access_key))
