"""What a clean executed lesson looks like to a learner, as a list of problems (empty: clean).

Run over the cells of every executed lesson (tests/notebooks/test_rerun.py): no warning
box, no stderr the lesson does not expect (a cell tagged ``expect-stderr`` may write to
stderr, never a warning), no shell (``!``) cell whose output is an error or still holds
``{name}`` placeholders IPython did not substitute, no raw boto3 response or printed list of dicts (a table instead), no output
over the size bounds, and the cost estimate once per lesson.
"""
from __future__ import annotations

import json
import re

#: Bounds on one output, in characters of its JSON: text a learner reads, and an image.
TEXT_BOUND = 12_000
IMAGE_BOUND = 250_000
EXPECT_STDERR = "expect-stderr"

_WARNING = re.compile(r"\b\w*Warning\b|^WARNING|^warnings?\.warn", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][\w.\[\]'\"]*\}")
_SHELL_ERROR = re.compile(r"An error occurred \(|could not be found|^usage: |aws: error|"
                          r"command not found|No such file|Traceback \(most recent", re.MULTILINE)
_RAW_RESPONSE = ("ResponseMetadata", "HTTPHeaders", "RetryAttempts")
_RAW_RECORDS = re.compile(r"\[\{'|\[\(\{'")
_COST = re.compile(r"(free here \(emulator\)\. On AWS this would cost|COST on REAL AWS)")


def _text(output) -> str:
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join(output.traceback)
    return output.get("data", {}).get("text/plain", "")


def _is_shell(cell) -> bool:
    return any(line.lstrip().startswith("!") for line in cell.source.splitlines())


def cell_problems(cell, where: str) -> list[str]:
    """What is wrong with one executed code cell's outputs."""
    problems = []
    tags = set(cell.metadata.get("tags", []))
    for output in cell.outputs:
        text = _text(output)
        if output.output_type == "stream" and output.name == "stderr":
            if _WARNING.search(text):
                problems.append(f"{where}: a warning box: {text.strip()[:200]}")
            elif EXPECT_STDERR not in tags:
                problems.append(f"{where}: unexpected stderr (tag the cell {EXPECT_STDERR!r} if "
                                f"the lesson means it): {text.strip()[:200]}")
        if any(marker in text for marker in _RAW_RESPONSE):
            problems.append(f"{where}: a raw boto3 response (ResponseMetadata): show the fields "
                            "that matter, or a table")
        if output.output_type == "stream" and _RAW_RECORDS.search(text):
            problems.append(f"{where}: a raw list of dicts printed: show it as a table "
                            "(pandas.DataFrame)")
        size = len(json.dumps(output))
        image = any(k.startswith("image/") for k in output.get("data", {}))
        if size > (IMAGE_BOUND if image else TEXT_BOUND):
            problems.append(f"{where}: an output of {size} characters (bound "
                            f"{IMAGE_BOUND if image else TEXT_BOUND})")
        if _is_shell(cell):
            if _SHELL_ERROR.search(text):
                problems.append(f"{where}: the shell command failed: {text.strip()[:200]}")
            if _PLACEHOLDER.search(text):
                problems.append(f"{where}: the shell output still holds a placeholder "
                                f"{_PLACEHOLDER.search(text).group(0)} (IPython did not "
                                "substitute the line: braces of its own in it?)")
    return problems


def problems(nb, name: str) -> list[str]:
    """Every problem of an executed notebook, cell by cell, and the lesson-wide ones."""
    found, costs = [], 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        found += cell_problems(cell, f"{name} cell {index} ({cell.source.splitlines()[:1]})")
        costs += sum(len(_COST.findall(_text(o))) for o in cell.outputs)
    if costs > 1:
        found.append(f"{name}: the cost estimate is shown {costs} times (once per lesson)")
    return found
