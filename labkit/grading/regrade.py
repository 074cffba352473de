"""``labkit regrade``: execute every submission, then grade it with visible and hidden checks.

Layout of OUT:

    OUT/results/<key>.json   one per submission, written by the batch's parent process
    OUT/grades.csv, summary.csv, report.html, histogram.png, feedback/   (report.py)

Who can do what: learner code runs only in sandboxed kernels (labkit.grading.sandbox)
that cannot see OUT, the submissions, the scratch folder or the instructor's files.
The grader workers run the checks and hand each result to the parent, which signs it
(HMAC-SHA256 with a key no kernel can read, see :func:`grader_key`) before writing it.
A stored result is reused on the next run only when its signature holds and neither
the submission nor the check code changed (``--force`` regrades anyway); a result
whose signature fails is regraded, and the reports show it as "unverified".

The parent is a watchdog: each worker grades one submission at a time, and a worker
that dies, or does not answer within the notebook timeout plus a margin (stopped,
stuck), is killed and replaced: only the submission it held is lost (recorded as
crashed). The whole batch has a deadline too; whatever is not graded by then gets
its rows with that reason, and every report is written.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import hmac
import json
import multiprocessing
import os
import re
import secrets
import shutil
import stat
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

from labkit.grading import checks as graded
from labkit.grading import egress, engine, report
from labkit.grading import notebook as nbtools
from labkit.grading.submissions import (DEFAULT_MAX_NOTEBOOK_MB, Submission,
                                        SubmissionRefused, discover, parse_shard, shard)

#: Bump when the result format or grading rules change: old results are then regraded.
FORMAT = 3
DEFAULT_TIMEOUT = 600.0       # a whole notebook
DEFAULT_CELL_TIMEOUT = 120.0  # one cell
DEFAULT_MEMORY_MB = 2048
WARM_UP_CPU = 60              # CPU seconds a kernel may spend beyond --timeout (imports)
CHECK_MARGIN = 120.0          # seconds a worker gets beyond --timeout for kernel and checks
START_MARGIN = 180.0          # seconds a new worker gets to start its emulator and kernel
OUTPUT_LIMIT = 4000  # characters of a cell's output kept for the report
MESSAGE_LIMIT = 500
KEY_VARIABLE = "LABKIT_GRADER_KEY"
#: Fresh kernels a submission gets when the grader fails it (a kernel that does not start
#: or answer): enough to ride out a passing fault, few enough to end a persistent one.
KERNEL_ATTEMPTS = 3
#: Worker processes that may fail to start (emulator, kernel pool) before the batch
#: gives up and records what is left as not graded.
WORKER_ATTEMPTS = 3
#: The status of a submission the grader could not grade (its fault, or the batch
#: deadline): 0 points awarded but none lost, excluded from class figures, regraded next run.
NOT_GRADED = "not-graded"
GRADER_ERROR_PREFIX = "not graded: grader error"


def grader_error(failures: list[str], tried: str = "fresh kernels") -> str:
    """The reason of a row the grader failed: what went wrong, on how many tries."""
    last = failures[-1] if failures else "unknown"
    return (f"{GRADER_ERROR_PREFIX} ({len(failures)} attempt(s) on {tried}; no points "
            f"lost, regraded on the next run): {last}")


# --- one worker process ---------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """How a batch runs (the CLI's flags)."""

    timeout: float = DEFAULT_TIMEOUT            # a whole notebook, seconds
    cell_timeout: float = DEFAULT_CELL_TIMEOUT  # one cell, seconds
    sandbox: bool = True                        # bubblewrap around every kernel
    memory_mb: int = DEFAULT_MEMORY_MB          # address space of a kernel and its children
    max_notebook_mb: float = DEFAULT_MAX_NOTEBOOK_MB
    batch_timeout: float | None = None          # the whole batch; None: from the counts
    lesson: str | None = None                   # the batch's usual lesson: spare kernels' one

    def limits(self):
        from labkit.grading.sandbox import Limits

        return Limits(memory=self.memory_mb * 1024 * 1024,
                      cpu_seconds=int(self.timeout + WARM_UP_CPU))


class Worker:
    """A grader process: one emulator (reset per submission) and a warm kernel pool."""

    def __init__(self, scratch: Path, settings: Settings | float = DEFAULT_TIMEOUT,
                 hide: tuple[Path, ...] = ()):
        from labkit import config, netguard
        from labkit.emulator import Emulator
        from labkit.grading import sandbox

        settings = settings if isinstance(settings, Settings) else Settings(timeout=settings)
        netguard.install()  # the grader itself talks to loopback only
        self.scratch, self.settings = Path(scratch), settings
        box = None
        if settings.sandbox:
            box = sandbox.Sandbox.for_worker(sandbox.require_bwrap(), config.repo_root(),
                                             self.scratch, hide=(self.scratch, *hide),
                                             limits=settings.limits())
        self.limits = box.in_force() if box else ["no sandbox (--no-sandbox)"]
        self.emulator = Emulator(self.scratch / f"emulator-{os.getpid()}")
        self.pool = engine.KernelPool(self.scratch, self.emulator, sandbox=box)
        self.pool.lesson = settings.lesson  # the first spare is made for the usual lesson
        if box is not None:
            self.pool.fill()  # a sandboxed kernel starts without its emulator: start both
            self.emulator.start()
        else:
            self.emulator.start()  # an unsandboxed kernel's attach file names the port
            self.pool.fill()
        # From now on this process connects to its own emulator only, and what serves a
        # kernel connects nowhere: moto's deliveries to URLs are refused (egress.py).
        egress.install(self.emulator.port)

    def grade(self, submission: Submission) -> dict:
        """Execute one submission in a fresh kernel and a reset emulator, then run its checks."""
        result = _new_result(submission)
        result["limits"] = self.limits
        if submission.problem:
            return _finish(result, "invalid", submission.problem, [], submission)
        try:
            # Read once, without following links, type and size checked on the open file;
            # what is graded is these bytes (a swap after discovery is refused, not graded).
            data = submission.read(int(self.settings.max_notebook_mb * 1024 * 1024))
            notebook = nbtools.read_submission(data, result["notes"])
        except (SubmissionRefused, nbtools.SubmissionError) as exc:
            return _finish(result, "invalid", str(exc), [], submission)
        if not submission.lesson:
            return _finish(result, "invalid", "cannot tell which lesson this notebook is "
                           "(no labkit.start(..., lesson=...) cell); pass --lesson", [], submission)
        result["notes"] += _structure_notes(notebook, submission.lesson)
        failures = []
        for _ in range(KERNEL_ATTEMPTS):
            graded_now = self._attempt(submission, notebook, result, failures)
            if graded_now is not None:
                return graded_now
        return _finish(result, NOT_GRADED, grader_error(failures), [], submission)

    def _attempt(self, submission: Submission, notebook, result: dict,
                 failures: list[str]) -> dict | None:
        """One try on a fresh kernel and a reset emulator: the finished result, or None
        (the reason appended to ``failures``) when the grader failed before learner code ran."""
        phases, clock = {}, time.perf_counter()

        def lap(name: str) -> None:  # seconds per phase, for benchmarks/bench_regrade.py
            nonlocal clock
            now = time.perf_counter()
            phases[name] = round(now - clock, 3)
            clock = now

        try:
            self.emulator.reset()
            lap("reset")
            kernel = self.pool.take(submission.lesson)
            lap("kernel")
        except Exception as exc:  # the kernel or the emulator: ours, never the learner's
            failures.append(f"{type(exc).__name__}: {exc}")
            return None
        try:
            run = engine.execute(kernel, notebook, submission.lab_name, self.settings.timeout,
                                 self.settings.cell_timeout)
            lap("notebook")
            if run.status == engine.GRADER_ERROR:
                failures.append(run.reason)
                return None
            result["output"], cut = _output_excerpt(run.notebook, OUTPUT_LIMIT)
            result["notes"] += run.notes + cut + [f"graded on a fresh kernel after: {f}"
                                                  for f in failures]
            result["seconds"] = round(run.seconds, 2)
            checked = run_checks(self.emulator, submission, kernel.home,
                                 self.scratch / f"grader-{os.getpid()}")
            lap("checks")
        finally:
            kernel.cleanup()
        lap("cleanup")
        result["phases"] = phases
        return _finish(result, run.status, run.reason, checked, submission)

    def close(self) -> None:
        self.pool.close()
        self.emulator.stop()


def run_checks(emulator, submission: Submission, lab_home: Path,
               private: Path | None = None) -> list[dict]:
    """Run every graded check (visible and hidden) in THIS process against the emulator.

    ``private``: a grader folder no kernel can reach, for the lab-local AWS files the
    checks read (rebuilt from the learner's with key ids, secrets and regions only).
    """
    from labkit import checks

    lab = _grader_lab(emulator, submission.lab_name, lab_home,
                      private or lab_home / "grader")
    with _environment(lab.environ):
        return [_check_row(checks.run(lab, spec.id), spec.hidden)
                for spec in graded.graded_checks(submission.lesson)]


def _grader_lab(emulator, name: str, lab_home: Path, private: Path):
    """A Lab over the learner's emulator state and lab-local profiles, built by the grader.

    Nothing the learner wrote is used as it is: only the key id, secret and region of
    each profile are copied into grader-private files (no credential_process, no
    other setting, no file reached through a symbolic link).
    """
    from labkit import config, target
    from labkit.credentials import LabFiles
    from labkit.lab import Lab
    from labkit.names import Names

    shutil.rmtree(private, ignore_errors=True)
    files = LabFiles(private / "aws")
    _write_profiles(files, learner_profiles(lab_home, name))
    region = config.region()
    # The checks read as the lab's root: whatever the learner did to "default".
    files.write_profile("default", emulator.root.access_key_id,
                        emulator.root.secret_access_key, region)
    env = {**emulator.client_environ(), **files.environ(), "AWS_DEFAULT_REGION": region,
           "AWS_REGION": region, "LABKIT_NAME": name}
    lab = Lab(Names.for_learner(name), target.EMULATOR, region, emulator.account_id,
              files, emulator, env)
    lab.session = functools.lru_cache(maxsize=None)(functools.partial(_session, lab))
    return lab


_KEY_ID = re.compile(r"[A-Z0-9]{16,128}")
_SECRET = re.compile(r"[A-Za-z0-9/+=_-]{1,128}")
_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+){1,3}")
_PROFILE = re.compile(r"[A-Za-z0-9_.+=,@-]{1,64}")
_FILE_LIMIT = 256 * 1024


