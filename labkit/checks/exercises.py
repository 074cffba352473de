"""An exercise not done yet says so, by name, instead of a bare NotImplementedError.

A student version's exercise cell holds ``# YOUR CODE HERE`` / ``raise
NotImplementedError()`` where the answer goes, under a first line ``# Exercise
02.block-public-access: ...`` that names it. ``install()`` (called by labkit.start)
gives IPython a handler for NotImplementedError raised by such a stub: the cell still
fails (Run All stops there, a grader still sees NotImplementedError), but the learner
reads which exercise is left, not a traceback. Any other NotImplementedError keeps
IPython's own traceback.
"""
from __future__ import annotations

import linecache
import re

from labkit.checks import render

_EXERCISE = re.compile(r"^\s*#\s*Exercise\s+(\d\d\.[\w-]+)", re.MULTILINE)
_STUB = "raise NotImplementedError()"


def install() -> bool:
    """Register the handler in the running IPython shell; False outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    if NotImplementedError not in tuple(shell.custom_exceptions):
        shell.set_custom_exc((NotImplementedError,), _handler)
    return True


def exercise_of(tb) -> tuple[bool, str | None]:
    """(raised by an exercise stub?, the exercise's name when the cell gives one)."""
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = tb.tb_frame.f_code.co_filename
    line = linecache.getline(filename, tb.tb_lineno).strip()
    if line != _STUB:
        return False, None
    source = "".join(linecache.getlines(filename))
    found = _EXERCISE.search(source)
    return True, found.group(1) if found else None


def _handler(shell, etype, value, tb, tb_offset=None):
    # IPython's run_code shows nothing for a custom exception: the handler does.
    stub, exercise = exercise_of(tb)
    if not stub:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    lines = render.unfinished_lines(exercise, _known_check(exercise))
    shell._showtraceback(etype, value, lines)  # ipykernel: the error message, ename kept
    return lines


def _known_check(exercise: str | None) -> bool:
    from labkit import checks

    if not exercise:
        return False
    try:
        checks.get(exercise)
    except KeyError:
        return False
    return True
