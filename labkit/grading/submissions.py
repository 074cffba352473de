"""Which submissions a regrade covers: discovery, learner names, lessons, shards."""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from labkit import course
from labkit.grading import notebook as nbtools
from labkit.names import validate_name


#: Notebooks larger than this are refused with a row (``--max-notebook-mb``).
DEFAULT_MAX_NOTEBOOK_MB = 20.0


@dataclass(frozen=True)
class Submission:
    """One learner's notebook for one lesson.

    ``learner`` is the name exactly as handed in (any unicode, even newlines: reports
    clean it); ``key`` is the safe id used for file names; ``problem`` is why the
    submission is refused without running (a symbolic link, too large), else "".
    """

    path: Path
    learner: str
    lesson: str | None
    relative: str = ""
    problem: str = ""

    @property
    def key(self) -> str:
        """A file-name-safe id, unique per submission file: a readable part plus a digest of
        the path handed in ("a b" and "a_b", "dup.ipynb" and "dup/", never share one)."""
        identity = self.relative or str(self.path)
        digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        return f"{slug(self.learner, 40)}-{digest}__{slug(self.lesson or 'unknown', 8)}"

    @property
    def lab_name(self) -> str:
        """The NAME injected into the notebook: the learner id made a valid lab name."""
        return lab_name(self.learner)

    def sha256(self) -> str:
        if self.problem:
            return ""
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return ""


def slug(text: str, limit: int) -> str:
    """ASCII letters, digits, ``_.-`` only, no leading dot, at most ``limit`` characters."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    made = re.sub(r"[^A-Za-z0-9_.-]+", "_", ascii_text).strip("._")[:limit]
    return made or "x"


def lab_name(learner: str) -> str:
    """A valid labkit NAME for a learner id ("Ada_Lovelace" -> "ada-lovelace")."""
    name = re.sub(r"[^a-z0-9]+", "-", learner.lower()).strip("-")
    name = name[:30].strip("-")
    try:
        return validate_name(name)
    except ValueError:
        # Too short, reserved prefix...: a stable name derived from the id instead.
        return "learner-" + hashlib.sha256(learner.encode()).hexdigest()[:8]


def discover(root: Path | str, lesson: str | None = None,
             max_notebook_mb: float = DEFAULT_MAX_NOTEBOOK_MB) -> list[Submission]:
    """Every submission under ``root``, sorted; never raises for a strange entry.

    ``root/NAME.ipynb`` is learner NAME's notebook; ``root/NAME/*.ipynb`` are
    learner NAME's notebooks (one per lesson). Hidden files (``.NAME.ipynb``) are
    graded like any other. A symbolic link (file or folder) and a notebook over
    ``max_notebook_mb`` become submissions with a ``problem``: a row, never a run.
    ``lesson`` keeps only that lesson (a notebook whose lesson cannot be read is
    assumed to be it).
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder of submissions (NAME.ipynb or NAME/*.ipynb)")
    wanted = course.normalize(lesson) if lesson else None
    limit = int(max_notebook_mb * 1024 * 1024)
    found = []  # (path, learner, problem)
    for entry in sorted(root.iterdir()):
        if entry.is_symlink():
            if entry.name.endswith(".ipynb") or entry.is_dir():
                found.append((entry, _learner_of(entry), _SYMLINK))
        elif entry.is_file() and entry.name.endswith(".ipynb"):
            found.append((entry, _learner_of(entry), _too_large(entry, limit)))
        elif entry.is_dir():
            for path in sorted(entry.iterdir()):
                if not path.name.endswith(".ipynb"):
                    continue
                problem = _SYMLINK if path.is_symlink() else (
                    _too_large(path, limit) if path.is_file() else "")
                if problem or path.is_file():
                    found.append((path, entry.name, problem))
    detected = [(path, learner, problem, None if problem else _lesson(path))
                for path, learner, problem in found]
    # An unreadable notebook in a batch of one lesson is graded as that lesson (0 points,
    # but a row per check), so the instructor sees it where they look.
    seen = {found_lesson for *_, found_lesson in detected if found_lesson}
    fallback = wanted or (seen.pop() if len(seen) == 1 else None)
    return [Submission(path, learner, wanted or found_lesson or fallback,
                       os.path.relpath(path, root), problem)
            for path, learner, problem, found_lesson in detected
            if not (wanted and found_lesson and found_lesson != wanted)]


_SYMLINK = ("refused: a symbolic link, not a notebook; hand in the notebook file itself "
            "(links are never followed)")


def _learner_of(path: Path) -> str:
    name = path.name
    return name[: -len(".ipynb")] if name.endswith(".ipynb") and len(name) > 6 else name


def _too_large(path: Path, limit: int) -> str:
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"refused: cannot read the file ({exc.strerror})"
    if size > limit:
        return (f"refused: {size / 1024**2:.1f} MB, over the {limit / 1024**2:g} MB cap "
                "(--max-notebook-mb); clear the outputs and hand it in again")
    return ""


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
