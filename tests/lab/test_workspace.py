"""`make lab`'s working folder: student versions copied once, never overwritten, new
lessons appear; the reference versions one command away (`labkit solution 02`)."""
from __future__ import annotations

import json

import pytest

from labkit import config, workspace
from labkit.cli import main

ROOT = config.repo_root()


def test_student_versions_are_copied_once_and_the_learners_work_is_kept(tmp_path):
    work, added = workspace.prepare(tmp_path / "work")
    names = sorted(p.name for p in (ROOT / "release").glob("*.ipynb"))
    assert sorted(added) == names and work == (tmp_path / "work").resolve()
    mine = work / "02_encrypted_buckets.ipynb"
    assert "raise NotImplementedError()" in mine.read_text()  # a student version, not answers
    assert "BEGIN SOLUTION" not in mine.read_text()
    mine.write_text(mine.read_text().replace("# YOUR CODE HERE", "my own answer"))
    (work / "10_audit.ipynb").unlink()  # as if lesson 10 were added to the course later
    again, added = workspace.prepare(work)
    assert added == ["10_audit.ipynb"] and "my own answer" in mine.read_text()


def test_the_working_folder_comes_from_the_variable_or_defaults_into_the_checkout(
        tmp_path, monkeypatch):
    monkeypatch.delenv(workspace.WORK_VARIABLE, raising=False)
    assert workspace.work_folder() == ROOT / "work"
    monkeypatch.setenv(workspace.WORK_VARIABLE, str(tmp_path / "mine"))
    assert workspace.work_folder() == tmp_path / "mine"
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        workspace.prepare(tmp_path / "file")


def test_work_is_ignored_by_git_so_a_pull_never_touches_it():
    assert "/work/" in (ROOT / ".gitignore").read_text().splitlines()


def test_labkit_solution_copies_the_reference_version_into_solutions(tmp_path, capsys):
    assert main(["solution", "2", "--work", str(tmp_path)]) == 0
    copied = tmp_path / "solutions" / "02_encrypted_buckets.ipynb"
    assert copied.read_bytes() == (ROOT / "notebooks" / copied.name).read_bytes()
    assert "BEGIN SOLUTION" in json.dumps(json.loads(copied.read_text()))
    assert str(copied) in capsys.readouterr().out
    copied.write_text(copied.read_text() + " ")  # the learner's notes in it stay
    assert main(["solution", "02", "--work", str(tmp_path)]) == 0
    assert "left as it is" in capsys.readouterr().out and copied.read_text().endswith(" ")


def test_an_unknown_lesson_is_a_clear_error(tmp_path, capsys):
    assert main(["solution", "42", "--work", str(tmp_path)]) == 2
    assert "labkit:" in capsys.readouterr().err
