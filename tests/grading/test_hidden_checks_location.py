"""Hidden checks live only in instructor/hidden_checks, never in the labkit package learners get."""
from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

from labkit import checks
from labkit.grading import checks as graded

_LESSON_FILE = re.compile(r"lesson(\w+)\.py")
# The hidden checks that moved out of labkit/checks: they must be graded from the instructor's files.
MOVED = {"02": {"02.tls-only", "02.not-public"}, "03": {"03.no-public-grants"},
         "04": {"04.least-privilege"}, "07": {"07.totals"}, "99": {"99.no-stray-resources"}}


def _labkit_check_modules() -> list[str]:
    """Every module of the labkit.checks package (what learners install)."""
    return [f"{checks.__name__}.{info.name}" for info in pkgutil.iter_modules(checks.__path__)]


def _hidden_lessons() -> list[str]:
    """The lessons that have an instructor hidden-check file."""
    return sorted(m.group(1) for p in graded.hidden_dir().glob("lesson*.py")
                  if (m := _LESSON_FILE.fullmatch(p.name)))


def _registered_by(module_name: str) -> list[checks.Check]:
    return [c for c in checks.REGISTRY.values() if c.function.__module__ == module_name]


def hidden_in_labkit() -> list[str]:
    """Ids of hidden checks registered by a labkit.checks module (each one a leak to learners)."""
    prefix = f"{checks.__name__}."
    return sorted(c.id for c in checks.REGISTRY.values()
                  if c.hidden and c.function.__module__.startswith(prefix))


def test_no_labkit_check_module_registers_a_hidden_check():
    for name in _labkit_check_modules():
        importlib.import_module(name)
    assert hidden_in_labkit() == [], (
        "hidden checks must live in instructor/hidden_checks/lessonNN.py, not in labkit/checks")


def test_the_leak_detector_sees_a_hidden_check_in_labkit():
    def leaked(lab):
        return "ok"
    leaked.__module__ = f"{checks.__name__}.lesson_fake"
    checks.check("fake.leaked", hidden=True)(leaked)
    try:
        assert hidden_in_labkit() == ["fake.leaked"]
    finally:
        del checks.REGISTRY["fake.leaked"]


def test_there_are_hidden_check_files():
    assert set(MOVED) | {"01", "05", "06", "08"} <= set(_hidden_lessons())


@pytest.mark.parametrize("lesson", _hidden_lessons())
def test_every_instructor_check_is_hidden_and_of_its_lesson(lesson):
    graded.load_hidden(lesson)
    found = _registered_by(f"{graded._MODULE_PREFIX}.lesson{lesson}")
    assert found, f"instructor/hidden_checks/lesson{lesson}.py registers no check"
    assert [c.id for c in found if not c.hidden] == [], "every instructor check needs hidden=True"
    assert [c.id for c in found if c.lesson != lesson] == []


@pytest.mark.parametrize("lesson, ids", sorted(MOVED.items()))
def test_moved_checks_are_graded_from_the_instructor_files(lesson, ids):
    assert ids <= graded.hidden_ids(lesson)
    origin = {c.id: c.function.__module__ for c in graded.graded_checks(lesson)}
    assert {origin[i] for i in ids} == {f"{graded._MODULE_PREFIX}.lesson{lesson}"}
