"""`labkit regrade` on a folder of hostile and broken submissions beside correct ones."""
from __future__ import annotations

import csv
import json
import re
import shutil
import time

import pytest

from labkit.grading import checks as graded
from labkit.grading import regrade, report
from labkit.grading.outputs import Caps
from tests.grading import hostile

TIMEOUT = 240  # seconds per notebook
CELL_TIMEOUT = 30  # seconds per cell: the endless loop costs this much, once
BOUND = 1200  # the whole batch, generous for a loaded 2-core machine


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("grades")
    expected = hostile.build(folder)
    started = time.perf_counter()
    counts = regrade.regrade(folder, out, jobs=2, timeout=TIMEOUT, cell_timeout=CELL_TIMEOUT,
                             progress=False)
    seconds = time.perf_counter() - started
    grades = [{**row, "learner": hostile.learner(row["learner"])}
              for row in csv.DictReader((out / "grades.csv").open())]
    summary = {hostile.learner(row["learner"]): row
               for row in csv.DictReader((out / "summary.csv").open())}
    return {"folder": folder, "out": out, "expected": expected, "counts": counts,
            "seconds": seconds, "grades": grades, "summary": summary}


def _points(batch, learner) -> float:
    return float(batch["summary"][learner]["points"])


def _reason(batch, learner) -> str:
    return batch["summary"][learner]["reason"]


@pytest.mark.slow
def test_every_learner_gets_rows_and_the_expected_points(batch):
    assert batch["seconds"] < BOUND
    expected = batch["expected"]
    assert set(batch["summary"]) == set(expected)
    got = {learner: _points(batch, learner) for learner in expected}
    assert got == {k: float(v) for k, v in expected.items()}
    checks = {c.id for c in graded.graded_checks("01")}
    for learner in expected:
        rows = [r for r in batch["grades"] if r["learner"] == learner]
        assert {r["check"] for r in rows} == checks, learner
        assert all(r["status"] in {"passed", "failed", "error", "not-run"} for r in rows)


@pytest.mark.slow
def test_correct_submissions_get_full_points_including_hidden_checks(batch):
    for learner in ("ada", "Bob_Smith"):
        assert _points(batch, learner) == hostile.FULL
        assert batch["summary"][learner]["execution"] == "ok"
    hygiene = {r["learner"]: r for r in batch["grades"] if r["check"] == "01.key-hygiene"}
    assert hygiene["two-keys"]["status"] == "failed"
    assert "2 active access keys" in hygiene["two-keys"]["message"]


@pytest.mark.slow
def test_each_failure_is_reported_with_its_reason(batch):
    summary = batch["summary"]
    assert summary["garbled"]["execution"] == "invalid"
    assert "not JSON" in _reason(batch, "garbled")
    assert summary["raises"]["execution"] == "error" and "RuntimeError: boom" in _reason(batch, "raises")
    assert summary["loops"]["execution"] == "timeout"
    assert summary["exits"]["execution"] == "died"
    assert summary["unfilled"]["execution"] == "error"
    assert "NotImplementedError" in _reason(batch, "unfilled")
    assert "NetworkBlocked" in _reason(batch, "network-ip")
    assert summary["network"]["execution"] == "error"
    assert "check cell(s) deleted: 01.groups" in summary["deleted"]["notes"]
    assert "reordered" in summary["reordered"]["notes"]


@pytest.mark.slow
def test_a_learner_who_patches_labkit_checks_gains_nothing(batch):
    assert _points(batch, "cheater") == 0
    # Its patched check cells "passed" in its kernel; the run stopped only at the last cell.
    assert "an engineer without policies must be denied" in _reason(batch, "cheater")


@pytest.mark.slow
def test_huge_output_is_cut_in_the_report(batch):
    [result] = [json.loads(p.read_text()) for p in (batch["out"] / "results").glob("chatty-*")]
    assert len(result["output"]) < regrade.OUTPUT_LIMIT + 100
    assert "more characters cut" in result["output"]
    # 10,000,001 characters printed: one output's cap (1 MiB) kept, the rest dropped.
    dropped = 10_000_001 - Caps().output
    assert f"{dropped:,} characters of output dropped" in batch["summary"]["chatty"]["notes"]
    assert (batch["out"] / "report.html").stat().st_size < 1_000_000


@pytest.mark.slow
def test_feedback_file_per_learner(batch):
    feedback = batch["out"] / "feedback"
    texts = {p.name: p.read_text() for p in feedback.glob("*.md")}
    assert len(texts) == len(batch["expected"])
    for learner in batch["expected"]:
        mine = [t for name, t in texts.items()
                if re.fullmatch(re.escape(learner) + r"-[0-9a-f]{12}__01\.md", name)]
        assert len(mine) == 1 and f"feedback for {report.markdown(learner)}" in mine[0]
    [text] = [t for name, t in texts.items() if re.match(r"two-keys-[0-9a-f]{12}__", name)]
    assert "Score: 8 / 9" in text and "01.key\\-hygiene (graded check" in text


@pytest.mark.slow
def test_rerun_skips_graded_submissions_unless_forced_or_checks_change(batch, tmp_path,
                                                                        monkeypatch):
    folder, out = batch["folder"], batch["out"]
    again = regrade.regrade(folder, out, jobs=2, timeout=TIMEOUT, cell_timeout=CELL_TIMEOUT,
                            progress=False)
    assert again["graded"] == 0 and again["skipped"] == again["total"]
    # Edit a hidden check: every lesson-01 submission is out of date; grade one shard of it.
    hidden = tmp_path / "hidden"
    shutil.copytree(graded.hidden_dir(), hidden)
    check_file = hidden / "lesson01.py"
    check_file.write_text(check_file.read_text().replace("points=1, hidden=True",
                                                         "points=2, hidden=True"))
    monkeypatch.setenv(graded.HIDDEN_VARIABLE, str(hidden))
    total = again["total"]
    one = regrade.regrade(folder, out, jobs=1, timeout=TIMEOUT, cell_timeout=CELL_TIMEOUT,
                          progress=False, shard_spec=f"1/{total}")
    assert one["graded"] == 1 and one["total"] == 1
    rows = [r for r in csv.DictReader((out / "grades.csv").open())
            if r["check"] == "01.key-hygiene"]
    assert len(rows) == total
    assert sorted(r["max_points"] for r in rows).count("2") == 1
