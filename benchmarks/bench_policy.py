"""Benchmark (not a test): policy evaluations per second on the course's own policies.

Run: .venv/bin/python benchmarks/bench_policy.py [--seconds 2]
Each evaluation is one CLI-matrix request (engineer and analyst, both
buckets, encrypted and unencrypted uploads) with the identity policy and the
bucket policy, as the emulator calls it on every request. Three figures:
- warm dicts: the same dict objects every time (cache hit by identity);
- warm JSON: the policies passed as JSON text (cache hit by text);
- cold: the parse cache cleared before every evaluation (worst case).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from labkit.policy import Request, clear_cache, evaluate  # noqa: E402
from tests.policy import course  # noqa: E402


def workload(as_json: bool):
    """(request, identity policies, bucket policy) for every matrix step and user."""
    def enc(pair):
        return (pair[0], json.dumps(pair[1])) if as_json else pair

    out = []
    for command, _, _ in course.MATRIX:
        for user in (course.ENGINEER, course.ANALYST):
            for action, bucket, key, ctx in course.steps(command):
                res = f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")
                out.append((Request(user, action, res, ctx),
                            [enc(p) for p in course.IDENTITY[user]],
                            enc(course.BUCKET_POLICIES[bucket])))
    return out


def rate(items, seconds: float, cold: bool = False) -> float:
    """Evaluations per CPU second over about SECONDS of this process's CPU time.

    CPU time, not wall time: the machine is shared, and other processes'
    load would otherwise show up as a slower engine.
    """
    n = 0
    start = time.process_time()
    deadline = start + seconds
    while time.process_time() < deadline:
        for req, identity, bucket in items:
            if cold:
                clear_cache()
            evaluate(req, identity, bucket)
        n += len(items)
    return n / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per figure")
    args = parser.parse_args()
    dicts, texts = workload(False), workload(True)
    print(f"requests per round: {len(dicts)}")
    for label, items, cold in (("warm dicts", dicts, False), ("warm JSON", texts, False),
                               ("cold (no cache)", texts, True)):
        print(f"{label:16s} {rate(items, args.seconds, cold):10,.0f} evaluations per CPU second")


if __name__ == "__main__":
    main()
