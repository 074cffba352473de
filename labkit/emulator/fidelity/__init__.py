"""Patches that make moto answer like AWS where the course depends on it.

One module per AWS service, each with an idempotent ``install()``.
"""
from __future__ import annotations

import importlib

#: Fidelity modules, installed in this order. Each must expose install().
MODULES: tuple[str, ...] = ("iam", "s3", "autoscaling", "sagemaker")

_installed = False


def install_all() -> None:
    """Apply every fidelity patch once per process."""
    global _installed
    if _installed:
        return
    for name in MODULES:
        importlib.import_module(f"labkit.emulator.fidelity.{name}").install()
    _installed = True
