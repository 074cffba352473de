"""Files a learner hands in to fool the grader's reading of them (issue 21).

A submission swapped for a symbolic link to the instructor's notebook, or for a file over
``--max-notebook-mb``, after discovery; FIFOs (top level and in a learner's folder) and
other odd entries; a comment naming another lesson; ``dup.ipynb`` beside ``dup/``. One
sandboxed batch grades them all (swaps made between discovery and grading); each must get
its row saying what it is, earn nothing it did not do, and leave no process behind.
Needs bubblewrap, like every sandbox test: without it these tests fail.
"""
from __future__ import annotations

import csv
import os
import socket
import time

import pytest

from labkit.grading import notebook as nbtools
from labkit.grading import regrade, sandbox
from labkit.grading.submissions import SubmissionRefused, discover, read_safely
from tests.grading import hostile

TIMEOUT, CELL_TIMEOUT, BOUND = 150, 40, 600
PAD = " " * 1_500_000  # JSON whitespace: still a valid notebook, 1.5 MB


def _write(path, notebook) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbtools.dumps(notebook), encoding="utf-8")


def _entries(root):
    full, empty = hostile.source(), nbtools.student_version(hostile.source())
    _write(root / "dup.ipynb", full)
    _write(root / "dup" / hostile.SOURCE.name, full)
    for name in ("linked", "bloated", "edited"):  # swapped after discovery (_swap)
        _write(root / f"{name}.ipynb", empty)
    os.mkfifo(root / "pipe.ipynb")
    (root / "piped").mkdir()
    os.mkfifo(root / "piped" / "01_iam_users_and_groups.ipynb")
    (root / "notes.txt").write_text("not a notebook")
    (root / "empty").mkdir()
    (root / "dir-link").symlink_to(root / "dup")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "sock.ipynb"))
    server.close()
    # Lesson 01, mentioning lesson 02 in a comment and a string: still lesson 01.
    commented = hostile.source()
    commented.cells.insert(0, nbtools.nbformat.v4.new_code_cell(
        "# see labkit.start(NAME, lesson='02') next week\n"
        "NEXT = \"labkit.start(NAME, lesson='02')\""))
    _write(root / "commented.ipynb", commented)


def _swap(root) -> None:
    """What a learner with write access to the folder does once the batch has started."""
    (root / "linked.ipynb").unlink()
    (root / "linked.ipynb").symlink_to(hostile.SOURCE)  # the instructor's notebook: 9/9
    _write(root / "bloated.ipynb", hostile.source())
    with (root / "bloated.ipynb").open("a") as handle:
        handle.write(PAD)
    _write(root / "edited.ipynb", hostile.source())  # a correct notebook, after the fact


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    assert sandbox.find_bwrap(), "these tests need bubblewrap: apt-get install -y bubblewrap"
    root, out = tmp_path_factory.mktemp("file-subs"), tmp_path_factory.mktemp("file-out")
    _entries(root)
    found = discover(root, "01", max_notebook_mb=1)
    _swap(root)
    original = regrade.discover
    regrade.discover = lambda *args, **kwargs: found  # graded as discovered, then swapped
    try:
        started = time.perf_counter()
        regrade.regrade(root, out, lesson="01", jobs=1, timeout=TIMEOUT,
                        cell_timeout=CELL_TIMEOUT, progress=False, max_notebook_mb=1)
        seconds = time.perf_counter() - started
    finally:
        regrade.discover = original
    rows = {r["learner"]: r for r in csv.DictReader((out / "summary.csv").open())}
    return {"rows": rows, "seconds": seconds, "out": out}


@pytest.mark.slow
def test_swaps_after_discovery_earn_nothing(batch):
    rows = batch["rows"]
    assert batch["seconds"] < BOUND
    assert "symbolic link" in rows["linked.ipynb"]["reason"]
    assert "over the 1 MB cap" in rows["bloated.ipynb"]["reason"]
    assert "changed after the batch collected it" in rows["edited.ipynb"]["reason"]
    for name in ("linked.ipynb", "bloated.ipynb", "edited.ipynb"):
        assert (rows[name]["execution"], float(rows[name]["points"])) == ("invalid", 0), name


@pytest.mark.slow
def test_every_entry_gets_a_row_that_says_what_it_is(batch):
    rows = batch["rows"]
    assert "a FIFO (named pipe)" in rows["pipe.ipynb"]["reason"]
    assert "a FIFO (named pipe)" in rows["piped/"]["reason"]
    assert "a unix socket" in rows["sock.ipynb"]["reason"]
    assert "a symbolic link" in rows["dir-link"]["reason"]
    assert "does not end in .ipynb" in rows["notes.txt"]["reason"]
    assert "a folder without any .ipynb" in rows["empty/"]["reason"]
    for name in ("pipe.ipynb", "piped/", "sock.ipynb", "dir-link", "notes.txt", "empty/"):
        assert rows[name]["execution"] == "invalid" and rows[name]["lesson"] == "01", name


@pytest.mark.slow
def test_handed_in_names_and_lessons_are_what_was_handed_in(batch):
    rows = batch["rows"]
    assert float(rows["dup.ipynb"]["points"]) == hostile.FULL
    assert float(rows["dup/"]["points"]) == hostile.FULL
    assert float(rows["commented.ipynb"]["points"]) == hostile.FULL, \
        "a comment naming lesson 02 does not hide a lesson-01 notebook under --lesson 01"


@pytest.mark.slow
def test_the_batch_leaves_no_process_behind(batch):
    assert hostile.leftovers() == []


def test_read_safely_refuses_links_fifos_and_growth(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.ipynb").write_bytes(b"{}")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    os.mkfifo(tmp_path / "fifo.ipynb")
    assert read_safely(tmp_path, "real/a.ipynb", 10) == b"{}"
    with pytest.raises(SubmissionRefused, match="symbolic link"):
        read_safely(tmp_path, "alias/a.ipynb", 10)  # a link as a folder on the way
    with pytest.raises(SubmissionRefused, match="FIFO"):
        read_safely(tmp_path, "fifo.ipynb", 10)  # and it did not block
    with pytest.raises(SubmissionRefused, match="over the"):
        read_safely(tmp_path, "real/a.ipynb", 1)


def test_lesson_comes_from_the_code_not_a_comment():
    notebook = nbtools.read_submission(nbtools.dumps(hostile.source()).encode())
    notebook.cells.insert(0, nbtools.nbformat.v4.new_code_cell(
        "# labkit.start(NAME, lesson='02')\n!echo \"labkit.start(NAME, lesson='03')\""))
    assert nbtools.lesson_of(notebook, hostile.SOURCE) == "01"
