"""Benchmark (not a test): Access Analyzer checks per second on the course's own policies.

Run: .venv/bin/python benchmarks/bench_analyze.py [--rounds 3]
The checks the lessons and the grading make, on the reference policies of
lessons 02-04 (NAME=demo), decided by labkit.policy.analyze (z3):
- lesson 04: analysts can never write or delete in the landing zone
  (check_access_not_granted), the home-folder version adds no access and the
  over-broad policy does (check_no_new_access), the engineers' policy stays out
  of IAM;
- lesson 03: bucket and access point policies are not public (check_no_public_access).
Prints each check's median milliseconds (process CPU time and wall time) and checks per
second over all, then the course checks' and a random set's median, p95 and max.
The random set is the seeded audit of tests/policy/analyze/audit.py (--random N cases,
seed 23): policies whose answer is known by construction, so the same run counts wrong
PASSes, ill-formed counterexamples and FAILs without a grant.
Aims (issue 23): course checks under 50 ms each, random set p95 under 200 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from labkit.config import DEFAULT_REGION, EMULATOR_ACCOUNT_ID  # noqa: E402
from labkit.names import Names  # noqa: E402
from labkit.policy.analyze import (check_access_not_granted, check_no_new_access,  # noqa: E402
                                   check_no_public_access)
from labkit.topics import access_points, buckets, iam_policies  # noqa: E402


def course_lab():
    """Just what the policy builders read from a lab (no emulator needed)."""
    return SimpleNamespace(names=Names("demo"), account_id=EMULATOR_ACCOUNT_ID,
                           region=DEFAULT_REGION, name="demo")


def over_broad(lab) -> dict:
    """The analysts' policy plus "read old versions" written too wide (s3:*Version*)."""
    doc = iam_policies.analyst_access(lab)
    doc["Statement"].append({"Sid": "ReadOldVersions", "Effect": "Allow",
                             "Action": "s3:*Version*",
                             "Resource": f"arn:aws:s3:::{lab.names.landing_bucket}/*"})
    return doc


def landing_writes(lab):
    n = lab.names
    ap = iam_policies.access_point_arn(lab, n.landing_access_point)
    return ["s3:Put*", "s3:Delete*"], [f"arn:aws:s3:::{n.landing_bucket}",
                                       f"arn:aws:s3:::{n.landing_bucket}/*", ap, f"{ap}/object/*"]


def checks(lab):
    """[(label, expected result, thunk)]."""
    n = lab.names
    actions, resources = landing_writes(lab)
    analyst, engineer = iam_policies.analyst_access(lab), iam_policies.engineer_access(lab)
    before = iam_policies.analyst_access(lab, home_folders=False)
    out = [
        ("04 analysts never write/delete in the landing zone", "PASS",
         lambda: check_access_not_granted(analyst, actions, resources)),
        ("04 over-broad policy writes in the landing zone", "FAIL",
         lambda: check_access_not_granted(over_broad(lab), actions, resources)),
        ("04 home folders add no access", "PASS",
         lambda: check_no_new_access(analyst, before)),
        ("04 dropping the home-folder deny adds access", "FAIL",
         lambda: check_no_new_access(before, analyst)),
        ("04 analyst within the reference (grading)", "PASS",
         lambda: check_no_new_access(analyst, analyst)),
        ("04 engineers never touch IAM", "PASS",
         lambda: check_access_not_granted(engineer, ["iam:*"])),
    ]
    for bucket in n.buckets:
        doc = buckets.bucket_policy(lab, bucket, with_access_points=True)
        out.append((f"03 bucket policy {bucket} not public", "PASS",
                    lambda doc=doc: check_no_public_access(doc, "AWS::S3::Bucket")))
    for ap in n.access_points:
        doc = access_points.access_point_policy(lab, ap)
        out.append((f"03 access point policy {ap} not public", "PASS",
                    lambda doc=doc: check_no_public_access(doc, "AWS::S3::AccessPoint")))
    return out


def _spread(ms) -> dict:
    ms = sorted(ms)
    at = lambda q: ms[min(len(ms) - 1, max(0, -(-len(ms) * q // 1) - 1))]  # noqa: E731
    return {"median_ms": round(statistics.median(ms), 1), "p95_ms": round(at(0.95), 1),
            "max_ms": round(ms[-1], 1)}


def random_set(count: int) -> dict:
    """The audit's seeded random cases: timing (wall ms) and the audit's counts."""
    from tests.policy.analyze import audit

    report = audit.audit(audit.cases(seed=23, count=count))
    return report.figures()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--random", type=int, default=200, help="random cases (0: none)")
    args = parser.parse_args()
    lab = course_lab()
    items = checks(lab)
    items[0][2]()  # load the Service Authorization Reference once (about 0.3 s)
    total_cpu, total, course_ms = 0.0, 0, []
    for label, expected, run in items:
        cpu, wall = [], []
        for _ in range(args.rounds):
            c0, w0 = time.process_time(), time.perf_counter()
            result = run()
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
            assert result.result == expected, (label, result)
            assert result.counterexample is None or result.verify(), label
        course_ms.append(statistics.median(cpu) * 1000)   # CPU: the machine is shared
        total_cpu += sum(cpu)
        total += len(cpu)
        print(f"{label:<52} {expected}  cpu {statistics.median(cpu) * 1000:7.1f} ms  "
              f"wall {statistics.median(wall) * 1000:7.1f} ms")
    print(json.dumps({"checks": total, "checks_per_cpu_second": round(total / total_cpu, 1),
                      "mean_cpu_ms": round(1000 * total_cpu / total, 1)}))
    print(json.dumps({"course_checks_cpu": _spread(course_ms)}))
    if args.random:
        print(json.dumps({"random_set": random_set(args.random)}))


if __name__ == "__main__":
    main()