def learner_profiles(lab_home: Path, name: str) -> dict[str, dict[str, str]]:
    """profile -> {key_id, secret, region} from the learner's newest lab-local AWS files.

    Read as data only: no symbolic link is followed, files over 256 KiB are ignored,
    values that do not look like a key id, secret or region are dropped.
    """
    folder = _newest_aws_folder(Path(lab_home) / name)
    if folder is None:
        return {}
    creds, conf = _read_ini(folder / "credentials"), _read_ini(folder / "config")
    profiles: dict[str, dict[str, str]] = {}
    for section in creds.sections():
        key = creds.get(section, "aws_access_key_id", fallback="").strip()
        secret = creds.get(section, "aws_secret_access_key", fallback="").strip()
        if _PROFILE.fullmatch(section) and _KEY_ID.fullmatch(key) and _SECRET.fullmatch(secret):
            profiles[section] = {"key_id": key, "secret": secret}
    for section in conf.sections():
        profile = "default" if section == "default" else section.removeprefix("profile ").strip()
        region = conf.get(section, "region", fallback="").strip()
        if _PROFILE.fullmatch(profile) and _REGION.fullmatch(region):
            profiles.setdefault(profile, {})["region"] = region
    return profiles


def _newest_aws_folder(base: Path) -> Path | None:
    if not _plain_dir(base):
        return None
    folders = [p / "aws" for p in base.iterdir()
               if p.name.startswith("emulator-") and _plain_dir(p) and _plain_dir(p / "aws")]
    return max(folders, key=lambda p: p.lstat().st_mtime, default=None)


