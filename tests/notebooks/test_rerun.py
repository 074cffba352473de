"""Each lesson runs twice in a row in one kernel (Run All, then Run All again), and what a
learner sees after each run is clean (tests/notebooks/clean.py: no warning box, no
unexpected stderr, no failed or unsubstituted shell cell, no raw response, sizes bounded).
This is the one execution of every lesson in CI that these checks need."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from tests.notebooks import clean
from tests.support import notebook_kernel

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lesson_runs_twice_in_the_same_kernel(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, "LABKIT_NO_NETWORK": "1", "LABKIT_HOME": str(tmp_path)}
    with notebook_kernel(nb, path.parent, env) as client:
        for run in ("first", "second"):
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)  # raises CellExecutionError on failure
            problems = clean.problems(nb, f"{path.name} ({run} run)")
            assert not problems, "\n".join(problems)
