"""Output a kernel sends is capped per output, cell and notebook (issue 21).

The grader's memory is bounded by the caps, not by what the learner prints: a kernel
printing 300 MB without a newline and then large images leaves a grader worker a few MiB
larger, the row says what was dropped, and no process is left behind.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from labkit import config
from labkit.grading.outputs import MIB, Budget, Caps
from tests.grading import hostile

FLOOD = '''
import sys
for _ in range(30):
    sys.stdout.write("x" * 10_000_000)  # 300 MB, never a newline
from IPython.display import display
for _ in range(4):
    display({"image/png": "A" * 20_000_000, "text/plain": "img"}, raw=True)
'''


def _stream(text):
    return {"msg_type": "stream", "content": {"name": "stdout", "text": text}}


def test_each_cap_drops_the_excess_and_counts_it():
    budget = Budget(Caps(output=10, cell=25, notebook=40))
    big = _stream("y" * 100)
    assert budget.admit(big, 1) and big["content"]["text"].startswith("y" * 10 + "\n[...")
    for _ in range(3):
        budget.admit(_stream("z" * 10), 1)
    assert budget.kept[1] == 25, "the cell cap holds"
    assert not budget.admit(_stream("w" * 5), 1), "a full cell's next output is dropped"
    for cell in (2, 3):
        budget.admit(_stream("v" * 10), cell)
        budget.admit(_stream("v" * 10), cell)
    assert budget.kept_total == 40, "the notebook cap holds"
    image = {"msg_type": "display_data",
             "content": {"data": {"image/png": "A" * 50, "text/plain": "img"}}}
    assert not budget.admit(image, 4)
    assert budget.dropped[1] == 90 + 5 + 10 + 5 and budget.dropped[4] == 53
    notes = budget.notes()
    assert notes[0].startswith("cell 2: 110 characters of output dropped")


def test_an_error_is_kept_with_its_name_whatever_its_size():
    budget = Budget(Caps(output=300, cell=300, notebook=300))
    error = {"msg_type": "error", "content": {"ename": "ValueError", "evalue": "e" * 10_000,
                                              "traceback": ["t" * 10_000] * 10}}
    assert budget.admit(error, 0)
    assert error["content"]["ename"] == "ValueError" and error["content"]["traceback"] == []
    assert len(error["content"]["evalue"]) <= 150


@pytest.mark.slow
def test_a_flood_of_output_leaves_the_grader_small():
    probe = subprocess.run([sys.executable, "-m", "tests.grading.output_probe", FLOOD],
                           capture_output=True, text=True, timeout=400, cwd=config.repo_root(),
                           env={**os.environ, "PYTHONPATH": str(config.repo_root())})
    assert probe.returncode == 0, probe.stderr[-2000:]
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    grew = found["peak_mb"] - found["base_mb"]
    assert grew < 64 + 3 * Caps().notebook // MIB, (grew, found)  # one message + the caps
    # Reported in the row: output dropped over the caps, or a message over the message cap.
    assert (any("characters of output dropped" in n for n in found["notes"])
            or "MiB cap" in found["execution"]["reason"]), found
    assert found["points"] == hostile.USERS_ONLY, found["execution"]
    assert len(found["output"]) < 5000
    assert hostile.leftovers() == []
