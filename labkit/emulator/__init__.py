"""The embedded AWS emulator: moto with labkit's fidelity layer and authorization.

- server.py: the Emulator (one per process) and its client environment
- proxy.py, tls.py: how clients reach it, with AWS's real host names
- app.py: the WSGI chain (control endpoint, authorization, then moto)
- control.py: the loopback control endpoint; evaluate_alarms() from any process
- authz/: who may do what, decided by labkit.policy
- fidelity/: one module per AWS service where moto needs correcting
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
from labkit.emulator.control import evaluate_alarms

__all__ = ["ATTACH_VARIABLE", "AttachedEmulator", "Emulator", "attached_from_environment",
           "ensure_running", "evaluate_alarms", "get_running", "write_attach_file"]
