"""labkit: the support package for the data-lake security course.

`labkit.start(NAME, lesson="01")` is the first code cell of every lesson; the
rest of the package holds the code lessons reuse, one module per concern.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["start", "__version__"]


def start(name: str = "demo", lesson: str = "00", **kwargs):
    """Start (or reconnect to) the lab for NAME and rebuild what earlier lessons left.

    See :func:`labkit.lab.start` for the arguments.
    """
    from labkit.lab import start as _start

    return _start(name, lesson=lesson, **kwargs)