def _plain_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False


def _read_ini(path: Path):
    import configparser

    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return parser
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_size <= _FILE_LIMIT:
            with os.fdopen(fd, "rb", closefd=False) as handle:
                parser.read_string(handle.read(_FILE_LIMIT).decode("utf-8", "replace"))
    except (configparser.Error, OSError, ValueError):
        return configparser.RawConfigParser(strict=False, interpolation=None)
    finally:
        os.close(fd)
    return parser


def _write_profiles(files, profiles: dict[str, dict[str, str]]) -> None:
    import configparser

    creds = configparser.RawConfigParser(interpolation=None)
    conf = configparser.RawConfigParser(interpolation=None)
    for profile, values in profiles.items():
        if "key_id" in values:
            creds[profile] = {"aws_access_key_id": values["key_id"],
                              "aws_secret_access_key": values["secret"]}
        if "region" in values:
            conf["default" if profile == "default" else f"profile {profile}"] = {
                "region": values["region"]}
    files._write(files.credentials, creds)
    files._write(files.config, conf)


_LOADER = None


def _session(lab, profile: str | None = None):
    """A boto3 session for the grader's checks, sharing one model loader per process.

    Checks create many clients (one per profile); parsing botocore's service
    models once per grader instead of once per client saves seconds per submission.
    """
    global _LOADER
    import boto3
    import botocore.loaders
    import botocore.session

    core = botocore.session.Session(profile=profile)
    _LOADER = _LOADER or botocore.loaders.create_loader()
    core.register_component("data_loader", _LOADER)
    return boto3.session.Session(botocore_session=core, region_name=lab.region)


