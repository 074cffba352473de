"""A failure that is the grader's own costs the learner nothing (issue 29).

A kernel that dies before it answers kernel_info (what a port taken by another kernel
did, "Address already in use") is the grader's fault: the submission is retried on a
fresh kernel, and when every try fails its row says "not graded: grader error", with no
points lost and `labkit regrade` exiting with its own status.

The failing kernels are real ones that exit at once: a sitecustomize on PYTHONPATH ends
every process jupyter_client starts as a kernel (it sets JPY_PARENT_PID) before ipykernel
runs. Unsandboxed (the sandbox clears the environment, PYTHONPATH included).
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from labkit.grading import cli, engine, regrade
from tests.grading import hostile

DYING_KERNELS = '''
import os
if "JPY_PARENT_PID" in os.environ:
    marker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernel-died")
    try:
        if {every!r}:
            raise FileNotFoundError
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL))  # only the first kernel dies
        os._exit(7)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os._exit(7)
'''


def _dying_kernels(folder, monkeypatch, every: bool) -> None:
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(DYING_KERNELS.format(every=every))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(folder)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))


def _one_submission(tmp_path) -> None:
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "ada.ipynb").write_text(hostile.nbtools.dumps(hostile.source()))


def _row(out) -> dict:
    return next(r for r in csv.DictReader((out / "summary.csv").open()) if r["learner"] == "ada.ipynb")


def test_kernels_talk_over_ipc_in_a_folder_of_their_own(tmp_path):
    km = engine.ipc_manager(tmp_path / "ipc")
    assert km.transport == "ipc" and km.ip == str(tmp_path / "ipc" / "zmq")
    assert km.connection_file == str(tmp_path / "ipc" / "kernel.json")
    assert oct((tmp_path / "ipc").stat().st_mode & 0o777) == "0o700"
    with pytest.raises(ValueError, match="too long a path for unix sockets"):
        engine.ipc_manager(tmp_path / ("x" * 120))


@pytest.mark.slow
def test_a_kernel_that_dies_at_start_is_retried_and_the_learner_graded(tmp_path, monkeypatch):
    _dying_kernels(tmp_path / "site", monkeypatch, every=False)
    _one_submission(tmp_path)
    counts = regrade.regrade(tmp_path / "subs", tmp_path / "out", jobs=1, timeout=120,
                             progress=False, sandbox=False)
    assert (tmp_path / "site" / "kernel-died").exists(), "the first kernel did not die"
    row = _row(tmp_path / "out")
    assert row["execution"] == "ok", row
    assert float(row["points"]) == hostile.FULL
    assert "graded on a fresh kernel after: the kernel did not start" in row["notes"]
    assert counts["not_graded"] == 0


@pytest.mark.slow
def test_when_every_kernel_dies_the_row_says_not_graded_and_the_exit_status_too(
        tmp_path, monkeypatch):
    _dying_kernels(tmp_path / "site", monkeypatch, every=True)
    _one_submission(tmp_path)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "labkit", "regrade", str(tmp_path / "subs"),
                           "--out", str(out), "--no-sandbox", "--timeout", "120"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == cli.EXIT_NOT_GRADED, done.stderr
    assert "1 submission(s) NOT graded" in done.stderr
    row = _row(out)
    assert row["execution"] == "not-graded"
    assert row["reason"].startswith("not graded: grader error (3 attempt(s) on fresh kernels")
    assert "Kernel died before replying to kernel_info" in row["reason"]
    # Nothing charged: the class figures leave it out, and the next run grades it again.
    assert not [r for r in csv.DictReader((out / "class.csv").open())
                if r["figure"] == "histogram" and int(r["count"])]
    stored = json.loads(next((out / "results").glob("*.json")).read_text())
    assert not regrade.up_to_date(out, regrade.discover(tmp_path / "subs")[0])
    assert {c["status"] for c in stored["checks"]} == {"not-run"}
    assert "no points" in next((out / "feedback").glob("*.md")).read_text()
