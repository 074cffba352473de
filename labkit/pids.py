"""Is a process still there, and what does it run? (Tells live labs from stale ones.)

psutil answers on every platform labkit runs on; a zombie (ended, not yet reaped by
its parent) counts as ended, and a process of another user as alive.
"""
from __future__ import annotations

from typing import List, Optional

import psutil


def alive(pid: int) -> bool:
    """True if process ``pid`` exists and has not ended (even if owned by someone else)."""
    if pid <= 0:
        return False
    try:
        return psutil.Process(pid).status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def command_line(pid: int) -> Optional[List[str]]:
    """The argv of process PID, or None when it has ended or may not be read."""
    try:
        return psutil.Process(pid).cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
