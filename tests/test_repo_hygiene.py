"""The repository's own rules, checked on every run."""
from __future__ import annotations

import ast
import json
import os
import re
import tomllib
from pathlib import Path

import pytest

from labkit import config, course

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _pins_from_pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + [d for ds in project["optional-dependencies"].values()
                                       for d in ds]
    return dict(_split(spec) for spec in specs)


def _split(spec: str) -> tuple[str, str]:
    name, _, version = spec.partition("==")
    assert version, f"{spec!r} is not pinned with =="
    return re.sub(r"\[.*\]", "", name).lower(), version


def test_environment_yml_lists_the_same_pins_as_pyproject():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    pip_pins = dict(_split(line.strip()[2:]) for line in lines
                    if line.strip().startswith("- ") and "==" in line)
    assert pip_pins == _pins_from_pyproject()


def test_lock_file_agrees_with_pyproject():
    lock = dict(_split(line) for line in (ROOT / "requirements.lock").read_text().splitlines()
                if line and not line.startswith("#"))
    lock = {k.replace("_", "-"): v for k, v in lock.items()}
    for name, version in _pins_from_pyproject().items():
        assert lock.get(name) == version, f"{name}: pyproject {version}, lock {lock.get(name)}"


def test_every_lesson_has_a_notebook_and_every_notebook_a_lesson():
    registered = {lesson.notebook for lesson in course.LESSONS}
    assert registered == {nb.name for nb in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name}: a cell has outputs; strip them"
            assert cell.get("execution_count") is None, f"{path.name}: execution counts left"
    assert "papermill" not in nb["metadata"], f"{path.name}: papermill metadata left"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_the_lesson_conventions(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    source = "\n".join("".join(c["source"]) for c in code)
    lesson = path.name[:2]
    params = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(params) == 1 and "NAME =" in "".join(params[0]["source"])
    assert f'labkit.start(NAME, lesson="{lesson}")' in source
    assert "input(" not in source, "lessons must not wait for input"
    assert "%store" not in source, "lessons pass nothing between notebooks"
    regions = re.findall(r"\b(?:us|eu|ap|sa|ca|me|af)-(?:east|west|south|north|central|"
                         r"southeast|northeast)-\d\b", source)
    assert not regions, f"hard-coded regions {regions}: use lab.region"
    assert not re.search(r"(?<!\d)\d{12}(?!\d)", source), "hard-coded account id: use lab.account_id"
    for cell in code:
        text = "".join(cell["source"])
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            assert "### BEGIN SOLUTION" in text and "### END SOLUTION" in text


def _string_literals(path: Path) -> set[str]:
    """String constants used as values (docstrings and comments are prose, not config)."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
            and isinstance(node.value, str) and id(node) not in docstrings}


def test_one_default_region_and_account_live_in_labkit_config():
    defaults = {config.DEFAULT_REGION, config.EMULATOR_ACCOUNT_ID}
    hits = [str(p.relative_to(ROOT)) for p in (ROOT / "labkit").rglob("*.py")
            if p.name != "config.py" and defaults & _string_literals(p)]
    assert not hits, f"a labkit default is repeated in {hits}; import labkit.config"


def test_ci_entry_point_runs_the_readme_test_command():
    ci = ROOT / ".ci" / "run"
    assert os.access(ci, os.X_OK)
    assert "make test" in ci.read_text()
    assert "make test" in (ROOT / "README.md").read_text()
