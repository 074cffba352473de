"""No points for the reference solution (issue 21).

While lesson N is graded, lesson N's (and later) builders are withheld from the kernel's
file system: a lesson-01 notebook whose only code calls ``users_and_groups.build(lab)``
earns what an empty one earns. ``labkit release --solutions-through NN`` hands learners a
package without later answers, and ``labkit.start`` says clearly why it cannot catch up.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest

from labkit import config
from labkit.cli import main
from labkit.grading import notebook as nbtools
from labkit.grading import regrade, sandbox, withhold
from tests.grading import hostile

CHEAT = "from labkit.topics import users_and_groups\nusers_and_groups.build(lab)"


def _cheater():
    notebook = nbtools.student_version(hostile.source())
    first = True
    for cell in notebook.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell.source = CHEAT if first else "pass"
            first = False
    return notebook


@pytest.mark.slow
def test_the_reference_builder_earns_nothing_in_a_graded_kernel(tmp_path):
    assert sandbox.find_bwrap(), "these tests need bubblewrap: apt-get install -y bubblewrap"
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / "cheater.ipynb").write_text(nbtools.dumps(_cheater()), encoding="utf-8")
    (subs / "honest.ipynb").write_text(nbtools.dumps(hostile.source()), encoding="utf-8")
    regrade.regrade(subs, out, jobs=1, timeout=150, cell_timeout=40, progress=False)
    rows = {r["learner"]: r for r in csv.DictReader((out / "summary.csv").open())}
    assert float(rows["cheater.ipynb"]["points"]) == 0, rows["cheater.ipynb"]
    assert "reference solution" in rows["cheater.ipynb"]["reason"]
    assert float(rows["honest.ipynb"]["points"]) == hostile.FULL, "lesson 01's own helpers work"
    assert hostile.leftovers() == []


def test_withheld_text_keeps_helpers_and_drops_the_build():
    lesson = next(item for item in withhold.withheld_lessons("01", True) if item.id == "01")
    real = withhold.builder_file(config.repo_root(), lesson)
    text = withhold.withheld_text(real.read_text(), "01", "build", lesson.builder)
    assert "def ensure_user(" in text and "SolutionWithheld" in text
    assert "ensure_access_key_profile(lab" not in text.split("def build(")[1]


@pytest.mark.slow
def test_a_release_through_03_holds_no_later_answer_and_start_says_why(tmp_path, capsys):
    out = tmp_path / "release"
    assert main(["release", "--out", str(out), "--solutions-through", "03"]) == 0
    assert "withheld: labkit.topics.iam_policies:build" in capsys.readouterr().out
    package = out / "package" / "labkit" / "topics"
    assert "SolutionWithheld" in (package / "iam_policies.py").read_text()
    assert "SolutionWithheld" not in (package / "access_points.py").read_text()
    code = ("import labkit\ntry:\n    labkit.start('rel-test', lesson='07', verbose=False)\n"
            "except labkit.course.SolutionWithheld as exc:\n    print('REFUSED', exc)\n"
            "labkit.start('rel-test', lesson='04', verbose=False)\nprint('CAUGHT UP TO 04')\n")
    env = {**os.environ, "PYTHONPATH": str(out / "package"),
           "LABKIT_HOME": str(tmp_path / "home"), "LABKIT_NO_NETWORK": "1"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, env=env, cwd=tmp_path)
    subprocess.run([sys.executable, "-m", "labkit", "emulator", "stop", "--all"], env=env,
                   capture_output=True, timeout=60, cwd=tmp_path)
    assert "REFUSED labkit.start cannot catch you up to lesson 07" in run.stdout, run.stderr[-2000:]
    assert "lesson 04's reference solution" in run.stdout and "rebuild=False" in run.stdout
    assert "CAUGHT UP TO 04" in run.stdout, run.stderr[-2000:]
