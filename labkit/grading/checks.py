"""The graded checks of a lesson: visible ones from labkit, hidden ones from the instructor.

Visible checks live in ``labkit/checks/lessonNN.py`` (learners run them in their
notebooks). Hidden checks live OUTSIDE the labkit package, in
``instructor/hidden_checks/lessonNN.py`` (or the folder named by
``LABKIT_HIDDEN_CHECKS``), so the package learners install never contains them.
They use the same decorator::

    from labkit.checks import Fail, check

    @check("01.key-hygiene", points=1, hidden=True, hint="...")
    def key_hygiene(lab): ...

Only the grader imports them, in its own process, after the learner's notebook
has run: the learner's kernel never sees or runs any check during grading.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

from labkit import checks, config

HIDDEN_VARIABLE = "LABKIT_HIDDEN_CHECKS"
_MODULE_PREFIX = "labkit_hidden_checks"


def hidden_dir() -> Path:
    """Where hidden check modules live (LABKIT_HIDDEN_CHECKS, else instructor/hidden_checks)."""
    configured = os.environ.get(HIDDEN_VARIABLE)
    return Path(configured) if configured else config.repo_root() / "instructor" / "hidden_checks"


def _hidden_file(lesson: str) -> Path:
    return hidden_dir() / f"lesson{lesson}.py"


def _visible_file(lesson: str) -> Path:
    return Path(checks.__file__).parent / f"lesson{lesson}.py"


def load_hidden(lesson: str) -> None:
    """Import the instructor's hidden checks of ``lesson`` (by path; nothing if there are none)."""
    path = _hidden_file(lesson)
    name = f"{_MODULE_PREFIX}.lesson{lesson}"
    if name in sys.modules or not path.exists():
        return
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def graded_checks(lesson: str) -> list[checks.Check]:
    """Every check of ``lesson`` the grader runs: visible (labkit) and hidden (instructor).

    Hidden checks live in instructor/hidden_checks/ only (tests/grading/
    test_hidden_checks_location.py keeps it so). Order: definition order, visible first.
    """
    visible = checks.load(lesson)
    load_hidden(lesson)
    found = {c.id: c for c in visible}
    for spec in checks.REGISTRY.values():
        if spec.lesson == lesson and spec.id not in found:
            found[spec.id] = spec
    return list(found.values())


def hidden_ids(lesson: str) -> set[str]:
    """Ids of the hidden checks of ``lesson`` (from both places)."""
    return {c.id for c in graded_checks(lesson) if c.hidden}


def fingerprint(lesson: str) -> str:
    """A digest of the check code that grades ``lesson``: editing a check changes it."""
    digest = hashlib.sha256()
    for path in (Path(checks.__file__), _visible_file(lesson), _hidden_file(lesson)):
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes() if path.exists() else b"<none>")
    return digest.hexdigest()[:16]
