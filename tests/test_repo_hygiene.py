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


def _lock(name: str) -> dict[str, str]:
    pins = dict(_split(line) for line in (ROOT / name).read_text().splitlines()
                if line and not line.startswith("#"))
    return {_canonical(k): v for k, v in pins.items()}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_lock_files_agree_with_pyproject():
    locked = _lock("requirements.lock") | _lock("requirements-test.lock")
    for name, version in _pins_from_pyproject().items():
        name = _canonical(name)
        assert locked.get(name) == version, f"{name}: pyproject {version}, locks {locked.get(name)}"


def test_runtime_lock_holds_no_test_tool():
    """Learners install requirements.lock only (make run, make lab): no test tooling in it."""
    runtime, test_only = _lock("requirements.lock"), _lock("requirements-test.lock")
    test_extra = {_canonical(_split(spec)[0]) for spec in _project()["optional-dependencies"]["test"]}
    assert not set(runtime) & set(test_only), "a package is pinned in both locks"
    leaked = {name for name in test_extra if name in runtime} - _needed_at_runtime(runtime)
    assert not leaked, f"test tools in the runtime lock: {sorted(leaked)}"
    for tool in ("pytest", "nbval", "selenium", "hypothesis", "pytest-xdist"):
        assert tool not in runtime, f"{tool} is a test tool: it belongs in requirements-test.lock"


def _needed_at_runtime(runtime: dict[str, str]) -> set[str]:
    """Test-extra packages that a runtime package also requires (websocket-client: jupyter_server)."""
    from importlib import metadata
    needed = set()
    for name in runtime:
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        needed |= {_canonical(re.split(r"[ ;<>=!~\[(]", r, maxsplit=1)[0])
                   for r in requires if "extra ==" not in r}
    return needed


def _third_party_imports(folder: Path) -> dict[str, str]:
    """Top-level modules imported anywhere under folder (imports inside functions too) -> a file."""
    import sys
    found = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "labkit":
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_in_labkit_is_a_declared_dependency():
    from importlib import metadata
    declared = {_canonical(_split(spec)[0]) for spec in _project()["dependencies"]}
    providers = metadata.packages_distributions()
    undeclared = {}
    for module, where in _third_party_imports(ROOT / "labkit").items():
        dists = {_canonical(d) for d in providers.get(module, [])}
        assert dists, f"{where} imports {module}, which no installed package provides"
        if not dists & declared:
            undeclared[module] = (where, sorted(dists))
    assert not undeclared, ("declare these in pyproject.toml's dependencies (and the locks, "
                            f"environment.yml): {undeclared}")


def test_make_test_and_ci_share_one_system_package_step():
    script = ROOT / "scripts" / "system-packages"
    assert os.access(script, os.X_OK)
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: .*system-packages", makefile, re.M), "make test must run it first"
    assert "scripts/system-packages" in makefile
    for package in ("bubblewrap", "chromium", "chromium-driver"):
        assert package in script.read_text() and package in (ROOT / "README.md").read_text()


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


_KERNEL_MAKERS = re.compile(r"(?<![A-Za-z_])(?:(?:Async)?KernelManager|NotebookClient|"
                            r"execute_notebook)\(")


def test_every_kernel_is_made_over_ipc_in_a_folder_of_its_own():
    """A kernel on TCP ports picked by jupyter_client and bound later by the kernel can lose
    them to another kernel ("Address already in use"; issue 29): every kernel the code,
    the tests and the benchmarks start comes from engine.ipc_manager, or is given one."""
    offenders = []
    for path in sorted((ROOT / "labkit").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py")):
        if path == Path(__file__):
            continue
        text = path.read_text()
        for match in _KERNEL_MAKERS.finditer(text):
            call = text[match.start():text.find(")", match.end()) + 200]
            if "km=" not in call and "def " not in text[max(0, match.start() - 4):match.start()]:
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert not offenders, f"kernels not made by engine.ipc_manager: {offenders}"
