"""Is a process still there? (Used to tell live lab folders and sandboxes from stale ones.)"""
from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """True if process ``pid`` exists (even if owned by someone else)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
