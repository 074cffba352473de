"""Discovery, names, shards, merge and reports: the batch plumbing, without running kernels."""
from __future__ import annotations

import csv
import json

import pytest

from labkit.cli import main
from labkit.grading import regrade, report
from labkit.grading.submissions import Submission, discover, lab_name, parse_shard, shard
from tests.grading import hostile


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "subs"
    hostile.build(root)
    return root


def test_discover_reads_learners_from_files_and_folders(folder):
    subs = {s.learner: s for s in discover(folder)}
    assert "ada" in subs and "Bob_Smith" in subs
    assert subs["Bob_Smith"].lab_name == "bob-smith"
    assert {s.lesson for s in subs.values()} == {"01"}, "garbled is graded as the batch's lesson"


def test_lesson_filter_keeps_only_that_lesson(folder):
    assert len(discover(folder, "01")) == len(discover(folder))
    assert [s.learner for s in discover(folder, "00")] == ["garbled"]


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="not a folder of submissions"):
        discover(tmp_path / "nope")


@pytest.mark.parametrize("learner, name", [("Ada_Lovelace", "ada-lovelace"),
                                           ("  x  ", None), ("xn--evil", "xn-evil")])
def test_lab_name_is_always_valid(learner, name):
    from labkit.names import validate_name

    made = lab_name(learner)
    assert validate_name(made) == made
    if name:
        assert made == name
    else:
        assert made.startswith("learner-") and made == lab_name(learner)


def test_shards_partition_the_batch(folder):
    subs = discover(folder)
    parts = [shard(subs, (k, 3)) for k in (1, 2, 3)]
    assert sorted(s.key for p in parts for s in p) == sorted(s.key for s in subs)
    assert not set(s.key for s in parts[0]) & set(s.key for s in parts[1])


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_bad_shard_is_a_clear_error(text):
    with pytest.raises(ValueError, match="K/N"):
        parse_shard(text)


def _fake_result(out, learner, points):
    sub = Submission(out / f"{learner}.ipynb", learner, "01", f"{learner}.ipynb")
    result = regrade._new_result(sub)
    result["execution"] = {"status": "ok", "reason": ""}
    result["checks"] = [{"check": "01.users", "points": points, "max_points": 2,
                         "status": "passed" if points else "failed", "message": "m<b>",
                         "hint": "", "hidden": False}]
    regrade.write_result(out, sub, result)


def test_merge_combines_shards_and_rebuilds_reports(tmp_path, capsys):
    one, two, merged = tmp_path / "s1", tmp_path / "s2", tmp_path / "all"
    _fake_result(one, "ann", 2)
    _fake_result(two, "bea", 0)
    assert main(["regrade", "merge", str(one), str(two), "--out", str(merged)]) == 0
    rows = list(csv.DictReader((merged / "grades.csv").open()))
    assert [(r["learner"], r["points"]) for r in rows] == [("ann.ipynb", "2"), ("bea.ipynb", "0")]
    assert list(rows[0]) == list(report.GRADE_COLUMNS)
    assert "m&lt;b&gt;" in (merged / "report.html").read_text()
    bea = Submission(two / "bea.ipynb", "bea", "01", "bea.ipynb")
    assert (merged / "feedback" / f"{bea.key}.md").exists()


def test_merge_of_a_folder_without_results_is_a_clear_error(tmp_path, capsys):
    assert main(["regrade", "merge", str(tmp_path)]) == 2
    assert "no results/ folder" in capsys.readouterr().err


def test_regrade_without_out_is_a_clear_error(folder, capsys):
    assert main(["regrade", str(folder)]) == 2
    assert "--out" in capsys.readouterr().err


def test_report_escapes_learner_text_and_cuts_long_messages(tmp_path):
    _fake_result(tmp_path, "eve", 0)
    path = next((tmp_path / "results").glob("*.json"))
    result = json.loads(path.read_text())
    result["checks"][0]["message"] = "<script>alert(1)</script>" + "y" * 5000
    path.write_text(json.dumps(result))
    report.write_reports(tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    row = next(csv.DictReader((tmp_path / "grades.csv").open()))
    assert len(row["message"]) <= report.MESSAGE_LIMIT + 10


def test_truncate_says_how_much_was_cut():
    assert regrade.truncate("abc", 5) == "abc"
    assert regrade.truncate("x" * 10, 4) == "xxxx\n[... 6 more characters cut]"
