"""Time `make run`'s execution step: the whole course as `make run` runs it (a benchmark, not a test).

    .venv/bin/python benchmarks/bench_lessons.py [--lesson 01 ...] [--jobs 2] [--repeat 1]

Runs labkit.runner.run_all as `make run` does (two workers, each with one emulator
and warm single-use kernels), and prints per run: the wall time, the CPU time it
used (its workers and kernels: user + sys), and the machine's load average before
and after, since on a shared machine the wall time says as much about the
neighbours as about labkit. Then each lesson's seconds (median over the runs).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time

from labkit import course, runner


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lesson", action="append")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    lessons = [course.normalize(x) for x in args.lesson] if args.lesson else course.lesson_ids()
    os.environ["LABKIT_NO_NETWORK"] = "1"
    os.environ.setdefault("LABKIT_HOME", tempfile.mkdtemp(prefix="labkit-bench-"))
    print(f"{os.cpu_count()} cores; {len(lessons)} lessons, {args.jobs} workers")
    per_lesson: dict[str, list[float]] = {lesson: [] for lesson in lessons}
    for attempt in range(args.repeat):
        out = tempfile.mkdtemp(prefix="labkit-bench-out-")
        load_before, cpu_before, started = _load(), _children_cpu(), time.perf_counter()
        runs = runner.run_all(out, lessons, jobs=args.jobs)
        wall, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
        passed = sum(r.status == "passed" for r in runs)
        print(f"run {attempt + 1}: {wall:.1f} s wall, {cpu:.1f} s CPU (workers and kernels), "
              f"{passed}/{len(runs)} passed; load average {load_before} before, {_load()} after")
        for r in runs:
            per_lesson[r.lesson].append(r.seconds)
    print(f"\n{'lesson':<8}{'median s':>9}  runs")
    for lesson, seconds in per_lesson.items():
        print(f"{lesson:<8}{statistics.median(seconds):>9.1f}  {seconds}")


if __name__ == "__main__":
    main()
