"""The embedded AWS emulator: moto with labkit's fidelity layer and authorization.

- server.py: the Emulator (one per process) and its client environment
- proxy.py, tls.py: how clients reach it, with AWS's real host names
- app.py: the WSGI chain (control endpoint, authorization, then moto)
- control.py: the loopback control endpoint (each service's control.py answers its paths)
- request.py: an HTTP request as AWS sees it (service, operation, region, key)
- authz/: the shared authorization layer: caller identity, signatures, the decision, denials
- services/: one folder per AWS service (actions.py, behaviour.py, errors.py, ...)
- sandbox.py: the background emulator of ``labkit emulator start``
"""
from labkit.emulator.server import (
    ATTACH_VARIABLE,
    AttachedEmulator,
    Emulator,
    attached_from_environment,
    ensure_running,
    get_running,
    write_attach_file,
)
from labkit.emulator.services.cloudwatch.control import evaluate_alarms

__all__ = ["ATTACH_VARIABLE", "AttachedEmulator", "Emulator", "attached_from_environment",
           "ensure_running", "evaluate_alarms", "get_running", "write_attach_file"]
