"""``labkit regrade``: execute every submission, then grade it with visible and hidden checks.

Layout of OUT:

    OUT/results/<learner>__<lesson>.json   one per submission, written as soon as it is graded
    OUT/grades.csv, summary.csv, report.html, feedback/   rebuilt from results/ (report.py)

A result is reused on the next run when neither the submission nor the check code
changed (``--force`` regrades anyway), so an interrupted batch resumes and an
edited check regrades only what it grades.
"""
from __future__ import annotations

import contextlib
import functools
import json
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from labkit.grading import checks as graded
from labkit.grading import engine, report
from labkit.grading import notebook as nbtools
from labkit.grading.submissions import Submission, discover, parse_shard, shard

#: Bump when the result format or grading rules change: old results are then regraded.
FORMAT = 1
DEFAULT_TIMEOUT = 120.0
OUTPUT_LIMIT = 4000  # characters of a cell's output kept for the report


# --- one worker process ---------------------------------------------------------
class Worker:
    """A grader process: one emulator (reset per submission) and a warm kernel pool."""

    def __init__(self, scratch: Path, timeout: float = DEFAULT_TIMEOUT):
        from labkit import netguard
        from labkit.emulator import Emulator

        netguard.install()  # the grader itself talks to loopback only
        self.scratch, self.timeout = Path(scratch), timeout
        self.emulator = Emulator(self.scratch / f"emulator-{os.getpid()}").start()
        self.pool = engine.KernelPool(self.scratch, self.emulator)
        self.pool.fill()

    def grade(self, submission: Submission) -> dict:
        """Execute one submission in a fresh kernel and a reset emulator, then run its checks."""
        result = _new_result(submission)
        try:
            notebook = nbtools.read_submission(submission.path)
        except nbtools.SubmissionError as exc:
            return _finish(result, "invalid", str(exc), [], submission)
        if not submission.lesson:
            return _finish(result, "invalid", "cannot tell which lesson this notebook is "
                           "(no labkit.start(..., lesson=...) cell); pass --lesson", [], submission)
        result["notes"] = _structure_notes(notebook, submission.lesson)
        self.emulator.reset()
        kernel = self.pool.take()
        run = engine.execute(kernel, notebook, submission.lab_name, self.timeout)
        result["output"], cut = _output_excerpt(run.notebook, OUTPUT_LIMIT)
        result["notes"] += cut
        result["seconds"] = round(run.seconds, 2)
        checked = run_checks(self.emulator, submission, kernel.home)
        return _finish(result, run.status, run.reason, checked, submission)

    def close(self) -> None:
        self.pool.close()
        self.emulator.stop()



def run_checks(emulator, submission: Submission, lab_home: Path) -> list[dict]:
    """Run every graded check (visible and hidden) in THIS process against the emulator."""
    from labkit import checks

    lab = _grader_lab(emulator, submission.lab_name, lab_home)
    with _environment(lab.environ):
        return [_check_row(checks.run(lab, spec.id), spec.hidden)
                for spec in graded.graded_checks(submission.lesson)]


def _grader_lab(emulator, name: str, lab_home: Path):
    """A Lab over the learner's emulator state and lab-local profiles, built by the grader."""
    from labkit import config, target
    from labkit.credentials import LabFiles
    from labkit.lab import Lab
    from labkit.names import Names

    folders = sorted((lab_home / name).glob("emulator-*/aws"), key=lambda p: p.stat().st_mtime)
    files = LabFiles(folders[-1] if folders else lab_home / "grader" / "aws")
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
    return {"check": result.id, "points": result.points, "max_points": result.max_points,
            "status": "passed" if result.passed else ("error" if result.error else "failed"),
            "message": result.message, "hint": "" if result.passed else result.hint,
            "hidden": hidden}


def _structure_notes(notebook, lesson: str) -> list[str]:
    from labkit import config, course

    try:
        source = config.repo_root() / "notebooks" / course.get(lesson).notebook
        return nbtools.structure_notes(notebook, nbtools.read_submission(source))
    except (ValueError, nbtools.SubmissionError):
        return []


def _new_result(submission: Submission) -> dict:
    return {"format": FORMAT, "learner": submission.learner, "lesson": submission.lesson or "?",
            "name": submission.lab_name, "file": str(submission.path),
            "sha256": submission.sha256(), "fingerprint": _fingerprint(submission),
            "notes": [], "output": "", "seconds": 0.0}


def _fingerprint(submission: Submission) -> str:
    return graded.fingerprint(submission.lesson) if submission.lesson else ""


