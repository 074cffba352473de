"""Which submissions a regrade covers: discovery, learner names, lessons, shards."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from labkit import course
from labkit.grading import notebook as nbtools
from labkit.names import validate_name


@dataclass(frozen=True)
class Submission:
    """One learner's notebook for one lesson."""

    path: Path
    learner: str
    lesson: str | None

    @property
    def key(self) -> str:
        """A file-name-safe id, unique per learner and notebook."""
        raw = f"{self.learner}__{self.lesson or self.path.stem}"
        return re.sub(r"[^A-Za-z0-9_.-]", "_", raw)

    @property
    def lab_name(self) -> str:
        """The NAME injected into the notebook: the learner id made a valid lab name."""
        return lab_name(self.learner)

    def sha256(self) -> str:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return ""


def lab_name(learner: str) -> str:
    """A valid labkit NAME for a learner id ("Ada_Lovelace" -> "ada-lovelace")."""
    name = re.sub(r"[^a-z0-9]+", "-", learner.lower()).strip("-")
    name = name[:30].strip("-")
    try:
        return validate_name(name)
    except ValueError:
        # Too short, reserved prefix...: a stable name derived from the id instead.
        return "learner-" + hashlib.sha256(learner.encode()).hexdigest()[:8]


def discover(root: Path | str, lesson: str | None = None) -> list[Submission]:
    """Every submission under ``root``, sorted.

    ``root/NAME.ipynb`` is learner NAME's notebook; ``root/NAME/*.ipynb`` are
    learner NAME's notebooks (one per lesson). ``lesson`` keeps only that lesson
    (a notebook whose lesson cannot be read is assumed to be it).
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder of submissions (NAME.ipynb or NAME/*.ipynb)")
    wanted = course.normalize(lesson) if lesson else None
    found = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == ".ipynb":
            found.append((entry, entry.stem))
        elif entry.is_dir():
            found += [(p, entry.name) for p in sorted(entry.glob("*.ipynb"))
                      if not p.name.startswith(".")]
    detected = [(path, learner, _lesson(path)) for path, learner in found]
    # An unreadable notebook in a batch of one lesson is graded as that lesson (0 points,
    # but a row per check), so the instructor sees it where they look.
    seen = {lesson for _, _, lesson in detected if lesson}
    fallback = wanted or (seen.pop() if len(seen) == 1 else None)
    return [Submission(path, learner, wanted or lesson or fallback)
            for path, learner, lesson in detected if not (wanted and lesson and lesson != wanted)]


def _lesson(path: Path) -> str | None:
    try:
        notebook = nbtools.read_submission(path)
    except nbtools.SubmissionError:
        notebook = None
    return nbtools.lesson_of(notebook, path)


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """"2/4" -> (2, 4); None stays None; anything else is a clear error."""
    if not text:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ValueError(f"--shard {text!r}: write K/N with 1 <= K <= N, e.g. --shard 1/4")
    return int(match.group(1)), int(match.group(2))


def shard(submissions: list[Submission], which: tuple[int, int] | None) -> list[Submission]:
    """The K-th of N interleaved slices (stable: depends only on the sorted list)."""
    if which is None:
        return submissions
    k, n = which
    return [s for i, s in enumerate(submissions) if i % n == k - 1]
