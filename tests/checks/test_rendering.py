"""Checks render as results in a notebook: ✔/✘ lines, no traceback; an unfilled exercise
names itself; hints come in levels, the reference only at the last one."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from labkit import checks
from tests.support import notebook_kernel

START = 'import labkit\nlab = labkit.start("demo", lesson="00")'
STUB = ("# Exercise 02.block-public-access: turn all four on\n"
        "# YOUR CODE HERE\nraise NotImplementedError()")


def _error(cell) -> dict:
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert len(errors) == 1, cell.outputs
    return errors[0]


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """A small notebook run cell by cell in a real kernel; errors kept where expected."""
    folder = tmp_path_factory.mktemp("nb")
    sources = [START, 'lab.check("01.users")', STUB,
               'lab.hint("02.block-public-access")', 'lab.hint("02.block-public-access", 3)',
               "def later():\n    raise NotImplementedError('not an exercise')\nlater()",
               'lab.check("00.lab-files")']
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    for index in (1, 2, 5):
        nb.cells[index].metadata["tags"] = ["raises-exception"]
    env = {**os.environ, "LABKIT_NO_NETWORK": "1", "LABKIT_HOME": str(folder / "home")}
    with notebook_kernel(nb, folder, env) as client:
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        stop = nbformat.v4.new_code_cell('lab.check("01.users")')
        with pytest.raises(CellExecutionError) as stopped:
            client.execute_cell(stop, len(nb.cells))
    return nb, stopped.value


@pytest.mark.slow
def test_a_failed_check_is_a_cross_with_message_and_hint_and_no_traceback(executed):
    nb, _ = executed
    error = _error(nb.cells[1])
    shown = "\n".join(error.traceback)
    assert error.ename == "CheckFailed"
    assert "✘ 01.users" in shown and "missing IAM user" in shown and "Hint:" in shown
    assert 'lab.hint(\'01.users\', 2)' in shown
    for leak in ("Traceback", "labkit/lab.py", "checks/__init__.py", "File "):
        assert leak not in shown, shown


@pytest.mark.slow
def test_a_failed_check_still_stops_run_all(executed):
    _, stopped = executed
    assert stopped.ename == "CheckFailed"


@pytest.mark.slow
def test_an_unfilled_exercise_says_which_one(executed):
    nb, _ = executed
    error = _error(nb.cells[2])
    shown = "\n".join(error.traceback)
    assert error.ename == "NotImplementedError", "graders recognise the stub by its name"
    assert "Not done yet: exercise 02.block-public-access" in shown
    assert "lab.hint('02.block-public-access')" in shown
    assert "Traceback" not in shown and "File " not in shown


@pytest.mark.slow
def test_other_not_implemented_errors_keep_their_traceback(executed):
    nb, _ = executed
    shown = "\n".join(_error(nb.cells[5]).traceback)
    assert "not an exercise" in shown and "later()" in shown and "Not done yet" not in shown


@pytest.mark.slow
def test_hint_levels_keep_the_reference_for_the_last(executed):
    nb, _ = executed
    first, last = _text(nb.cells[3]), _text(nb.cells[4])
    assert first.startswith("Hint 1/3 for 02.block-public-access") and "labkit.topics" not in first
    assert "lab.hint('02.block-public-access', 2)" in first
    assert "Hint 3/3" in last and "labkit.topics.buckets" in last and "labkit solution 02" in last
    assert "✔ 00.lab-files" in _text(nb.cells[6])


def test_no_level_one_hint_names_a_reference_helper():
    """Level 1 says what to look at; a labkit helper that does the work is level 3."""
    for lesson in ("00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "99"):
        for spec in checks.load(lesson):
            if spec.hidden:  # graders' checks (instructor/), never shown to a learner
                continue
            assert "labkit.topics" not in spec.hint, spec.id
            assert spec.docs, f"{spec.id} has no level-2 hint (docs=)"


@pytest.mark.parametrize("level", [0, 4, "2"])
def test_a_wrong_hint_level_is_a_clear_error(level):
    with pytest.raises(ValueError, match="hint level must be 1, 2 or 3"):
        checks.hint("02.buckets", level)


def test_an_unknown_check_names_the_known_ones():
    with pytest.raises(KeyError, match="known checks"):
        checks.hint("02.nope")
