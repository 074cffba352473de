"""Checks that tell a learner what is right or wrong, and give instructors points.

A check reads the lab's real state (the emulator or the account), never the
learner's variables. Each lesson's checks live in ``labkit/checks/lessonNN.py``:

    @check("01.users", points=2, hint="Create them with iam.create_user(UserName=...)")
    def users(lab):
        missing = [...]
        if missing:
            raise Fail(f"missing users: {missing}")
        return "all three users exist"

In a notebook, ``lab.check("01.users")`` prints a tick or raises CheckFailed
(an AssertionError), so a failing check fails its cell (Run All stops there, CI goes
red); IPython shows it as a ✘ line with the message and hint, not as a traceback
(``CheckFailed._render_traceback_``, see labkit.checks.render).

Hints come in three levels, asked for with ``lab.hint("02.buckets", level)``: 1 what to
look at (``hint=``, shown with a failure), 2 where in the AWS documentation (``docs=``),
3 the reference (``reference=``: the labkit helper or call that solves it), only when asked.
Hidden checks (``hidden=True``) are for grading and are not shown to learners.
"""
from __future__ import annotations

import importlib
import traceback
from dataclasses import dataclass, field
from typing import Callable

from labkit.checks import render
from labkit.checks.render import HINT_LEVELS


class Fail(Exception):
    """Raised inside a check: ``message`` says what is wrong, ``hint`` how to fix it."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.hint = message, hint


class CheckFailed(AssertionError):
    """A check failed in a notebook cell; IPython renders it as its ✘ lines, no traceback."""

    def __init__(self, result: "CheckResult"):
        super().__init__(str(result))
        self.result = result

    def _render_traceback_(self) -> list[str]:
        return render.failure_lines(self.result)


@dataclass(frozen=True)
class Check:
    id: str
    function: Callable
    points: float = 1
    hint: str = ""
    hidden: bool = False
    description: str = ""
    docs: str = ""
    reference: str = ""

    @property
    def lesson(self) -> str:
        return self.id.split(".", 1)[0]


@dataclass
class CheckResult:
    id: str
    passed: bool
    message: str
    hint: str = ""
    points: float = 0
    max_points: float = 1
    hidden: bool = False
    error: str = field(default="", repr=False)  # a traceback when the check itself broke

    def __str__(self) -> str:
        mark = "✔" if self.passed else "✘"
        text = f"{mark} {self.id}: {self.message}"
        if not self.passed and self.hint:
            text += f"\n  Hint: {self.hint}"
        return text


REGISTRY: dict[str, Check] = {}


def check(check_id: str, *, points: float = 1, hint: str = "", hidden: bool = False,
          docs: str = "", reference: str = ""):
    """Register a check function under ``check_id`` ("LESSON.name"); ``hint``, ``docs`` and
    ``reference`` are its three hint levels."""
    if "." not in check_id:
        raise ValueError(f"check id {check_id!r} must look like 'LESSON.name', e.g. '01.users'")

    def register(function: Callable) -> Callable:
        REGISTRY[check_id] = Check(check_id, function, points, hint, hidden,
                                   (function.__doc__ or "").strip(), docs, reference)
        return function

    return register


def load(lesson: str) -> list[Check]:
    """Import the lesson's check module and return its checks in definition order."""
    try:
        importlib.import_module(f"labkit.checks.lesson{lesson}")
    except ModuleNotFoundError as exc:
        if exc.name != f"labkit.checks.lesson{lesson}":
            raise
    return [c for c in REGISTRY.values() if c.lesson == lesson]


def get(check_id: str) -> Check:
    load(check_id.split(".", 1)[0])
    try:
        return REGISTRY[check_id]
    except KeyError:
        known = ", ".join(sorted(REGISTRY)) or "none"
        raise KeyError(f"no check named {check_id!r}; known checks: {known}") from None


def run(lab, check_id: str) -> CheckResult:
    """Run one check and report; never raises for a failing or broken check."""
    spec = get(check_id)
    result = CheckResult(spec.id, False, "", spec.hint, 0, spec.points, spec.hidden)
    try:
        result.message = spec.function(lab) or "ok"
        result.passed, result.points = True, spec.points
    except Fail as failure:
        result.message = failure.message
        result.hint = failure.hint or spec.hint
    except Exception as exc:  # the check could not even look: say so, with the cause
        result.message = f"the check could not run: {type(exc).__name__}: {exc}"
        result.error = traceback.format_exc()
    return result


def require(lab, check_id: str) -> CheckResult:
    """Run a check in a notebook: print a tick, or fail the cell with message and hint."""
    result = run(lab, check_id)
    if not result.passed:
        raise CheckFailed(result)
    print(result)
    return result


def hint(check_id: str, level: int = 1) -> str:
    """Hint ``level`` (1-3) of a check; the reference (3) only when asked for."""
    spec = get(check_id)
    if not isinstance(level, int) or not 1 <= level <= len(HINT_LEVELS):
        raise ValueError(f"hint level must be 1, 2 or 3 (1: {HINT_LEVELS[0]}, "
                         f"2: {HINT_LEVELS[1]}, 3: {HINT_LEVELS[2]}), not {level!r}")
    texts = (spec.hint or "read the check's message: it names what is missing",
             spec.docs or "the AWS documentation pages named in the lesson's text above",
             spec.reference or "")
    text = texts[level - 1]
    if level == 3:
        where = f"`labkit solution {spec.lesson}` opens the lesson's reference version"
        text = f"{text} ({where})" if text else where
    return text


def run_lesson(lab, lesson: str, include_hidden: bool = True) -> list[CheckResult]:
    return [run(lab, c.id) for c in load(lesson) if include_hidden or not c.hidden]
