"""Which submissions a regrade covers: discovery, learner names, lessons, shards."""
from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
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
    """One learner's notebook for one lesson (or one entry that is refused with a row).

    ``learner`` is the learner id (any unicode, even newlines: reports clean it; the
    lab NAME is made from it); ``handed_in`` is the entry as it was handed in
    (``dup.ipynb``, ``dup/``), what the reports show; ``key`` is the safe id used for file
    names; ``problem`` is why the submission is refused without running (a symbolic
    link, a FIFO, too large), else ""; ``digest`` is the sha256 of the bytes discovery
    read (the worker grades only a file that still has it).
    """

    path: Path
    learner: str
    lesson: str | None
    relative: str = ""
    problem: str = ""
    handed_in: str = ""
    root: str = ""
    digest: str = ""

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
        return "" if self.problem else self.digest

    def read(self, limit: int) -> bytes:
        """The file's bytes, read once through :func:`read_safely`; SubmissionRefused when
        it is no longer the regular file discovery saw (swapped for a link, a FIFO, a
        larger file, or changed at all)."""
        data = read_safely(Path(self.root or self.path.parent), self.relative or self.path.name,
                           limit)
        if self.digest and hashlib.sha256(data).hexdigest() != self.digest:
            raise SubmissionRefused(
                "refused: the file changed after the batch collected it (replaced or "
                "edited while grading ran); run labkit regrade again to grade the new file")
        return data


class SubmissionRefused(ValueError):
    """A file that is not graded, with the row's reason (a link, a FIFO, too large...)."""


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


# --- reading a file that a learner may be swapping under us ----------------------------
def read_safely(root: Path, relative: str, limit: int) -> bytes:
    """The bytes of ``root/relative``, never through a symbolic link (any component after
    ``root``), only from a regular file, at most ``limit`` bytes: type and size are checked
    on the opened descriptor, so a swap between the check and the read cannot matter."""
    parts = Path(relative).parts
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for number, part in enumerate(parts):
            last = number == len(parts) - 1
            # O_NONBLOCK: opening a FIFO must not block the grader.
            parent, fd = fd, -1  # _open_at closes parent, even when it raises
            fd = _open_at(part, parent, os.O_NONBLOCK if last else os.O_DIRECTORY)
        return _read_regular(fd, limit)
    finally:
        if fd >= 0:
            os.close(fd)


def _read_regular(fd: int, limit: int) -> bytes:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise SubmissionRefused(f"refused: {describe_mode(info.st_mode)}, not a notebook "
                                "file; hand in the .ipynb file itself")
    if info.st_size > limit:
        raise SubmissionRefused(_too_large_text(info.st_size, limit))
    chunks, size = [], 0
    while size <= limit and (chunk := os.read(fd, min(1 << 20, limit + 1 - size))):
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:  # it grew after fstat: never more than limit + 1 bytes are held
        raise SubmissionRefused(_too_large_text(size, limit))
    return b"".join(chunks)


def _open_at(name: str, directory_fd: int, flags: int) -> int:
    """Open ``name`` in ``directory_fd`` without following a link; ``directory_fd`` is
    closed either way (the caller holds only what this returns)."""
    try:
        return os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | flags,
                       dir_fd=directory_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(name, directory_fd):
            raise SubmissionRefused(_SYMLINK) from None
        raise SubmissionRefused(f"refused: cannot read the file ({exc.strerror})") from None
    finally:
        os.close(directory_fd)


def _is_link(name: str, directory_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=directory_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISSOCK, "a unix socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"),
          (stat.S_ISREG, "a regular file"))


def describe_mode(mode: int) -> str:
    """What a file system entry is, in words ("a FIFO (named pipe)")."""
    return next((text for test, text in _KINDS if test(mode)), "an unknown kind of file")


def _too_large_text(size: int, limit: int) -> str:
    return (f"refused: {size / 1024**2:.1f} MB, over the {limit / 1024**2:g} MB cap "
            "(--max-notebook-mb); clear the outputs and hand it in again")


# --- discovery -------------------------------------------------------------------------
@dataclass
class _Found:
    relative: str
    learner: str
    handed_in: str
    problem: str = ""
    digest: str = ""
    lesson: str | None = None


