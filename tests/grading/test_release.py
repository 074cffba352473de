"""Student versions: stubs, hidden checks removed, and the committed release/ never drifts."""
from __future__ import annotations

import json

import nbformat
import pytest

from labkit import config
from labkit.cli import main
from labkit.grading import checks as graded
from labkit.grading import notebook as nbtools
from labkit.grading import release

ROOT = config.repo_root()


def test_solution_region_becomes_nbgrader_stub_at_its_indent():
    source = "x = 1\nif x:\n    ### BEGIN SOLUTION\n    y = 2\n    ### END SOLUTION\nprint(x)"
    assert nbtools.stub_solution(source) == (
        "x = 1\nif x:\n    # YOUR CODE HERE\n    raise NotImplementedError()\nprint(x)")


def test_solution_cell_without_markers_is_replaced_whole():
    assert nbtools.stub_solution("secret = 42") == "# YOUR CODE HERE\nraise NotImplementedError()"
    assert nbtools.stub_solution("An answer.", markdown=True) == "YOUR ANSWER HERE"


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1", "never closed"),
    ("### BEGIN SOLUTION\n### END SOLUTION\n### END SOLUTION", "without"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
])
def test_broken_markers_are_clear_errors(source, message):
    with pytest.raises(ValueError, match=message):
        nbtools.stub_solution(source)


def test_hidden_tests_regions_and_hidden_check_cells_are_removed():
    nb = nbformat.v4.new_notebook()
    visible = nbformat.v4.new_code_cell("lab.check('01.users')\n### BEGIN HIDDEN TESTS\n"
                                        "assert secret\n### END HIDDEN TESTS")
    hidden = nbformat.v4.new_code_cell("lab.check('01.key-hygiene')")
    hidden.metadata["nbgrader"] = {"grade": True, "grade_id": "01.key-hygiene", "points": 1}
    answer = nbformat.v4.new_code_cell("### BEGIN SOLUTION\nsolve()\n### END SOLUTION",
                                       outputs=[], execution_count=3)
    answer.metadata.update(nbgrader={"solution": True, "grade_id": "a"}, tags=["solution"])
    nb.cells = [visible, hidden, answer]
    student = nbtools.student_version(nb, {"01.key-hygiene"})
    text = nbtools.dumps(student)
    assert "key-hygiene" not in text and "secret" not in text and "solve()" not in text
    assert student.cells[0].source == "lab.check('01.users')"
    assert student.cells[1].execution_count is None
    assert nb.cells[2].source.startswith("### BEGIN"), "the source notebook must not change"


def test_every_lesson_release_has_no_solution_and_keeps_nbgrader_metadata(tmp_path):
    written = release.release(tmp_path)
    assert [p.name for p in written] == [p.name for p in release.source_notebooks()]
    for path in written:
        nb = json.loads(path.read_text())
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text, path.name
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("solution"):
                assert "raise NotImplementedError()" in "".join(cell["source"])
            if meta.get("grade"):
                assert meta["locked"] and meta["grade_id"] not in graded.hidden_ids(
                    meta["grade_id"].split(".")[0])


def test_release_is_deterministic_and_removes_stale_notebooks(tmp_path):
    (tmp_path / "99_gone.ipynb").write_text("{}")
    first = {p.name: p.read_bytes() for p in release.release(tmp_path)}
    second = {p.name: p.read_bytes() for p in release.release(tmp_path)}
    assert first == second
    assert not (tmp_path / "99_gone.ipynb").exists()


def test_committed_student_versions_match_a_fresh_release():
    """CI goes red when a lesson changes without `make release` (or a new lesson has none)."""
    problems = release.drift(ROOT / release.DEFAULT_OUT)
    assert not problems, ("student versions in release/ are out of date; run "
                          "`python -m labkit release --out release` and commit release/:\n"
                          + "\n".join(problems))


def test_release_check_command_reports_drift(tmp_path, capsys):
    assert main(["release", "--out", str(tmp_path)]) == 0
    assert main(["release", "--out", str(tmp_path), "--check"]) == 0
    victim = sorted(tmp_path.glob("*.ipynb"))[0]
    victim.write_text(victim.read_text().replace("YOUR CODE HERE", "a leaked answer"))
    assert main(["release", "--out", str(tmp_path), "--check"]) == 1
    assert victim.name in capsys.readouterr().err


def test_hidden_checks_are_not_in_the_learners_package():
    lesson01 = (ROOT / "labkit" / "checks" / "lesson01.py").read_text()
    assert "01.key-hygiene" not in lesson01
    assert "01.key-hygiene" in graded.hidden_ids("01")
    assert graded.hidden_dir().parent.name == "instructor"


def test_a_lesson_without_hidden_checks_loads_fine(tmp_path, monkeypatch):
    monkeypatch.setenv(graded.HIDDEN_VARIABLE, str(tmp_path))
    assert {c.id for c in graded.graded_checks("00")} >= {c.id for c in
                                                          graded.checks.load("00")}
