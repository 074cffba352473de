"""``labkit release``: the student version of every lesson notebook.

Deterministic (same sources, same bytes), so the committed student versions in
``release/`` can be compared with a fresh release: tests/grading/test_release.py
fails when they drift.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from labkit import config
from labkit.grading import notebook as nbtools
from labkit.grading.checks import hidden_ids

#: Where the committed student versions live.
DEFAULT_OUT = "release"


def source_notebooks(folder: Path | None = None) -> list[Path]:
    """The lesson notebooks to release (every notebooks/*.ipynb, sorted)."""
    folder = Path(folder or config.repo_root() / "notebooks")
    found = sorted(folder.glob("*.ipynb"))
    if not found:
        raise ValueError(f"no notebooks found in {folder}; pass the lessons folder with --notebooks")
    return found


def student_text(source: Path) -> str:
    """The student version of one source notebook, as text."""
    notebook = nbformat.read(source, as_version=4)
    lesson = nbtools.lesson_of(notebook, source)
    hidden = hidden_ids(lesson) if lesson else set()
    try:
        return nbtools.dumps(nbtools.student_version(notebook, hidden))
    except ValueError as exc:
        raise ValueError(f"{source.name}: {exc}") from None


def release(out: Path | str = DEFAULT_OUT, notebooks: Path | None = None) -> list[Path]:
    """Write the student version of every lesson into ``out``; return the paths written.

    Student notebooks in ``out`` whose source is gone are removed, so the folder
    mirrors notebooks/ exactly.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sources = source_notebooks(notebooks)
    written = []
    for source in sources:
        target = out / source.name
        _write_atomic(target, student_text(source))
        written.append(target)
    names = {s.name for s in sources}
    for stale in out.glob("*.ipynb"):
        if stale.name not in names:
            stale.unlink()
    return written


def drift(committed: Path | str = DEFAULT_OUT, notebooks: Path | None = None) -> list[str]:
    """How the committed student versions differ from a fresh release (empty: none)."""
    committed = Path(committed)
    problems = []
    sources = source_notebooks(notebooks)
    for source in sources:
        target = committed / source.name
        if not target.exists():
            problems.append(f"{target} is missing")
        elif target.read_text(encoding="utf-8") != student_text(source):
            problems.append(f"{target} differs from the student version of {source}")
    names = {s.name for s in sources}
    problems += [f"{extra} has no source notebook" for extra in sorted(committed.glob("*.ipynb"))
                 if extra.name not in names]
    return problems


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
