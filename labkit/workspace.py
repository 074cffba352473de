"""The learner's working folder for ``make lab``: the student versions, copied once.

``make lab`` serves this folder (default ``work/`` in the checkout, ignored by git, or
$LABKIT_WORK): each lesson's student version from ``release/`` is copied in when the
folder has no notebook of that name yet, so a learner's work is never overwritten (not by
``git pull``, not by the next ``make lab``) and a lesson added later appears. The reference
versions stay one step away: ``labkit solution 02`` copies lesson 02's into
``work/solutions/``.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from labkit import config, course

WORK_VARIABLE = "LABKIT_WORK"
SOLUTIONS = "solutions"


def work_folder(folder: str | Path | None = None) -> Path:
    """The learner's folder: FOLDER, else $LABKIT_WORK, else work/ in the checkout."""
    chosen = folder or os.environ.get(WORK_VARIABLE) or config.repo_root() / "work"
    return Path(chosen).expanduser().resolve()


def student_versions() -> list[Path]:
    """The committed student versions (release/, made by `labkit release`)."""
    found = sorted((config.repo_root() / "release").glob("*.ipynb"))
    if not found:
        raise RuntimeError("release/ holds no student versions; make them with `make release`")
    return found


def prepare(folder: str | Path | None = None) -> tuple[Path, list[str]]:
    """Copy into the learner's folder each student version it lacks; (folder, names copied)."""
    work = work_folder(folder)
    if work.exists() and not work.is_dir():
        raise ValueError(f"{work} is a file, not a folder: choose another with "
                         f"{WORK_VARIABLE}=DIR (or make lab WORK=DIR)")
    work.mkdir(parents=True, exist_ok=True)
    added = []
    for source in student_versions():
        target = work / source.name
        if not target.exists():  # the learner's copy, once there, is theirs
            shutil.copyfile(source, target)
            added.append(source.name)
    return work, added


def solution(lesson: str, folder: str | Path | None = None) -> tuple[Path, bool]:
    """Copy lesson's reference version into the learner's solutions/; (path, newly copied).

    An existing copy is left as it is (the learner may have annotated it)."""
    lesson = course.normalize(lesson)
    sources = sorted((config.repo_root() / "notebooks").glob(f"{lesson}_*.ipynb"))
    if not sources:
        raise ValueError(f"no lesson {lesson}; the lessons are {', '.join(course.lesson_ids())}")
    target = work_folder(folder) / SOLUTIONS / sources[0].name
    if target.exists():
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sources[0], target)
    return target, True
