"""One learner never costs another: the parent's watchdog and the batch deadline (issue 11).

Unsandboxed on purpose (``sandbox=False``, as `--no-sandbox` grades): there a kernel's
parent IS the grader worker, so SIGKILL and SIGSTOP reach it, and the watchdog must
keep the damage to the attacker's own submission.
"""
from __future__ import annotations

import csv
import time

import pytest

from labkit.grading import regrade
from tests.grading import hostile

TIMEOUT = 45


def _summary(out) -> dict[str, dict]:
    return {hostile.learner(r["learner"]): r for r in csv.DictReader((out / "summary.csv").open())}


def _write(folder, learner, notebook) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{learner}.ipynb").write_text(hostile.nbtools.dumps(notebook), encoding="utf-8")


@pytest.mark.slow
def test_a_killed_or_stopped_worker_loses_only_its_own_submission(tmp_path, monkeypatch):
    monkeypatch.setattr(regrade, "CHECK_MARGIN", 20.0)  # the stopped worker is noticed sooner
    folder, out = tmp_path / "subs", tmp_path / "out"
    nb = hostile.source()
    _write(folder, "killer", hostile._insert_after(nb, "01.users", hostile.KILLER))
    _write(folder, "stopper", hostile._insert_after(nb, "01.users", hostile.STOPPER))
    for learner in ("victim-1", "victim-2"):
        _write(folder, learner, nb)
    started = time.perf_counter()
    regrade.regrade(folder, out, jobs=2, timeout=TIMEOUT, progress=False, sandbox=False)
    assert time.perf_counter() - started < 4 * (TIMEOUT + 20) + 200
    summary = _summary(out)
    assert summary["killer"]["execution"] == "crashed"
    assert "died while grading it" in summary["killer"]["reason"]
    assert summary["stopper"]["execution"] == "crashed"
    assert "did not answer in time" in summary["stopper"]["reason"]
    for learner in ("victim-1", "victim-2"):
        assert summary[learner]["execution"] == "ok", summary[learner]
        assert float(summary[learner]["points"]) == hostile.FULL


@pytest.mark.slow
def test_the_batch_deadline_ends_the_batch_and_every_report_is_written(tmp_path):
    folder, out = tmp_path / "subs", tmp_path / "out"
    nb = hostile._insert_after(hostile.source(), "01.users", "import time\ntime.sleep(600)")
    for learner in ("slow-1", "slow-2", "slow-3"):
        _write(folder, learner, nb)
    started = time.perf_counter()
    counts = regrade.regrade(folder, out, jobs=1, timeout=300, progress=False,
                             sandbox=False, batch_timeout=20)
    assert time.perf_counter() - started < 60
    summary = _summary(out)
    assert counts["total"] == 3 and set(summary) == {"slow-1", "slow-2", "slow-3"}
    assert {r["execution"] for r in summary.values()} == {"not-graded"}
    assert all("batch deadline" in r["reason"] for r in summary.values())
    assert (out / "report.html").exists()
    # Not graded is not final: the next run grades them.
    assert not any(regrade.up_to_date(out, s) for s in regrade.discover(folder))


@pytest.mark.slow
def test_timeout_bounds_the_whole_notebook_and_cell_timeout_one_cell(tmp_path):
    folder, out = tmp_path / "subs", tmp_path / "out"
    nb = hostile.source()
    # Many short cells, each under the cell timeout, together over the notebook's.
    naps = hostile.source()
    for _ in range(6):
        naps = hostile._insert_after(naps, "01.users", "import time\ntime.sleep(8)")
    _write(folder, "many-naps", naps)
    _write(folder, "one-long-cell", hostile._insert_after(nb, "01.users",
                                                          "import time\ntime.sleep(300)"))
    regrade.regrade(folder, out, jobs=2, timeout=40, cell_timeout=15, progress=False)
    summary = _summary(out)
    assert summary["many-naps"]["execution"] == "timeout"
    assert "notebook ran longer than 40 s" in summary["many-naps"]["reason"]
    assert summary["one-long-cell"]["execution"] == "timeout"
    assert "a cell ran longer than 15 s" in summary["one-long-cell"]["reason"]
