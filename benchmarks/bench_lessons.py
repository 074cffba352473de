"""Time `make run`'s execution step per lesson (a benchmark, not a test).

    .venv/bin/python benchmarks/bench_lessons.py [--lesson 01 ...] [--repeat 1]

Runs each lesson alone (one kernel, one emulator, like `make run`), serially so
the figures are not distorted by a neighbour, then all lessons with two workers
as `make run` does, and prints both.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from labkit import course, runner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lesson", action="append")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    lessons = [course.normalize(x) for x in args.lesson] if args.lesson else course.lesson_ids()
    os.environ["LABKIT_NO_NETWORK"] = "1"
    os.environ.setdefault("LABKIT_HOME", tempfile.mkdtemp(prefix="labkit-bench-"))
    out = tempfile.mkdtemp(prefix="labkit-bench-out-")

    print(f"{'lesson':<8}{'status':<9}{'median s':>9}  runs")
    for lesson in lessons:
        runs = [runner.run_lesson(lesson, out) for _ in range(args.repeat)]
        seconds = [r.seconds for r in runs]
        print(f"{lesson:<8}{runs[-1].status:<9}{statistics.median(seconds):>9.1f}  {seconds}")

    started = time.perf_counter()
    results = runner.run_all(out, lessons, jobs=2)
    wall = time.perf_counter() - started
    print(f"\nall {len(results)} lessons with 2 workers (as make run): {wall:.1f} s wall, "
          f"{sum(r.status == 'passed' for r in results)} passed")


if __name__ == "__main__":
    main()