@contextlib.contextmanager
def _environment(env: dict):
    """Process environment for the checks (boto3 and the aws CLI read it), restored after."""
    import boto3

    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[key]
    os.environ.update(env)
    boto3.DEFAULT_SESSION = None
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        boto3.DEFAULT_SESSION = None


def _check_row(result, hidden: bool) -> dict:
    # One bounded, sanitised line: a check's exception text never carries a traceback.
    return {"check": result.id, "points": result.points, "max_points": result.max_points,
            "status": "passed" if result.passed else ("error" if result.error else "failed"),
            "message": engine.one_line(result.message, MESSAGE_LIMIT),
            "hint": "" if result.passed else engine.one_line(result.hint, MESSAGE_LIMIT),
            "hidden": hidden}


def _structure_notes(notebook, lesson: str) -> list[str]:
    try:
        return nbtools.structure_notes(notebook, _instructor_notebook(lesson))
    except (ValueError, TypeError, AttributeError, nbtools.SubmissionError):
        return []


@functools.lru_cache(maxsize=None)
def _instructor_notebook(lesson: str):
    from labkit import config, course

    return nbtools.read_submission(config.repo_root() / "notebooks" / course.get(lesson).notebook)


def _new_result(submission: Submission) -> dict:
    return {"format": FORMAT, "learner": submission.learner, "lesson": submission.lesson or "?",
            "handed_in": submission.handed_in or submission.relative or submission.learner,
            "key": submission.key, "name": submission.lab_name,
            "file": submission.relative or str(submission.path),
            "sha256": submission.sha256(), "fingerprint": _fingerprint(submission),
            "notes": [], "output": "", "seconds": 0.0}


def _fingerprint(submission: Submission) -> str:
    return graded.fingerprint(submission.lesson) if submission.lesson else ""


def _finish(result: dict, status: str, reason: str, checked: list[dict],
            submission: Submission) -> dict:
    """Fill in execution status, and one row per check even when nothing could run."""
    reason = engine.one_line(reason, MESSAGE_LIMIT)
    result["execution"] = {"status": status, "reason": reason}
    if not checked:
        specs = graded.graded_checks(submission.lesson) if submission.lesson else []
        checked = [{"check": s.id, "points": 0, "max_points": s.points, "status": "not-run",
                    "message": reason, "hint": "", "hidden": s.hidden} for s in specs]
        checked = checked or [{"check": "-", "points": 0, "max_points": 0, "status": "not-run",
                               "message": reason, "hint": "", "hidden": False}]
    elif status != "ok":
        for row in checked:
            if row["status"] != "passed":
                row["message"] += f" (the notebook did not finish: {reason})"
    result["checks"] = checked
    return result


