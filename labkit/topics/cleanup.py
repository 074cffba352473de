"""Teardown steps that report instead of raising: what could not be removed, and why.

Each topic module's ``teardown(lab)`` runs its deletions children first; one stuck
resource must not hide the others, and nothing may be swallowed silently, so
AWS's refusals come back as lines for lesson 99's report.
"""
from __future__ import annotations

from typing import Callable, Iterable

from botocore.exceptions import ClientError, WaiterError

#: Failures a teardown reports rather than raises (AWS refusals, waits that ran out).
REPORTED: tuple[type[BaseException], ...] = (WaiterError, TimeoutError)


def step_name(step: Callable) -> str:
    """"_delete_load_balancer" -> "delete load balancer" (also through functools.partial)."""
    return getattr(step, "func", step).__name__.lstrip("_").replace("_", " ")


def run_steps(lab, steps: Iterable[Callable], reported: tuple = REPORTED) -> list[str]:
    """Run each ``step(lab)`` in order; return "step: why" for every one that failed."""
    problems: list[str] = []
    for step in steps:
        try:
            step(lab)
        except ClientError as exc:
            error = exc.response["Error"]
            problems.append(f"{step_name(step)}: {error['Code']}: {error['Message']}")
        except reported as exc:
            problems.append(f"{step_name(step)}: {exc}")
    return problems
