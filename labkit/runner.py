"""Execute lessons headless (``make run``): executed notebooks and a summary under build/.

Fast the way regrading is (labkit.grading.engine): each of the ``jobs`` worker
processes starts ONE emulator and keeps a spare kernel warming up (labkit, boto3,
pandas and the builders already imported) while the current lesson runs, so a
lesson pays neither an emulator start nor those imports. Lessons go out longest
first, so two workers finish together.

Isolated and deterministic all the same: every lesson runs in a kernel of its own,
used once, against the worker's emulator ``reset()`` to an empty account just
before, with a private LABKIT_HOME (so, as alone, it rebuilds the lessons it starts
from); LABKIT_SHARED_LAB=0, so no learner's shared lab is touched.

Kernels are shut down without jupyter_client's SIGINT-first shutdown, whose
interrupt, landing while the kernel is still in a message handler, made ipykernel
log "[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel." after a lesson
that passed; and they talk over IPC sockets, not TCP (no plain-TCP warning per kernel).

On the AWS target (LABKIT_TARGET=aws in the environment) there is no emulator to
own: each lesson runs in a papermill kernel that inherits the environment (the
learner's opt-in, credentials or a sandbox playing the account), one after another.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from labkit import config, course, target as targets
from labkit.grading import engine

CELL_TIMEOUT = 600  # seconds; the kernel is stopped and we report a timeout
#: Rough seconds per lesson, to hand out the long ones first (build/summary.json wins).
EXPECTED_SECONDS = {"99": 30, "04": 25, "06": 12, "05": 12, "02": 10, "03": 8, "08": 8,
                    "07": 8, "01": 6, "00": 5}
#: What a spare kernel imports while it waits: what the lessons import.
#: (Not pandas: seven lessons of ten never import it.)
WARM_UP_EXTRA = "import labkit.checks\n"


@dataclass
class LessonRun:
    lesson: str
    title: str
    status: str  # "passed" | "failed" | "timeout"
    seconds: float
    checks_passed: int
    checks_total: int
    error: str = ""
    output: str = ""


def count_checks(notebook: dict) -> tuple[int, int]:
    """(passed, total) over the cells tagged "check" of an executed notebook."""
    passed = total = 0
    for cell in notebook.get("cells", []):
        if "check" not in cell.get("metadata", {}).get("tags", []):
            continue
        total += 1
        outputs = cell.get("outputs", [])
        ran = cell.get("execution_count") is not None
        if ran and not any(o.get("output_type") == "error" for o in outputs):
            passed += 1
    return passed, total


# --- one worker process -------------------------------------------------------------
class Worker:
    """An emulator (reset before each lesson) and a pool of warm, single-use kernels."""

    def __init__(self, scratch: Path, unstarted=None):
        from labkit import netguard
        from labkit.emulator import Emulator

        netguard.install()  # the runner itself talks to loopback only
        self.scratch, self.unstarted = Path(scratch), unstarted
        self.emulator = Emulator(self.scratch / f"emulator-{os.getpid()}").start()
        self.pool = QuietPool(self.scratch, self.emulator)
        self.pool.fill()

    def run(self, lesson_id: str, out_dir: str, name: str, timeout: float) -> LessonRun:
        import nbformat

        lesson = course.get(lesson_id)
        source = config.repo_root() / "notebooks" / lesson.notebook
        target = Path(out_dir) / lesson.notebook
        self.emulator.reset()
        kernel = self.pool.take(refill=self._more_to_come())
        done = engine.execute(kernel, nbformat.read(source, as_version=4), name, timeout)
        if done.notebook is not None:
            nbformat.write(done.notebook, str(target))
        status = {"ok": "passed", "timeout": "timeout"}.get(done.status, "failed")
        passed, total = count_checks(done.notebook) if done.notebook is not None else (0, 0)
        return LessonRun(lesson.id, lesson.title, status, round(done.seconds, 1), passed, total,
                         done.reason[:300], str(target))

    def _more_to_come(self) -> bool:
        """Count this lesson as started; True while lessons are left for a spare kernel."""
        if self.unstarted is None:
            return True
        with self.unstarted.get_lock():
            self.unstarted.value -= 1
            return self.unstarted.value > 0

    def close(self) -> None:
        self.pool.close()
        self.emulator.stop()


def _quiet_kill(kernel) -> None:
    """Stop a kernel with a shutdown request (no SIGINT first); kill it if it lingers."""
    from jupyter_core.utils import run_sync

    with contextlib.suppress(Exception):
        if kernel.client is not None:
            kernel.client.stop_channels()
        km = kernel.km
        if km.has_kernel:
            run_sync(km.request_shutdown)()
            run_sync(km.finish_shutdown)(waittime=5.0)  # kills it after 5 s
        run_sync(km.cleanup_resources)()


def _shutdown(km) -> None:
    from jupyter_core.utils import run_sync

    with contextlib.suppress(Exception):
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)


class QuietPool(engine.KernelPool):
    """engine.KernelPool with IPC sockets, a richer warm-up and a quiet shutdown."""

    def take(self, refill: bool = True) -> engine.WarmKernel:
        """A kernel nobody has used; a replacement warms up only if more lessons will come."""
        kernel = self._ready.pop(0) if self._ready else self._start_one()
        if refill:
            self.fill()
        kernel.finish_warm_up()
        return kernel

    def _start_one(self) -> engine.WarmKernel:
        from jupyter_client import BlockingKernelClient
        from jupyter_core.utils import run_sync

        from labkit.emulator import write_attach_file

        self._count += 1
        home = self.scratch / f"kernel-{os.getpid()}-{self._count}"
        home.mkdir(parents=True, exist_ok=True)
        write_attach_file(self.emulator, home / "attach.json")
        km = engine.ipc_manager(home / "ipc")  # connection file and sockets: this kernel's
        env = {**self._environ(home), "LABKIT_SHARED_LAB": "0"}
        run_sync(km.start_kernel)(env=env, cwd=str(home))
        client = BlockingKernelClient()
        client.load_connection_info(km.get_connection_info())
        # Shell only, as engine.KernelPool does (see there why).
        client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
        msg_id = client.execute(engine.WARM_UP + "\n" + WARM_UP_EXTRA, silent=True,
                                store_history=False)
        kernel = engine.WarmKernel(km, home, client, msg_id)
        kernel.kill = lambda: _quiet_kill(kernel)  # what engine.execute calls at the end
        return kernel


_WORKER: Worker | None = None


def _init_worker(scratch: str, unstarted) -> None:
    global _WORKER
    from multiprocessing import util

    _WORKER = Worker(Path(scratch), unstarted)
    # Pool workers leave with os._exit: atexit would not run, multiprocessing finalizers do.
    util.Finalize(None, _WORKER.close, exitpriority=10)


def _run_in_worker(lesson_id: str, out_dir: str, name: str, timeout: float) -> LessonRun:
    return _WORKER.run(lesson_id, out_dir, name, timeout)


# --- the batch ----------------------------------------------------------------------------
def run_lesson(lesson_id: str, out_dir: str, name: str = "demo",
               cell_timeout: int = CELL_TIMEOUT) -> LessonRun:
    """Execute one lesson in a fresh worker (an emulator, a kernel); never raises for a
    failing notebook."""
    return run_all(str(Path(out_dir).parent), [lesson_id], jobs=1, name=name,
                   cell_timeout=cell_timeout, lessons_dir=out_dir, summary=False)[0]


def run_all(out_dir: str = "build", lessons: list[str] | None = None, jobs: int = 2,
            name: str = "demo", cell_timeout: int = CELL_TIMEOUT, lessons_dir: str | None = None,
            summary: bool = True) -> list[LessonRun]:
    out = Path(out_dir)
    folder = Path(lessons_dir) if lessons_dir else out / "lessons"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [course.normalize(x) for x in lessons] if lessons else course.lesson_ids()
    if targets.choose() == targets.AWS:
        runs = [_run_inherited(lesson, folder, name, cell_timeout) for lesson in wanted]
        if summary:
            write_summary(out, runs)
        return runs
    order = sorted(wanted, key=lambda lesson: -_expected(out).get(lesson, 10))
    os.environ["LABKIT_NO_NETWORK"] = "1"
    os.environ["LABKIT_SHARED_LAB"] = "0"
    # spawn, not fork: a worker inherits no threads or sockets from this process.
    context = multiprocessing.get_context("spawn")
    unstarted = context.Value("i", len(order))
    with tempfile.TemporaryDirectory(prefix="labkit-run-") as scratch:
        with ProcessPoolExecutor(max(1, min(jobs, len(order))), mp_context=context,
                                 initializer=_init_worker, initargs=(scratch, unstarted)) as pool:
            futures = {lesson: pool.submit(_run_in_worker, lesson, str(folder), name,
                                           cell_timeout) for lesson in order}
            runs = [futures[lesson].result() for lesson in wanted]
    if summary:
        write_summary(out, runs)
    return runs


def _run_inherited(lesson_id: str, folder: Path, name: str, cell_timeout: int) -> LessonRun:
    """One lesson with papermill, in a kernel that inherits this environment (AWS target)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    lesson = course.get(lesson_id)
    source = config.repo_root() / "notebooks" / lesson.notebook
    target = folder / lesson.notebook
    started, status, error = time.perf_counter(), "passed", ""
    scratch = tempfile.mkdtemp(prefix="labkit-aws-")  # short: unix socket paths
    km = engine.ipc_manager(Path(scratch) / "ipc")  # a kernel papermill is given, not owns:
    try:
        papermill.execute_notebook(str(source), str(target), parameters={"NAME": name},
                                   kernel_name="python3", cwd=str(source.parent), km=km,
                                   progress_bar=False, execution_timeout=cell_timeout)
    except PapermillExecutionError as exc:
        status, error = "failed", f"{exc.ename}: {exc.evalue}".strip()
    except Exception as exc:  # noqa: BLE001 - timeouts and dead kernels arrive as others
        timed_out = "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower()
        status, error = ("timeout" if timed_out else "failed"), f"{type(exc).__name__}: {exc}"
    finally:
        _shutdown(km)  # ... so it is ours to end
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.perf_counter() - started
    passed, total = count_checks(json.loads(target.read_text())) if target.exists() else (0, 0)
    return LessonRun(lesson.id, lesson.title, status, round(seconds, 1), passed, total,
                     error.splitlines()[0][:300] if error else "", str(target))


def _expected(out: Path) -> dict[str, float]:
    """Seconds per lesson from the last run's summary, else EXPECTED_SECONDS."""
    try:
        return {**EXPECTED_SECONDS, **{r["lesson"]: r["seconds"] for r in
                                       json.loads((out / "summary.json").read_text())}}
    except (OSError, ValueError, KeyError, TypeError):
        return dict(EXPECTED_SECONDS)


def summary_table(runs: list[LessonRun]) -> str:
    lines = ["| lesson | title | status | seconds | checks passed |", "|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r.lesson} | {r.title} | {r.status} | {r.seconds:.1f} | "
                     f"{r.checks_passed}/{r.checks_total} |")
    for r in runs:
        if r.error:
            lines.append(f"\n{r.lesson}: {r.error} (see {r.output})")
    return "\n".join(lines)


def write_summary(out: Path, runs: list[LessonRun]) -> None:
    (out / "summary.md").write_text(summary_table(runs) + "\n")
    (out / "summary.json").write_text(json.dumps([asdict(r) for r in runs], indent=2))
