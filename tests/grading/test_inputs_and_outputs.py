"""Any input gets a row with its reason; every output is safe to open (issue 11).

Names that crashed the batch (240 characters, 120 `é`, newlines, `..`), keys that
collided (`a b`/`a_b`, `dup.ipynb`/`dup/`), symbolic links, integer sources, missing
metadata, oversized notebooks; spreadsheet formulas, terminal escapes and Markdown in
what learners control; the refusal to grade without bubblewrap.
"""
from __future__ import annotations

import csv
import json
import os
import re

import pytest

from labkit.cli import main
from labkit.grading import notebook as nbtools
from labkit.grading import regrade, report, sandbox
from labkit.grading.submissions import Submission, discover
from tests.grading import hostile

GARBLED = "{ not JSON"
SAFE_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
ODD_NAMES = ["a" * 240, "é" * 120, "new\nline", "a b", "a_b", "dup", "..", ".dotted",
             '=HYPERLINK("evil.example","x")', "tab\tand\x1b[31mred"]


def _odd_folder(root):
    root.mkdir()
    for name in ODD_NAMES:
        (root / f"{name}.ipynb").write_text(GARBLED, encoding="utf-8")
    (root / "dup").mkdir()
    (root / "dup" / "01_iam_users_and_groups.ipynb").write_text(GARBLED, encoding="utf-8")
    return root


def test_keys_are_safe_and_distinct_whatever_the_name(tmp_path):
    subs = discover(_odd_folder(tmp_path / "subs"))
    assert sorted(s.learner for s in subs) == sorted(ODD_NAMES + ["dup"])
    keys = [s.key for s in subs]
    assert len(set(keys)) == len(keys), "a b / a_b and dup.ipynb / dup/ must not share a key"
    assert all(SAFE_KEY.fullmatch(k) for k in keys), keys


def test_symlinks_and_oversized_notebooks_get_a_row_and_never_run(tmp_path):
    root = tmp_path / "subs"
    root.mkdir()
    target = hostile.SOURCE  # the instructor's own notebook: full points if followed
    (root / "linked.ipynb").symlink_to(target)
    (root / "folder-link").symlink_to(target.parent)
    (root / "big.ipynb").write_text(nbtools.dumps(hostile.source()) + " " * 2_000_000)
    subs = {s.learner: s for s in discover(root, max_notebook_mb=1)}
    assert "symbolic link" in subs["linked"].problem
    assert "symbolic link" in subs["folder-link"].problem
    assert "over the 1 MB cap" in subs["big"].problem
    assert subs["linked"].sha256() == ""


def _cells(*sources):
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "source": s, "metadata": {}, "outputs": [],
                       "execution_count": None} for s in sources]}


def test_integer_sources_and_missing_metadata_are_reported(tmp_path):
    bad = tmp_path / "01_int.ipynb"
    bad.write_text(json.dumps(_cells("x = 1", 42)))
    with pytest.raises(nbtools.SubmissionError, match="cell 2: its source is int"):
        nbtools.read_submission(bad)
    assert [s.lesson for s in discover(tmp_path)] == ["01"], "discovery does not crash"
    raw = _cells(["import labkit\n", "lab = labkit.start(NAME, lesson='01')"])
    del raw["metadata"], raw["cells"][0]["metadata"]
    odd = tmp_path / "odd.ipynb"
    odd.write_text(json.dumps(raw))
    notes = []
    notebook = nbtools.read_submission(odd, notes)
    assert notebook.cells[0].source.startswith("import labkit")
    assert "the notebook had no metadata (added)" in notes
    assert "cell(s) 1 had no metadata (added)" in notes


def test_nbformat_3_is_converted(tmp_path):
    import nbformat

    old = tmp_path / "old.ipynb"
    old.write_text(nbformat.writes(nbformat.convert(hostile.source(), 3), version=3))
    notes = []
    notebook = nbtools.read_submission(old, notes)
    assert notebook.nbformat == 4 and notes == ["converted from nbformat 3 to 4"]
    assert nbtools.lesson_of(notebook, old) == "01"


