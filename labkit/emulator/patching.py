"""The one way labkit changes moto's classes: :func:`replace`, checked and listed.

Each service's ``behaviour.py`` (and aws-like mode's ``lifecycle.py``) puts labkit's
fidelity in place of moto's code by naming a moto class attribute. When a new moto
renames or drops that attribute, an assignment would silently add a dead one and
the fidelity would be gone; :func:`replace` fails at install instead, naming the
attribute, the module that patches it and the moto version, and :data:`PATCHES`
lists every change so a test can show each one is in force.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, List


class MotoChanged(RuntimeError):
    """moto no longer has an attribute labkit replaces: the pinned moto was not installed."""


@dataclass(frozen=True)
class Patch:
    owner: Any       # a moto class or module
    name: str
    module: str      # the labkit module that made the change
    added: bool      # a labkit addition (no moto attribute of that name was expected)


#: Every change made, in order (a name replaced twice appears twice: installs are idempotent).
PATCHES: List[Patch] = []


def replace(owner: Any, name: str, new: Any, *, adds: bool = False) -> None:
    """Set OWNER.NAME to NEW; unless ADDS, OWNER must already have NAME (moto's own)."""
    module = inspect.getmodule(inspect.stack()[1].frame)
    where = module.__name__ if module is not None else "labkit"
    if not adds and not hasattr(owner, name):
        from moto import __version__

        raise MotoChanged(
            f"moto {__version__} has no {_dotted(owner)}.{name}, which "
            f"{where} replaces. Install the moto that requirements.lock pins "
            f"(pip install -r requirements.lock), or update {where} to the new moto.")
    setattr(owner, name, new)
    PATCHES.append(Patch(owner, name, where, adds))


def _dotted(owner: Any) -> str:
    """moto.s3.models.FakeBucket for a class, moto.s3.responses for a module."""
    qualname = getattr(owner, "__qualname__", None)
    return f"{owner.__module__}.{qualname}" if qualname else owner.__name__
