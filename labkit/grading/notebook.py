"""Notebooks as instructors handle them: read submissions, make student versions.

Source notebooks follow nbgrader's conventions, so a course that uses nbgrader
can take them as they are:

- exercise cells carry ``metadata.nbgrader.solution = true`` (and the tag
  ``solution``); the reference answer sits between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``;
- check cells carry ``metadata.nbgrader.grade = true``, ``locked = true`` and
  ``grade_id`` = the check id (tag ``check``);
- anything between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` is
  removed from the student version.
"""
from __future__ import annotations

import ast
import copy
import json
import re
from pathlib import Path

import nbformat

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
#: nbgrader's stubs, so learners of an nbgrader course see what they are used to.
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = ("YOUR ANSWER HERE",)
_LESSON_IN_FILENAME = re.compile(r"^(\d{2})(?:[_\-. ]|$)")


class SubmissionError(ValueError):
    """A submission that cannot be executed at all (not a notebook, unreadable)."""


# --- reading -----------------------------------------------------------------------
def read_submission(path: Path | bytes, notes: list[str] | None = None) -> nbformat.NotebookNode:
    """Read a learner's notebook (a path, or the bytes already read from one); raise
    SubmissionError saying what is wrong with it.

    nbformat 3 (and older) notebooks are converted; oddities that can be repaired
    (a cell without metadata or outputs, a source given as a list) are, and each
    repair is appended to ``notes``; what cannot be (a source that is a number) is
    a SubmissionError naming the cell.
    """
    notes = notes if notes is not None else []
    try:
        text = (path.decode("utf-8") if isinstance(path, bytes)
                else Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmissionError(f"cannot read the file: {exc}") from None
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SubmissionError(f"not a notebook: the file is not JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise SubmissionError("not a notebook: the JSON is not an object with cells")
    version = raw.get("nbformat")
    if isinstance(version, int) and version < 4 and "worksheets" in raw:
        try:
            raw = json.loads(nbformat.writes(nbformat.reads(text, as_version=4)))
        except Exception as exc:  # nbformat raises several types for malformed notebooks
            raise SubmissionError(f"an nbformat {version} notebook that cannot be converted "
                                  f"to version 4: {type(exc).__name__}: {exc}") from None
        notes.append(f"converted from nbformat {version} to 4")
    if not isinstance(raw.get("cells"), list):
        raise SubmissionError("not a notebook: the JSON has no list of cells")
    _repair(raw, notes)
    try:
        notebook = nbformat.from_dict(raw)
    except Exception as exc:
        raise SubmissionError(f"not a valid notebook: {type(exc).__name__}: {exc}") from None
    if "kernelspec" not in notebook.metadata:
        # Papermill needs a kernel name; our lessons are all Python.
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                           "language": "python"}
    return notebook


_CELL_TYPES = ("code", "markdown", "raw")


def _repair(raw: dict, notes: list[str]) -> None:
    """Make ``raw`` a well-formed v4 notebook in place, or raise SubmissionError."""
    if not isinstance(raw.get("metadata"), dict):
        raw["metadata"] = {}
        notes.append("the notebook had no metadata (added)")
    if not isinstance(raw.get("nbformat_minor"), int):
        raw["nbformat_minor"] = 4
    raw["nbformat"] = 4
    repaired = []
    for number, cell in enumerate(raw["cells"], 1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in _CELL_TYPES:
            raise SubmissionError(f"cell {number} is not a code, markdown or raw cell")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise SubmissionError(f"cell {number}: its source is {type(source).__name__}, "
                                  "not text (the notebook file was edited by hand?)")
        cell["source"] = source
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
            repaired.append(number)
        if cell["cell_type"] == "code":
            if not isinstance(cell.get("outputs"), list):
                cell["outputs"] = []
            cell["outputs"] = [o for o in cell["outputs"] if isinstance(o, dict)
                               and isinstance(o.get("output_type"), str)]
            if not isinstance(cell.get("execution_count"), (int, type(None))):
                cell["execution_count"] = None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    if repaired:
        notes.append(f"cell(s) {', '.join(map(str, repaired[:10]))} had no metadata (added)")


def lesson_of(notebook: nbformat.NotebookNode | None, path: Path) -> str | None:
    """The lesson a notebook belongs to: the ``lesson=`` of its first real
    ``labkit.start(...)`` call (read from the code, so a comment or a string that mentions
    another lesson is not it), else its file name."""
    for cell in (notebook.cells if notebook is not None else []):
        if cell.get("cell_type") == "code" and isinstance(cell.get("source"), str):
            found = _lesson_in_code(cell.source)
            if found:
                return found
    found = _LESSON_IN_FILENAME.match(Path(path).name)
    return found.group(1) if found else None


def _lesson_in_code(source: str) -> str | None:
    if "lesson" not in source:
        return None
    tree = _parse_cell(source)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)] if tree else []
    for call in sorted(calls, key=lambda c: (c.lineno, c.col_offset)):
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(
            call.func, "id", "")
        if name != "start":
            continue
        for keyword in call.keywords:
            value = getattr(keyword.value, "value", None)
            if keyword.arg == "lesson" and isinstance(value, (str, int)):
                digits = re.fullmatch(r"\s*0*(\d{1,2})\s*", str(value))
                if digits:
                    return digits.group(1).zfill(2)
    return None


