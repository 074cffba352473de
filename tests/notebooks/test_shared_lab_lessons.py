"""Lessons as a learner runs them in JupyterLab: one shared lab for NAME, kernel after kernel,
in any order (a later lesson, then an earlier one again, teardown, then a restart from 00)."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from labkit.emulator import shared_lab
from tests.support import notebook_kernel

ROOT = Path(__file__).resolve().parents[2]
ORDER = ("03_access_points", "01_iam_users_and_groups", "99_teardown", "00_setup_and_credentials")


@pytest.mark.slow
def test_lessons_share_one_lab_across_kernels_in_any_order(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(shared_lab.SHARED_VARIABLE, "1")
    env = {**os.environ, "LABKIT_NO_NETWORK": "1"}
    urls = set()
    try:
        for stem in ORDER:
            path = ROOT / "notebooks" / f"{stem}.ipynb"
            nb = nbformat.read(path, as_version=4)
            with notebook_kernel(nb, path.parent, env) as client:  # a new kernel per lesson
                for index, cell in enumerate(nb.cells):
                    client.execute_cell(cell, index)  # raises CellExecutionError on failure
            urls.add(shared_lab.read_state("demo")["url"])
        assert len(urls) == 1, "every kernel must attach to the same lab"
    finally:
        for name in list(shared_lab.running()):
            shared_lab.stop(name)
