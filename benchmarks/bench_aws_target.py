"""The whole course on the AWS target, against an emulator that behaves like a real account.

Starts ``labkit emulator start --aws-like`` (a background sandbox) with
LABKIT_AWS_LIKE_DELAY seconds of IAM propagation and resource state changes,
points this process at it as ``eval "$(labkit emulator env)"`` would, opts in to
the AWS target (LABKIT_TARGET=aws, LABKIT_AWS_ACCOUNT=<the sandbox's account>),
and runs every lesson in course order with papermill, one kernel each. Prints a
table (lesson, status, seconds, checks) and the total; the sandbox is stopped at
the end. Writes the executed notebooks to OUT (default build/bench-aws-target).

    PYTHONPATH=. LABKIT_HOME=build/bench-home .venv/bin/python benchmarks/bench_aws_target.py \
        [--delay 3] [--name ada] [--lesson 05 ...] [--out build/bench-aws-target]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labkit import course, runner  # noqa: E402
from labkit.emulator import shared_lab  # noqa: E402
from labkit.target import CREDENTIAL_VARIABLES  # noqa: E402

SANDBOX = "bench-aws-account"


def point_at(state: dict) -> str:
    """Set os.environ as the sandbox's exports plus the AWS target's opt-in; the account id."""
    account = json.loads(Path(state["attach_file"]).read_text())["account_id"]
    for key in CREDENTIAL_VARIABLES:
        os.environ.pop(key, None)
    os.environ.update({k: v for k, v in state["environ"].items() if k != "PATH"})
    os.environ.update(LABKIT_TARGET="aws", LABKIT_AWS_ACCOUNT=account)
    return account


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", default="3", help="LABKIT_AWS_LIKE_DELAY seconds (default 3)")
    parser.add_argument("--name", default="ada", help="the learner NAME (not demo: taken)")
    parser.add_argument("--lesson", action="append", help="lesson id (repeatable); default all")
    parser.add_argument("--out", default="build/bench-aws-target")
    args = parser.parse_args()
    os.environ.setdefault("LABKIT_NO_NETWORK", "1")
    os.environ["LABKIT_AWS_LIKE_DELAY"] = args.delay
    lessons = [course.normalize(x) for x in args.lesson] if args.lesson else course.lesson_ids()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    state, _ = shared_lab.ensure(SANDBOX, aws_like=True)
    shared_lab.register_client(SANDBOX)  # the lessons reach it as "AWS": this process holds it
    print(f"aws-like sandbox up in {time.perf_counter() - started:.1f} s "
          f"(delay {args.delay} s)", flush=True)
    try:
        account = point_at(state)
        rows = []
        for lesson in lessons:
            run = runner.run_lesson(lesson, args.out, name=args.name)
            rows.append(run)
            print(f"{run.lesson}  {run.status:<7} {run.seconds:7.1f} s  "
                  f"checks {run.checks_passed}/{run.checks_total}  {run.error[:120]}", flush=True)
    finally:
        shared_lab.stop(SANDBOX)
    total = sum(r.seconds for r in rows)
    passed = sum(r.status == "passed" for r in rows)
    print(f"\nAWS target (account {account}, aws-like, delay {args.delay} s), NAME={args.name}: "
          f"{passed}/{len(rows)} lessons passed, {total:.1f} s in lessons, "
          f"{time.perf_counter() - started:.1f} s in all")
    return 0 if passed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