def _parse_cell(source: str):
    """A cell's syntax tree, IPython magics (``!aws``, ``%time``) made Python first."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # IPython missing or a transform it cannot do: try the text as it is
        pass
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def grade_ids(notebook: nbformat.NotebookNode, kind: str = "grade") -> list[str]:
    """The nbgrader ``grade_id`` of every cell flagged ``kind`` ("grade" or "solution"), in order."""
    ids = []
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get(kind) and meta.get("grade_id"):
            ids.append(meta["grade_id"])
    return ids


def structure_notes(submission: nbformat.NotebookNode, source: nbformat.NotebookNode) -> list[str]:
    """What the learner changed in the notebook's structure (deleted or reordered graded cells)."""
    notes = []
    for kind, label in (("solution", "exercise"), ("grade", "check")):
        expected, found = grade_ids(source, kind), grade_ids(submission, kind)
        missing = [i for i in expected if i not in found]
        if missing:
            notes.append(f"{label} cell(s) deleted: {', '.join(missing)}")
        kept = [i for i in found if i in expected]
        if kept != [i for i in expected if i in kept]:
            notes.append(f"{label} cells reordered")
    return notes


# --- student versions --------------------------------------------------------------
def stub_solution(source: str, markdown: bool = False) -> str:
    """Replace each BEGIN/END SOLUTION region by nbgrader's stub, kept at the region's indent.

    A solution cell without markers is replaced whole, as nbgrader does.
    """
    stub = MARKDOWN_STUB if markdown else CODE_STUB
    if BEGIN_SOLUTION not in source:
        return "\n".join(stub)
    out, inside = [], False
    for number, line in enumerate(source.splitlines(), 1):
        if line.strip() == BEGIN_SOLUTION:
            if inside:
                raise ValueError(f"line {number}: {BEGIN_SOLUTION} inside another solution region")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in stub)
        elif line.strip() == END_SOLUTION:
            if not inside:
                raise ValueError(f"line {number}: {END_SOLUTION} without {BEGIN_SOLUTION}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN_SOLUTION} is never closed by {END_SOLUTION}")
    return "\n".join(out)


def remove_hidden_tests(source: str) -> str:
    """Drop every BEGIN/END HIDDEN TESTS region, markers included."""
    out, inside = [], False
    for line in source.splitlines():
        if line.strip() == BEGIN_HIDDEN:
            inside = True
        elif line.strip() == END_HIDDEN:
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN_HIDDEN} is never closed by {END_HIDDEN}")
    return "\n".join(out)


def _is_solution(cell) -> bool:
    meta = cell.get("metadata", {})
    return bool(meta.get("nbgrader", {}).get("solution")) or "solution" in meta.get("tags", [])


def student_version(notebook: nbformat.NotebookNode,
                    hidden_check_ids: frozenset[str] | set[str] = frozenset()):
    """The learner's copy: solutions stubbed, hidden checks and outputs removed.

    ``hidden_check_ids``: check cells whose nbgrader grade_id names a hidden check
    are dropped, so the student version does not even name them.
    """
    student = copy.deepcopy(notebook)
    cells = []
    for index, cell in enumerate(student.cells):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and grade_id in hidden_check_ids:
            continue
        try:
            if _is_solution(cell):
                cell.source = stub_solution(cell.source, markdown=cell.cell_type == "markdown")
            cell.source = remove_hidden_tests(cell.source)
        except ValueError as exc:
            raise ValueError(f"cell {index} ({grade_id or cell.cell_type}): {exc}") from None
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
        cells.append(cell)
    student.cells = cells
    student.metadata.pop("papermill", None)
    return student


def dumps(notebook: nbformat.NotebookNode) -> str:
    """Deterministic text of a notebook (same input, same bytes), ending in a newline."""
    return nbformat.writes(notebook) + "\n"