@pytest.mark.slow
def test_a_batch_of_odd_names_writes_every_report(tmp_path):
    root = _odd_folder(tmp_path / "subs")
    (root / "linked.ipynb").symlink_to(hostile.SOURCE)
    out = tmp_path / "out"
    counts = regrade.regrade(root, out, jobs=1, timeout=60, progress=False)
    assert counts["total"] == len(ODD_NAMES) + 2
    rows = list(csv.DictReader((out / "summary.csv").open()))
    learners = [r for r in rows if r["learner"]]
    assert len(learners) == counts["total"]
    shown = {r["learner"] for r in learners}
    assert "a" * 240 + ".ipynb" in shown and "é" * 120 + ".ipynb" in shown
    assert "new line.ipynb" in shown
    assert "'=HYPERLINK(\"evil.example\",\"x\").ipynb" in shown
    assert {"dup.ipynb", "dup/"} <= shown, "the learner column shows the entry as handed in"
    linked = next(r for r in learners if r["learner"] == "linked.ipynb")
    assert linked["execution"] == "invalid" and "symbolic link" in linked["reason"]
    feedback = sorted(p.name for p in (out / "feedback").iterdir())
    assert len(feedback) == counts["total"]
    assert all(SAFE_KEY.fullmatch(name[:-3]) for name in feedback)
    for path in out.rglob("*"):
        if path.is_file() and path.suffix != ".png":
            assert "\x1b" not in path.read_text(encoding="utf-8"), path


# --- escaping ---------------------------------------------------------------------------
HOSTILE_TEXT = {
    "learner": '=HYPERLINK("http://evil.example","click")',
    "message": "+SUM(A1:A9)\x1b]8;;http://evil.example\x07link\x1b]8;;\x07\n\x1b[2Jcleared",
    "hint": "@cmd|' /C calc'!A0 [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
}


def _hostile_result(out):
    name = HOSTILE_TEXT["learner"]
    sub = Submission(out / "x.ipynb", name, "01", "x.ipynb", handed_in=name)
    result = regrade._new_result(sub)
    result["execution"] = {"status": "error", "reason": "-2+3 \x1b[31mboom\x1b[0m"}
    result["notes"] = ["\u202eevil note"]
    result["checks"] = [{"check": "01.users", "points": 0, "max_points": 2, "status": "failed",
                         "message": HOSTILE_TEXT["message"], "hint": HOSTILE_TEXT["hint"],
                         "hidden": False}]
    regrade.write_result(out, sub, result)
    return sub


def test_csv_cells_that_look_like_formulas_are_neutralised(tmp_path):
    _hostile_result(tmp_path)
    report.write_reports(tmp_path, verify=regrade.verified)
    grades = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert grades[0]["learner"] == "'" + HOSTILE_TEXT["learner"]
    assert grades[0]["message"].startswith("'+SUM(A1:A9)")
    summary = [r for r in csv.DictReader((tmp_path / "summary.csv").open()) if r["learner"]]
    assert summary[0]["reason"].startswith("'-2+3")
    for name in ("grades.csv", "summary.csv"):
        for row in csv.reader((tmp_path / name).open()):
            assert not any(cell[:1] in ("=", "+", "-", "@") for cell in row), row


def test_control_characters_are_stripped_and_feedback_escaped(tmp_path):
    sub = _hostile_result(tmp_path)
    report.write_reports(tmp_path, verify=regrade.verified)
    texts = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.rglob("*")
             if p.is_file() and p.suffix in (".csv", ".md", ".html")}
    for name, text in texts.items():
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, name
    feedback = (tmp_path / "feedback" / f"{sub.key}.md").read_text()
    assert "\\[x\\]\\(javascript:alert\\(1\\)\\)" in feedback
    assert not re.search(r"(?<!\\)<img", feedback) and "\\<img" in feedback
    assert "linkcleared" not in feedback and "link cleared" in feedback  # newline -> space
    html = texts["report.html"]
    assert "<img src=x" not in html and "HYPERLINK(&quot;http" in html


