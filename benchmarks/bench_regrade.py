"""Grade the same submissions two ways and print the speed-up (a figure, not a test).

    .venv/bin/python benchmarks/bench_regrade.py [--count 8] [--jobs 2] [--lesson-notebook PATH]
                                                 [--sandbox-cost]

Naive: a loop of `papermill` CLI calls, one per submission (each starts papermill,
a kernel, labkit and an emulator in that kernel); points read from the check
cells that ran without error (no hidden checks: the naive way cannot run them
outside the learner's kernel).
labkit: `labkit regrade` (warm single-use kernels, each in its bubblewrap sandbox,
one emulator per worker, hidden checks in the grader, --jobs workers).
--sandbox-cost: also time `labkit regrade --no-sandbox` on the same submissions and
print what the sandbox costs per submission.

It prints one worker's mean seconds per submission by phase (emulator reset, waiting for
the warm kernel, the notebook, the grader's checks, cleanup), from each result's ``phases``.
At the end it counts the processes the run left behind (issue 29: none): labs of the
naive loop (each papermill run starts the learner's shared lab, which ends with it),
kernels, workers, anything whose command line or folder lies in the run's scratch.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labkit.grading import regrade  # noqa: E402

DEFAULT_NOTEBOOK = ROOT / "notebooks" / "01_iam_users_and_groups.ipynb"


def make_submissions(folder: Path, source: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True)
    paths = [folder / f"learner-{i:02d}.ipynb" for i in range(count)]
    for path in paths:
        shutil.copy(source, path)
    return paths


def visible_points(executed: Path) -> float:
    """Points of the check cells that ran and raised nothing (what a naive loop can see)."""
    total = 0.0
    for cell in json.loads(executed.read_text())["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        outputs = cell.get("outputs", [])
        if meta.get("grade") and cell.get("execution_count") is not None and not any(
                o.get("output_type") == "error" for o in outputs):
            total += float(meta.get("points", 0))
    return total


def naive(paths: list[Path], work: Path, timeout: float) -> tuple[float, dict]:
    papermill = str(Path(sys.executable).parent / "papermill")
    points, started = {}, time.perf_counter()
    for path in paths:
        home = work / "home" / path.stem
        home.mkdir(parents=True)
        env = {**os.environ, "LABKIT_HOME": str(home), "LABKIT_NO_NETWORK": "1"}
        out = work / "naive" / path.name
        out.parent.mkdir(exist_ok=True)
        subprocess.run([papermill, str(path), str(out), "-r", "NAME", path.stem,
                        "--execution-timeout", str(int(timeout)), "--log-level", "ERROR",
                        "--no-progress-bar"], env=env, capture_output=True, cwd=str(ROOT))
        points[path.stem] = visible_points(out) if out.exists() else 0.0
    return time.perf_counter() - started, points


def fast(folder: Path, out: Path, jobs: int, timeout: float,
         sandbox: bool = True) -> tuple[float, dict]:
    started = time.perf_counter()
    regrade.regrade(folder, out, jobs=jobs, timeout=timeout, force=True, progress=False,
                    sandbox=sandbox)
    seconds = time.perf_counter() - started
    points = {}
    for path in (out / "results").glob("*.json"):
        result = json.loads(path.read_text())
        points[result["learner"]] = sum(c["points"] for c in result["checks"] if not c["hidden"])
    return seconds, points


def phases(out: Path) -> dict[str, float]:
    """Mean seconds per phase of one submission (reset, kernel wait, notebook, checks,
    cleanup), from the results' ``phases``."""
    found: dict[str, list[float]] = {}
    for path in (out / "results").glob("*.json"):
        for name, seconds in json.loads(path.read_text()).get("phases", {}).items():
            found.setdefault(name, []).append(seconds)
    return {name: sum(values) / len(values) for name, values in found.items()}


def leftovers(scratch: Path, wait: float) -> list[str]:
    """Processes still running from ``scratch`` after up to ``wait`` seconds."""
    import psutil

    def survivors() -> list[str]:
        found = []
        for process in psutil.process_iter(["pid", "cmdline", "cwd"]):
            where = " ".join(process.info["cmdline"] or []) + " " + (process.info["cwd"] or "")
            if str(scratch) in where and process.pid != os.getpid():
                found.append(f"{process.pid} {' '.join(process.info['cmdline'] or [])[:120]}")
        return found

    deadline = time.monotonic() + wait
    while survivors() and time.monotonic() < deadline:
        time.sleep(0.5)
    return survivors()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=8, help="submissions (default 8)")
    parser.add_argument("--jobs", type=int, default=2, help="labkit regrade workers (default 2)")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--lesson-notebook", type=Path, default=DEFAULT_NOTEBOOK)
    parser.add_argument("--sandbox-cost", action="store_true",
                        help="also time --no-sandbox and print the sandbox's cost")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-regrade-") as scratch:
        work = Path(scratch)
        paths = make_submissions(work / "submissions", args.lesson_notebook, args.count)
        fast_s, fast_points = fast(work / "submissions", work / "out", args.jobs, args.timeout)
        mean = phases(work / "out")  # read now: the scratch is removed below
        bare_s = None
        if args.sandbox_cost:
            bare_s, _ = fast(work / "submissions", work / "out-bare", args.jobs, args.timeout,
                             sandbox=False)
        naive_s, naive_points = naive(paths, work, args.timeout)
    # The scratch is gone: a lab whose LABKIT_HOME is removed stops at once (within 1 s).
    left = leftovers(work, wait=5)
    n = args.count
    print(f"{n} submissions of {args.lesson_notebook.name}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"naive papermill CLI loop: {naive_s:7.1f} s  ({naive_s / n:5.2f} s per submission)")
    print(f"labkit regrade --jobs {args.jobs}:  {fast_s:7.1f} s  ({fast_s / n:5.2f} s per "
          f"submission, hidden checks included)")
    if bare_s is not None:
        print(f"labkit regrade --no-sandbox: {bare_s:7.1f} s  ({bare_s / n:5.2f} s per submission)")
        # Per submission of one worker: the batch time difference times the workers.
        print(f"sandbox cost: {(fast_s - bare_s) / n:+.2f} s per submission of the batch "
              f"({(fast_s - bare_s) * args.jobs / n:+.2f} s of one worker's time)")
    print(f"speed-up: {naive_s / fast_s:.2f}x (sandbox on)")
    print("per submission, one worker's seconds by phase: " + ", ".join(
        f"{name} {seconds:.2f}" for name, seconds in mean.items()))
    print(f"processes left behind 5 s after the run: {len(left)}")
    for line in left:
        print(f"  LEFT BEHIND: {line}")
    if naive_points != fast_points:
        print(f"WARNING: visible points differ: naive {naive_points}, labkit {fast_points}")
        return 1
    print(f"visible points agree: {sorted(set(fast_points.values()))} per learner")
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
