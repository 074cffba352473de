"""A folder of correct, broken and hostile submissions, built from the real lesson 01.

Used by tests/grading/test_regrade.py and benchmarks/bench_regrade.py. Each
learner's expected total is stated next to the notebook that earns it.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from labkit import config
from labkit.grading import notebook as nbtools

LESSON = "01"
SOURCE = config.repo_root() / "notebooks" / "01_iam_users_and_groups.ipynb"
FULL = 9  # 01.users 2 + 01.groups 2 + 01.admin-policy 1 + 01.access-keys 3 + 01.key-hygiene 1 (hidden)
USERS_ONLY = 2 + 1  # users exist; no keys, so key hygiene holds too

MONKEYPATCH = '''
import labkit.checks as _checks
from labkit.checks import CheckResult
_checks.run = lambda lab, check_id: CheckResult(check_id, True, "ok", points=99, max_points=1)
_checks.require = lambda lab, check_id: print("✔", check_id)
_checks.REGISTRY.clear()
lab.check = lambda check_id: print("✔", check_id)
'''


def source() -> nbformat.NotebookNode:
    return nbtools.read_submission(SOURCE)


def _index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells)
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def _insert_after(nb, grade_id: str, code: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells.insert(_index(nb, grade_id) + 1, nbformat.v4.new_code_cell(code))
    return nb


def _without(nb, *grade_ids: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") not in grade_ids]
    return nb


def _reordered(nb) -> nbformat.NotebookNode:
    """Groups exercise and check moved to the end, after the cells that need the groups."""
    nb = copy.deepcopy(nb)
    moved = [nb.cells[_index(nb, "01-groups")], nb.cells[_index(nb, "01.groups")]]
    nb.cells = [c for c in nb.cells if c not in moved] + moved
    return nb


def _monkeypatched(nb) -> nbformat.NotebookNode:
    """Patches labkit's checks in its kernel and does no exercise: must score 0."""
    nb = _insert_after(nb, "01-users", MONKEYPATCH)  # right after `lab` exists
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell.source = "pass  # no work done"
    return nb


def build(folder: Path) -> dict[str, float]:
    """Write the submissions into ``folder``; return learner -> expected points."""
    folder.mkdir(parents=True, exist_ok=True)
    nb = source()
    student = nbtools.student_version(nb)
    plans = {
        "ada": (nb, FULL),
        "raises": (_insert_after(nb, "01.users", "raise RuntimeError('boom')"), USERS_ONLY),
        "loops": (_insert_after(nb, "01.users", "while True:\n    pass"), USERS_ONLY),
        "exits": (_insert_after(nb, "01.users", "import os\nos._exit(1)"), USERS_ONLY),
        "chatty": (_insert_after(nb, "01.users", "print('x' * 10_000_000)"), FULL),
        "network": (_insert_after(nb, "01.users", "import socket\n"
                                  "socket.create_connection(('example.com', 80), timeout=5)"),
                    USERS_ONLY),
        "network-ip": (_insert_after(nb, "01.users", "import socket\n"
                                     "socket.create_connection(('93.184.215.14', 80), timeout=5)"),
                       USERS_ONLY),
        # Deleting a locked check cell changes nothing: the grader runs every check.
        "deleted": (_without(nb, "01.groups"), FULL),
        # The admins group is used before the moved cell creates it: the run stops there.
        "reordered": (_reordered(nb), USERS_ONLY),
        "cheater": (_monkeypatched(nb), 0),
        "unfilled": (student, 0),
        "two-keys": (_insert_after(nb, "01.access-keys",
                                   "iam.create_access_key(UserName=lab.names.engineer_user)"),
                     FULL - 1),
    }
    expected = {}
    for learner, (notebook, points) in plans.items():
        (folder / f"{learner}.ipynb").write_text(nbtools.dumps(notebook), encoding="utf-8")
        expected[learner] = points
    (folder / "garbled.ipynb").write_text("{ this is not JSON", encoding="utf-8")
    expected["garbled"] = 0
    # A learner who hands in a folder: NAME comes from the folder's name.
    (folder / "Bob_Smith").mkdir(exist_ok=True)
    (folder / "Bob_Smith" / SOURCE.name).write_text(nbtools.dumps(nb), encoding="utf-8")
    expected["Bob_Smith"] = FULL
    return expected


def build_correct(folder: Path, count: int) -> list[str]:
    """``count`` correct submissions (for the benchmark); return the learner ids."""
    folder.mkdir(parents=True, exist_ok=True)
    text = nbtools.dumps(source())
    learners = [f"learner-{i:02d}" for i in range(count)]
    for learner in learners:
        (folder / f"{learner}.ipynb").write_text(text, encoding="utf-8")
    return learners