def _output_excerpt(notebook, limit: int) -> tuple[str, list[str]]:
    """The output of the cell that failed (else the largest), cut to ``limit`` characters,
    and a note for every cell whose output had to be cut. Sizes are summed, never joined:
    only ``limit`` characters of one cell are ever copied."""
    if notebook is None:
        return "", []
    cells = [(engine.learner_cell_number(notebook, index), cell)
             for index, cell in enumerate(notebook.cells)
             if cell.get("cell_type") == "code" and cell.get("outputs")]
    if not cells:
        return "", []
    sizes = {number: sum(map(_output_size, cell["outputs"])) for number, cell in cells}
    notes = [f"cell {number} printed {size:,} characters (cut to {limit:,} in the report)"
             for number, size in sizes.items() if size > limit]
    failed = [(n, c) for n, c in cells
              if any(o.get("output_type") == "error" for o in c["outputs"])]
    number, cell = failed[-1] if failed else max(cells, key=lambda item: sizes[item[0]])
    text = _cell_text(cell, limit + 1)
    if sizes[number] > limit:
        text = text[:limit] + f"\n[... {sizes[number] - limit} more characters cut]"
    return f"[cell {number}]\n" + text, notes


def _output_text(output) -> str:
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    if output.get("output_type") == "error":
        return f"{output.get('ename')}: {output.get('evalue')}"
    return str(output.get("data", {}).get("text/plain", ""))


def _output_size(output) -> int:
    return len(_output_text(output))


def _cell_text(cell, limit: int) -> str:
    """At most ``limit`` characters of the cell's text outputs, in order."""
    parts, room = [], limit
    for output in cell["outputs"]:
        if room <= 0:
            break
        piece = _output_text(output)[:room]
        parts.append(piece)
        room -= len(piece)
    return "".join(parts)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters cut]"


# --- signed results on disk ------------------------------------------------------
def grader_key() -> bytes:
    """The key results are signed with: $LABKIT_GRADER_KEY (set the same one in every
    shard's job to merge them), else a random key kept in the grader's LABKIT_HOME
    (mode 0600; never mounted into a kernel's sandbox)."""
    from labkit import config

    configured = os.environ.get(KEY_VARIABLE)
    if configured:
        return configured.encode()
    path = config.labkit_home() / "grader" / "results.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        from labkit.files import write_private

        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(path, secrets.token_hex(32).encode())
        return path.read_bytes()


def _signature(result: dict, key: bytes) -> str:
    body = json.dumps({k: v for k, v in result.items() if k != "signature"},
                      sort_keys=True, ensure_ascii=True)
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def sign(result: dict, key: bytes | None = None) -> dict:
    result["signature"] = _signature(result, key or grader_key())
    return result


def verified(result: dict, key: bytes | None = None) -> bool:
    """True when ``result`` carries this grader's signature (so nobody else wrote it)."""
    signature = result.get("signature")
    return isinstance(signature, str) and hmac.compare_digest(
        signature, _signature(result, key or grader_key()))


def result_path(out: Path, submission: Submission) -> Path:
    return out / "results" / f"{submission.key}.json"


def write_result(out: Path, submission: Submission, result: dict) -> None:
    path = result_path(out, submission)
    path.parent.mkdir(parents=True, exist_ok=True)
    report.write_atomic(path, json.dumps(sign(result), indent=1, sort_keys=True))


def up_to_date(out: Path, submission: Submission) -> bool:
    """True when ``out`` holds this grader's result for this exact file and these checks."""
    try:
        old = json.loads(result_path(out, submission).read_text())
    except (OSError, ValueError):
        return False
    return (isinstance(old, dict) and verified(old) and old.get("format") == FORMAT
            and old.get("sha256") == submission.sha256() and not submission.problem
            and old.get("fingerprint") == _fingerprint(submission)
            and old.get("execution", {}).get("status") not in _RETRY_STATUSES)


_RETRY_STATUSES = ("crashed", NOT_GRADED)


