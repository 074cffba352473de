"""Helpers for the aws-like tests: poll (bounded) instead of sleeping a fixed time."""
from __future__ import annotations

import time

from labkit.emulator import aws_like


def until(get, wanted, timeout: float = 20.0):
    """Poll GET() until it returns WANTED; returns (seconds waited, values seen in order)."""
    started, seen = time.monotonic(), []
    while True:
        value = get()
        if not seen or seen[-1] != value:
            seen.append(value)
        if value == wanted:
            return time.monotonic() - started, seen
        assert time.monotonic() - started < timeout, f"still {value!r} after {timeout} s: {seen}"
        time.sleep(0.1)


def delay() -> float:
    return aws_like.delay()
