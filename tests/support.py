"""Helpers shared by the topic tests."""
from __future__ import annotations

from labkit import checks


def failed(lab, check_id: str) -> str:
    """Run a check that must FAIL (not break) on the current state; return its message."""
    result = checks.run(lab, check_id)
    assert not result.passed, f"{check_id} should fail: {result.message}"
    assert not result.error, result.error
    return result.message