# --- the batch --------------------------------------------------------------------
def regrade(submissions_dir, out, lesson=None, jobs=2, timeout=DEFAULT_TIMEOUT,
            shard_spec=None, force=False, progress=True, cell_timeout=None, sandbox=True,
            memory_mb=DEFAULT_MEMORY_MB, max_notebook_mb=DEFAULT_MAX_NOTEBOOK_MB,
            batch_timeout=None) -> dict:
    """Grade a folder of submissions into ``out``; return counts {graded, skipped, total,
    not_graded, seconds} (not_graded: rows the grader failed or the deadline cut).

    Never raises for a bad submission: each one gets its rows with the reason.
    Raises SandboxUnavailable (with the install hint) when ``sandbox`` and no bwrap.
    """
    from labkit.grading.sandbox import require_bwrap

    if sandbox:
        require_bwrap()
    settings = Settings(timeout=timeout, cell_timeout=cell_timeout or min(timeout,
                        DEFAULT_CELL_TIMEOUT), sandbox=sandbox, memory_mb=memory_mb,
                        max_notebook_mb=max_notebook_mb, batch_timeout=batch_timeout)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    chosen = shard(discover(submissions_dir, lesson, max_notebook_mb), parse_shard(shard_spec))
    todo = [s for s in chosen if force or not up_to_date(out, s)]
    lessons = [s.lesson for s in todo if s.lesson and not s.problem]
    if lessons:
        settings = dataclasses.replace(settings, lesson=max(set(lessons), key=lessons.count))
    started = time.perf_counter()
    if todo:
        hide = _grader_folders(submissions_dir, out)
        _run_batch(todo, out, max(1, jobs), settings, hide, progress)
    report.write_reports(out, verify=verified)
    return {"total": len(chosen), "graded": len(todo), "skipped": len(chosen) - len(todo),
            "not_graded": sum(_status(out, s) == NOT_GRADED for s in chosen),
            "seconds": round(time.perf_counter() - started, 1)}


