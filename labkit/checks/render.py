"""How a check's result looks in a notebook: one ✔ or ✘ line, the message, the hint.

A failed check is an exception (so Run All stops at it), but a learner should read a
result, not a traceback through labkit: IPython calls ``_render_traceback_`` on the
exception and shows the lines returned here instead of its traceback.
"""
from __future__ import annotations

#: The hint levels, in the order a learner asks for them.
HINT_LEVELS = ("what to look at", "where in the AWS documentation", "the reference")

_RED, _DIM, _RESET = "\x1b[31m", "\x1b[2m", "\x1b[0m"


def failure_lines(result) -> list[str]:
    """The ✘ line, its hint (level 1) and how to ask for the next level."""
    lines = [f"{_RED}✘ {result.id}{_RESET}: {result.message}"]
    if result.hint:
        lines.append(f"  Hint: {result.hint}")
    lines.append(f"{_DIM}  More help: lab.hint({result.id!r}, 2) for where to read in the AWS "
                 f"documentation, lab.hint({result.id!r}, 3) for the reference.{_RESET}")
    return lines


def hint_text(check_id: str, level: int, text: str) -> str:
    more = f" (next: lab.hint({check_id!r}, {level + 1}))" if level < len(HINT_LEVELS) else ""
    return f"Hint {level}/{len(HINT_LEVELS)} for {check_id}, {HINT_LEVELS[level - 1]}: {text}{more}"


def unfinished_lines(exercise: str | None, has_hints: bool = False) -> list[str]:
    """What an exercise cell still holding its stub says instead of NotImplementedError."""
    which = f"exercise {exercise}" if exercise else "the exercise in this cell"
    lines = [f"{_RED}✘ Not done yet: {which}{_RESET}: this cell still raises "
             f"NotImplementedError where your code goes.",
             "  Write your code in place of `# YOUR CODE HERE` and `raise NotImplementedError()`, "
             "run the cell again, then the check below it."]
    if has_hints:
        lines.append(f"{_DIM}  Stuck? lab.hint({exercise!r}) (levels 1 to 3).{_RESET}")
    return lines
