"""Execute lessons headless (``make run``): executed notebooks and a summary under build/.

Each lesson runs in its own kernel with its own emulator, so lessons are
independent and two can run at once on two cores.
"""
from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from labkit import config, course

CELL_TIMEOUT = 600  # seconds; papermill kills the kernel and we report a timeout


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


def run_lesson(lesson_id: str, out_dir: str, name: str = "demo",
               cell_timeout: int = CELL_TIMEOUT) -> LessonRun:
    """Execute one lesson with papermill; never raises for a failing notebook."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    lesson = course.get(lesson_id)
    source = config.repo_root() / "notebooks" / lesson.notebook
    target = Path(out_dir) / lesson.notebook
    started, status, error = time.perf_counter(), "passed", ""
    try:
        papermill.execute_notebook(
            str(source), str(target), parameters={"NAME": name}, kernel_name="python3",
            cwd=str(source.parent), progress_bar=False, execution_timeout=cell_timeout,
        )
    except PapermillExecutionError as exc:
        status, error = "failed", f"{exc.ename}: {exc.evalue}".strip()
    except Exception as exc:  # timeouts and dead kernels arrive as other exceptions
        timed_out = "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower()
        status = "timeout" if timed_out else "failed"
        error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    passed, total = (count_checks(json.loads(target.read_text())) if target.exists() else (0, 0))
    return LessonRun(lesson.id, lesson.title, status, round(seconds, 1), passed, total,
                     error.splitlines()[0][:300] if error else "", str(target))


def run_all(out_dir: str = "build", lessons: list[str] | None = None, jobs: int = 2,
            name: str = "demo") -> list[LessonRun]:
    out = Path(out_dir)
    (out / "lessons").mkdir(parents=True, exist_ok=True)
    wanted = [course.normalize(x) for x in lessons] if lessons else course.lesson_ids()
    os.environ.setdefault("LABKIT_NO_NETWORK", "1")
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(run_lesson, lid, str(out / "lessons"), name) for lid in wanted]
        runs = [f.result() for f in futures]
    write_summary(out, runs)
    return runs


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