def _status(out: Path, submission: Submission) -> str | None:
    """The execution status stored for ``submission`` in ``out`` (None: no result)."""
    try:
        return json.loads(result_path(out, submission).read_text())["execution"]["status"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _grader_folders(submissions_dir, out) -> tuple[Path, ...]:
    from labkit import config

    return tuple(Path(os.path.abspath(p)) for p in
                 (submissions_dir, out, graded.hidden_dir(), config.labkit_home()))


def batch_deadline(count: int, jobs: int, settings: Settings) -> float:
    """Seconds the whole batch may take: every round of ``jobs`` at its worst, plus start-up."""
    if settings.batch_timeout:
        return settings.batch_timeout
    rounds = -(-count // max(1, jobs))
    return START_MARGIN + rounds * (settings.timeout + CHECK_MARGIN)


def _worker_main(connection, scratch: str, settings: Settings, hide) -> None:
    """A worker process: build a Worker, then grade what the parent sends, one at a time."""
    try:
        worker = Worker(Path(scratch), settings, hide)
    except BaseException as exc:
        connection.send(("fatal", f"{type(exc).__name__}: {exc}"))
        return
    connection.send(("ready", None))
    try:
        while True:
            submission = connection.recv()
            if submission is None:
                break
            try:
                result = worker.grade(submission)
            except Exception as exc:  # a grader bug costs this submission only
                result = _finish(_new_result(submission), "crashed",
                                 f"grader error: {type(exc).__name__}: {exc}", [], submission)
            connection.send(("done", result))
    except (EOFError, OSError):
        pass
    finally:
        worker.close()


class _Slot:
    """One worker process as the parent sees it."""

    def __init__(self, context, scratch: str, settings: Settings, hide):
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_worker_main, daemon=True,
                                       args=(theirs, scratch, settings, hide))
        self.process.start()
        theirs.close()
        self.ready, self.job, self.deadline = False, None, time.monotonic() + START_MARGIN

    def send(self, submission: Submission, seconds: float) -> None:
        self.job, self.deadline = submission, time.monotonic() + seconds
        self.connection.send(submission)

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        self.process.join(5)
        self.connection.close()


def _run_batch(todo, out: Path, jobs: int, settings: Settings, hide, progress: bool) -> None:
    from tqdm import tqdm

    bar = tqdm(total=len(todo), unit="notebook", desc="regrade", disable=not progress)
    # spawn, not fork: each worker imports the check code as it is on disk now, and
    # inherits no state (sys.modules, registry, threads) from the calling process.
    context = multiprocessing.get_context("spawn")
    # What is refused without running (a symbolic link, too large) needs no worker: its row
    # says why even when the batch runs out of time or workers.
    for submission in (s for s in todo if s.problem):
        write_result(out, submission, _finish(_new_result(submission), "invalid",
                                              submission.problem, [], submission))
        bar.update(1)
    todo = [s for s in todo if not s.problem]
    if not todo:
        bar.close()
        return
    pending = deque(todo)
    deadline = time.monotonic() + batch_deadline(len(todo), jobs, settings)
    per_job = settings.timeout + CHECK_MARGIN
    with tempfile.TemporaryDirectory(prefix="lkg-") as scratch:
        slots = [_Slot(context, scratch, settings, hide) for _ in range(min(jobs, len(todo)))]
        try:
            _watch(slots, pending, out, bar, deadline, per_job,
                   functools.partial(_Slot, context, scratch, settings, hide))
            reason = ("not graded: the batch deadline passed (raise --batch-timeout, or "
                      "grade it alone)")
        except _WorkersBroken as exc:
            reason = grader_error([f"the grader workers cannot start: {exc}"] * WORKER_ATTEMPTS,
                                  "fresh worker processes")
        finally:
            for slot in slots:
                with contextlib.suppress(Exception):
                    slot.connection.send(None)
            for slot in slots:
                slot.process.join(10)
                slot.kill()
        for slot in slots:  # what is still held or waiting is not graded, with the reason
            if slot.job is not None:
                pending.appendleft(slot.job)
        for submission in pending:
            _record_crash(out, submission, reason, NOT_GRADED)
    bar.close()


class _WorkersBroken(RuntimeError):
    """Worker after worker failed to start: the grader cannot grade anything now."""


def _watch(slots, pending, out: Path, bar, deadline: float, per_job: float, new_slot) -> None:
    """Hand out submissions and replace troubled workers until done or the deadline."""
    failures = 0
    while (pending or any(s.job for s in slots)) and time.monotonic() < deadline:
        for slot in slots:
            if slot.ready and slot.job is None and pending:
                slot.send(pending.popleft(), per_job)
        _step(slots, out, bar, timeout=1.0)
        for index, slot in enumerate(slots):
            problem = _trouble(slot)
            if problem is None:
                continue
            if slot.job is not None:
                _record_crash(out, slot.job, problem)
                slot.job = None
                bar.update(1)
            elif not slot.ready:
                failures += 1
                if failures >= WORKER_ATTEMPTS:
                    raise _WorkersBroken(problem)
            slot.kill()
            slots[index] = new_slot()


def _step(slots, out: Path, bar, timeout: float) -> None:
    """Wait up to ``timeout`` for a message from any worker and handle it."""
    live = {s.connection: s for s in slots if not s.connection.closed}
    for connection in wait(list(live), timeout=timeout):
        slot = live[connection]
        try:
            kind, payload = connection.recv()
        except (EOFError, OSError):
            continue  # the process died: _trouble() sees it
        if kind == "ready":
            slot.ready = True
        elif kind == "done" and slot.job is not None:
            write_result(out, slot.job, payload)
            slot.job = None
            bar.update(1)
        elif kind == "fatal":
            slot.fatal = payload
            slot.deadline = 0


def _trouble(slot) -> str | None:
    """Why ``slot``'s worker must be replaced, or None when it is fine."""
    if getattr(slot, "fatal", None):
        if not slot.ready and "SandboxUnavailable" in slot.fatal:
            raise RuntimeError(slot.fatal)
        return f"the grader worker could not start: {slot.fatal}"
    if not slot.process.is_alive():
        if slot.job is None:
            return f"the grader worker exited while starting (exit code {slot.process.exitcode})"
        return f"the grader worker died while grading it (exit code {slot.process.exitcode})"
    if time.monotonic() > slot.deadline:
        if slot.job is None:
            return "the grader worker did not start in time"
        return ("the grader worker did not answer in time (stopped or stuck) and was "
                "killed")
    return None


def _record_crash(out: Path, submission: Submission, reason: str,
                  status: str = "crashed") -> None:
    result = _new_result(submission)
    write_result(out, submission, _finish(result, status, reason, [], submission))


def merge(outs: list[str], into: str) -> int:
    """Combine the results of several OUT folders (shards) into ``into``; return how many."""
    target = Path(into)
    for out in outs:
        if not (Path(out) / "results").is_dir():
            raise ValueError(f"{out} holds no results/ folder: is it a regrade --out folder?")
    (target / "results").mkdir(parents=True, exist_ok=True)
    count = 0
    for out in outs:
        for path in sorted((Path(out) / "results").glob("*.json")):
            if path.is_symlink():
                continue
            if path.parent.resolve() != (target / "results").resolve():
                report.write_atomic(target / "results" / path.name, path.read_text())
            count += 1
    report.write_reports(target, verify=verified)
    return count