def discover(root: Path | str, lesson: str | None = None,
             max_notebook_mb: float = DEFAULT_MAX_NOTEBOOK_MB) -> list[Submission]:
    """Every submission under ``root``, sorted; never raises for a strange entry.

    ``root/NAME.ipynb`` is learner NAME's notebook; ``root/NAME/*.ipynb`` are
    learner NAME's notebooks (one per lesson). Hidden files (``.NAME.ipynb``) are
    graded like any other. Every other top-level entry (a symbolic link, a FIFO, a file
    that is not a notebook, a folder without one) and every odd entry of a learner's folder
    becomes a submission with a ``problem`` that says what it is: a row, never a run.
    Each notebook is read once here (no link followed, type and size checked on the open
    file) for its lesson and digest. ``lesson`` keeps only that lesson (a notebook whose
    lesson cannot be read is assumed to be it).
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder of submissions (NAME.ipynb or NAME/*.ipynb)")
    wanted = course.normalize(lesson) if lesson else None
    limit = int(max_notebook_mb * 1024 * 1024)
    found: list[_Found] = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        found += _top_level(root, entry, limit)
    # An unreadable notebook in a batch of one lesson is graded as that lesson (0 points,
    # but a row per check), so the instructor sees it where they look.
    seen = {f.lesson for f in found if f.lesson}
    fallback = wanted or (seen.pop() if len(seen) == 1 else None)
    return [Submission(root / f.relative, f.learner, wanted or f.lesson or fallback,
                       f.relative, f.problem, f.handed_in, str(root), f.digest)
            for f in found if not (wanted and f.lesson and f.lesson != wanted)]


def _top_level(root: Path, entry: os.DirEntry, limit: int) -> list[_Found]:
    kind = _kind(entry)
    if kind == "a folder":
        return _learner_folder(root, entry, limit)
    if kind == "a regular file" and entry.name.endswith(".ipynb"):
        return [_notebook(root, entry.name, _learner_of(entry.name), entry.name, limit)]
    what = kind + ("" if kind != "a regular file" else " whose name does not end in .ipynb")
    return [_Found(entry.name, _learner_of(entry.name), entry.name,
                   f"refused: {what}, not a notebook; hand in NAME.ipynb or a folder NAME/ "
                   "of notebooks" + (" (links are never followed)" if "link" in kind else ""))]


def _learner_folder(root: Path, folder: os.DirEntry, limit: int) -> list[_Found]:
    shown = folder.name + "/"
    try:
        entries = sorted(os.scandir(folder.path), key=lambda e: e.name)
    except OSError as exc:
        return [_Found(folder.name, folder.name, shown,
                       f"refused: cannot list the folder ({exc.strerror})")]
    found = []
    for entry in entries:
        kind, relative = _kind(entry), f"{folder.name}/{entry.name}"
        if kind == "a regular file" and entry.name.endswith(".ipynb"):
            found.append(_notebook(root, relative, folder.name, shown, limit))
        elif kind not in ("a regular file", "a folder") or entry.name.endswith(".ipynb"):
            found.append(_Found(relative, folder.name, shown,
                                f"refused: {entry.name!r} in the folder is {kind}, not a "
                                "notebook file"))
    return found or [_Found(folder.name, folder.name, shown,
                            "refused: a folder without any .ipynb notebook in it")]


def _kind(entry: os.DirEntry) -> str:
    try:
        return describe_mode(entry.stat(follow_symlinks=False).st_mode)
    except OSError:
        return "an entry that cannot be read"


def _notebook(root: Path, relative: str, learner: str, shown: str, limit: int) -> _Found:
    try:
        data = read_safely(root, relative, limit)
    except SubmissionRefused as exc:
        return _Found(relative, learner, shown, str(exc))
    found = _Found(relative, learner, shown, digest=hashlib.sha256(data).hexdigest())
    try:
        notebook = nbtools.read_submission(data)
    except nbtools.SubmissionError:
        notebook = None
    found.lesson = nbtools.lesson_of(notebook, Path(relative))
    return found


_SYMLINK = ("refused: a symbolic link, not a notebook; hand in the notebook file itself "
            "(links are never followed)")


def _learner_of(name: str) -> str:
    return name[: -len(".ipynb")] if name.endswith(".ipynb") and len(name) > 6 else name


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