def test_the_report_leads_with_pass_rates_and_a_histogram(tmp_path):
    for index, points in enumerate([0, 1, 2, 2]):
        sub = Submission(tmp_path / f"l{index}.ipynb", f"l{index}", "01", f"l{index}.ipynb")
        result = regrade._new_result(sub)
        result["execution"] = {"status": "ok", "reason": ""}
        result["checks"] = [{"check": "01.users", "points": points, "max_points": 2,
                             "status": "passed" if points == 2 else "failed", "message": "",
                             "hint": "", "hidden": False}]
        regrade.write_result(tmp_path, sub, result)
    paths = report.write_reports(tmp_path, verify=regrade.verified)
    assert paths["histogram"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = paths["html"].read_text()
    assert html.index("Pass rate per check") < html.index("histogram.png") < html.index("<details")
    assert "2 / 4 (50%)" in html and "class='sortable'" in html
    learners = list(csv.DictReader(paths["summary"].open()))
    assert len(learners) == 4 and all(r["learner"] for r in learners), \
        "summary.csv holds learners' rows only (a gradebook imports it)"
    rows = list(csv.DictReader(paths["class"].open()))
    rate = next(r for r in rows if r["figure"] == "pass-rate")
    assert (rate["item"], rate["count"], rate["of"], rate["percent"]) == ("01.users", "2", "4",
                                                                          "50")
    bands = {r["item"]: int(r["count"]) for r in rows if r["figure"] == "histogram"}
    assert bands["0-10%"] == 1 and bands["50-60%"] == 1 and bands["90-100%"] == 2


def test_a_tampered_result_shows_as_unverified(tmp_path):
    sub = _hostile_result(tmp_path)
    path = regrade.result_path(tmp_path, sub)
    result = json.loads(path.read_text())
    result["checks"][0]["points"] = 2
    path.write_text(json.dumps(result))
    assert not regrade.up_to_date(tmp_path, sub)
    [shown] = report.load_results(tmp_path, verify=regrade.verified)
    assert shown["execution"]["status"] == "unverified" and shown["checks"][0]["points"] == 0


# --- without bubblewrap ---------------------------------------------------------------
def test_regrade_refuses_without_bubblewrap_and_says_how_to_install(tmp_path, monkeypatch,
                                                                   capsys):
    root = tmp_path / "subs"
    root.mkdir()
    (root / "ada.ipynb").write_text(GARBLED)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no bwrap on PATH
    assert sandbox.find_bwrap() is None
    assert main(["regrade", str(root), "--out", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    assert "apt-get install -y bubblewrap" in err and "--no-sandbox" in err
    assert not (tmp_path / "out" / "grades.csv").exists()
    with pytest.raises(sandbox.SandboxUnavailable):
        regrade.regrade(root, tmp_path / "out", progress=False)


@pytest.mark.parametrize("text, mb", [("2G", 2048), ("1536M", 1536), ("4096", 4096),
                                      ("1.5g", 1536)])
def test_memory_sizes(text, mb):
    from labkit.grading.cli import parse_size_mb

    assert parse_size_mb(text) == mb


@pytest.mark.parametrize("text", ["lots", "0", "100M"])
def test_bad_memory_size_is_a_clear_error(text, tmp_path, capsys):
    assert main(["regrade", str(tmp_path), "--out", str(tmp_path / "o"), "--memory", text]) == 2
    assert "--memory" in capsys.readouterr().err


def test_sandbox_command_hides_the_grader_folders(tmp_path):
    from labkit import config

    box = sandbox.Sandbox("/usr/bin/bwrap", config.repo_root(),
                          hide=(config.repo_root() / "tests", tmp_path))
    command = box.command(tmp_path / "k", tmp_path / "k" / "home", tmp_path / "k" / "ipc",
                          4242, tmp_path / "k" / "ipc" / "kernel.json")
    joined = " ".join(command)
    for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--cap-drop ALL",
                 "--clearenv"):
        assert flag in joined
    for hidden in ("instructor", "notebooks", "tests"):
        assert f"--tmpfs {config.repo_root() / hidden}" in joined
    assert f"--ro-bind {config.repo_root()} {config.repo_root()}" in joined
    assert "JPY_PARENT_PID" not in joined and os.environ.get("HOME", "/root") not in (
        command[command.index("HOME") + 1],)


def test_a_checkout_under_tmp_is_bound_over_the_sandboxs_tmp(tmp_path):
    """CI may clone the repository under /tmp: the sandbox's own /tmp (a tmpfs) must be
    mounted before the repository is bound, or it hides the code and the kernel dies."""
    repo = tmp_path / "clone"
    repo.mkdir()
    box = sandbox.Sandbox(bwrap="bwrap", repo=repo)
    args = box.command(tmp_path / "k", tmp_path / "k" / "home", tmp_path / "k" / "ipc", 4510,
                       tmp_path / "k" / "ipc" / "kernel.json")
    tmp_at = next(i for i in range(len(args) - 1) if args[i:i + 2] == ["--tmpfs", "/tmp"])
    repo_at = next(i for i in range(len(args) - 2)
                   if args[i:i + 3] == ["--ro-bind", str(repo), str(repo)])
    assert tmp_at < repo_at