def _finish(result: dict, status: str, reason: str, checked: list[dict],
            submission: Submission) -> dict:
    """Fill in execution status, and one row per check even when nothing could run."""
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
    and a note for every cell whose output had to be cut."""
    if notebook is None:
        return "", []
    texts = [(index + 1, _cell_text(cell)) for index, cell in enumerate(notebook.cells)
             if cell.get("cell_type") == "code" and cell.get("outputs")]
    if not texts:
        return "", []
    notes = [f"cell {number} printed {len(text):,} characters (cut to {limit:,} in the report)"
             for number, text in texts if len(text) > limit]
    failed = [(n, t) for (n, t), cell in zip(texts, [c for c in notebook.cells if
              c.get("cell_type") == "code" and c.get("outputs")])
              if any(o.get("output_type") == "error" for o in cell["outputs"])]
    number, text = failed[-1] if failed else max(texts, key=lambda item: len(item[1]))
    return f"[cell {number}]\n" + truncate(text, limit), notes


def _cell_text(cell) -> str:
    parts = []
    for output in cell["outputs"]:
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") == "error":
            parts.append(f"{output.get('ename')}: {output.get('evalue')}")
        else:
            parts.append(str(output.get("data", {}).get("text/plain", "")))
    return "".join(parts)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters cut]"


# --- worker process plumbing ----------------------------------------------------
_WORKER: Worker | None = None


def _init_worker(scratch: str, timeout: float) -> None:
    global _WORKER
    from multiprocessing import util

    _WORKER = Worker(Path(scratch), timeout)
    # Pool workers leave with os._exit: atexit would not run, multiprocessing finalizers do.
    util.Finalize(None, _WORKER.close, exitpriority=10)


def _grade_in_worker(submission: Submission, out: str) -> dict:
    result = _WORKER.grade(submission)
    write_result(Path(out), submission, result)
    return result


# --- results on disk ------------------------------------------------------------
def result_path(out: Path, submission: Submission) -> Path:
    return out / "results" / f"{submission.key}.json"


def write_result(out: Path, submission: Submission, result: dict) -> None:
    path = result_path(out, submission)
    path.parent.mkdir(parents=True, exist_ok=True)
    report.write_atomic(path, json.dumps(result, indent=1, sort_keys=True))


def up_to_date(out: Path, submission: Submission) -> bool:
    """True when ``out`` holds a result for this exact file graded by the current checks."""
    try:
        old = json.loads(result_path(out, submission).read_text())
    except (OSError, ValueError):
        return False
    return (old.get("format") == FORMAT and old.get("sha256") == submission.sha256()
            and old.get("fingerprint") == _fingerprint(submission)
            and old.get("execution", {}).get("status") != "crashed")


# --- the batch --------------------------------------------------------------------
def regrade(submissions_dir, out, lesson=None, jobs=2, timeout=DEFAULT_TIMEOUT,
            shard_spec=None, force=False, progress=True) -> dict:
    """Grade a folder of submissions into ``out``; return counts {graded, skipped, total}.

    Never raises for a bad submission: each one gets its rows with the reason.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    chosen = shard(discover(submissions_dir, lesson), parse_shard(shard_spec))
    todo = [s for s in chosen if force or not up_to_date(out, s)]
    started = time.perf_counter()
    if todo:
        _run_batch(todo, out, max(1, jobs), timeout, progress)
    report.write_reports(out)
    return {"total": len(chosen), "graded": len(todo), "skipped": len(chosen) - len(todo),
            "seconds": round(time.perf_counter() - started, 1)}


def _run_batch(todo: list[Submission], out: Path, jobs: int, timeout: float,
               progress: bool) -> None:
    from tqdm import tqdm

    bar = tqdm(total=len(todo), unit="notebook", desc="regrade", disable=not progress)
    attempts: dict[str, int] = {}
    pending = list(todo)
    with tempfile.TemporaryDirectory(prefix="labkit-grade-") as scratch:
        while pending:
            pending = _one_pool(pending, out, jobs, timeout, scratch, bar, attempts)
    bar.close()


def _one_pool(pending, out, jobs, timeout, scratch, bar, attempts) -> list[Submission]:
    """Grade ``pending`` in one process pool; return what must be retried in a new pool.

    A submission can kill its grader worker (e.g. by signalling its parent). The
    submissions that were in flight are retried once; a second crash is recorded.
    """
    retry = []
    workers = min(jobs, len(pending))
    # spawn, not fork: each worker imports the check code as it is on disk now, and
    # inherits no state (sys.modules, registry, threads) from the calling process.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(scratch, timeout)) as pool:
        futures = {pool.submit(_grade_in_worker, s, str(out)): s for s in pending}
        for future in as_completed(futures):
            submission = futures[future]
            try:
                future.result()
            except BrokenProcessPool:
                attempts[submission.key] = attempts.get(submission.key, 0) + 1
                if attempts[submission.key] < 2:
                    retry.append(submission)
                    continue
                _record_crash(out, submission, "the grader worker died while grading it")
            except Exception as exc:  # a grader bug must not lose the other results
                _record_crash(out, submission, f"grader error: {type(exc).__name__}: {exc}")
            bar.update(1)
    return retry


def _record_crash(out: Path, submission: Submission, reason: str) -> None:
    result = _new_result(submission)
    write_result(out, submission, _finish(result, "crashed", reason, [], submission))


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
            if path.parent.resolve() != (target / "results").resolve():
                report.write_atomic(target / "results" / path.name, path.read_text())
            count += 1
    report.write_reports(target)
    return count

