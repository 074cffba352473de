"""One folder per AWS service: what labkit adds over moto for it, in the same shape in each.

Every service folder may hold:

- ``actions.py``: how its requests map to IAM actions, resources and context
  (what the authorization layer, ``labkit.emulator.authz``, decides on);
- ``behaviour.py``: the behaviour added over moto, with an idempotent ``install()``;
- ``errors.py``: the service's own error responses;
- further modules for one concern of that service (``s3/acl.py``, ``iam/simulate.py``).

A new service slots in as one more folder; if it patches moto, add its name to
:data:`MODULES`.
"""
from __future__ import annotations

import importlib

#: Services whose ``behaviour.install()`` runs, in this order.
MODULES: tuple[str, ...] = ("iam", "s3", "sts", "autoscaling", "sagemaker", "kms", "cloudtrail")

_installed = False


def install_all() -> None:
    """Apply every service's behaviour patches once per process."""
    global _installed
    if _installed:
        return
    for name in MODULES:
        importlib.import_module(f"labkit.emulator.services.{name}.behaviour").install()
    _installed = True
