"""Reference solutions withheld: a lesson's ``build`` (and the private helpers only it uses)
replaced by a function that raises :class:`labkit.course.SolutionWithheld` (issue 21).

Used two ways: while lesson N is graded, the kernel's file system shows the withheld text
of every lesson >= N's builder module (bound over the real file, ``__pycache__`` hidden),
so ``users_and_groups.build(lab)`` earns nothing; and ``labkit release --solutions-through
NN`` writes a copy of the package whose lessons after NN are withheld, for learners.

The rest of each module stays as it is: its public helpers are used by other lessons,
their checks and notebooks (docs/teaching.md says what this leaves possible).
"""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

from labkit import course

_STUB = ('    raise __import__("labkit.course", fromlist=["SolutionWithheld"]).SolutionWithheld('
         '{lesson!r}, {where!r})\n')


def builder_file(repo: Path, lesson: course.Lesson) -> Path:
    module = lesson.builder.partition(":")[0]
    return Path(repo, *module.split(".")).with_suffix(".py")


def withheld_lessons(after: str, inclusive: bool) -> list[course.Lesson]:
    """Lessons with a builder from ``after`` on (``inclusive``) or after it."""
    return [item for item in course.LESSONS if item.builder
            and (item.id >= after if inclusive else item.id > after)]


def withheld_text(source: str, lesson: str, function: str, where: str) -> str:
    """``source`` with ``function`` and the private top-level functions only it (and other
    removed ones) calls replaced by the stub; every other line kept as it is."""
    tree = ast.parse(source)
    defs = {node.name: node for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    removed = {function} & set(defs)
    while True:
        users = _users(tree, defs, removed)
        more = {name for name in defs if name.startswith("_") and name not in removed
                and users.get(name) and users[name] <= removed}
        if not more:
            break
        removed |= more
    lines = source.splitlines(keepends=True)
    for name in sorted(removed, key=lambda n: -defs[n].lineno):
        node = defs[name]
        body_start = node.body[0].lineno - 1
        if isinstance(node.body[0], ast.Expr) and isinstance(
                getattr(node.body[0], "value", None), ast.Constant):
            body_start = node.body[0].end_lineno  # keep the docstring: what it built
        lines[body_start:node.end_lineno] = [_STUB.format(lesson=lesson, where=where)]
    return "".join(lines)


def _users(tree, defs, removed) -> dict[str, set[str]]:
    """name -> the top-level functions (or "<module>") that mention it."""
    users: dict[str, set[str]] = {}
    for node in tree.body:
        owner = node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
            else "<module>"
        for inner in ast.walk(node):
            if isinstance(inner, ast.Name) and inner.id in defs and inner.id != owner:
                users.setdefault(inner.id, set()).add(owner)
    return users


def write_withheld(repo: Path, lessons: list[course.Lesson], into: Path) -> dict[Path, Path]:
    """Write the withheld text of each lesson's builder module under ``into``; return
    {real file: withheld file}."""
    made = {}
    for item in lessons:
        real = builder_file(repo, item)
        module, _, function = item.builder.partition(":")
        target = Path(into) / f"{module}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(withheld_text(real.read_text(encoding="utf-8"), item.id, function,
                                        item.builder), encoding="utf-8")
        target.chmod(0o644)
        made[real] = target
    return made


def release_package(repo: Path, through: str, out: Path) -> list[str]:
    """A copy of the labkit package in ``out/labkit`` (with the course's ``data/`` beside it,
    as in a checkout) whose lessons after ``through`` hold no reference solution; return the
    builders withheld."""
    through = course.normalize(through)
    target = Path(out) / "labkit"
    shutil.rmtree(target, ignore_errors=True)
    shutil.rmtree(Path(out) / "data", ignore_errors=True)
    shutil.copytree(Path(repo) / "data", Path(out) / "data")
    shutil.copytree(Path(repo) / "labkit", target,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    lessons = withheld_lessons(through, inclusive=False)
    for real, withheld in write_withheld(repo, lessons, Path(out) / ".withheld").items():
        shutil.copyfile(withheld, target / real.relative_to(Path(repo) / "labkit"))
    shutil.rmtree(Path(out) / ".withheld", ignore_errors=True)
    return [item.builder for item in lessons]
