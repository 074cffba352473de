"""Cost of AWS managed policies in the emulator: first IAM call, and reset() + next call.

moto builds an IAM backend per partition on the first request after a start or a
reset, each holding ~1,600 AWS managed policies. Prints, for a fresh process:
the emulator's start, its first IAM call, then the median of ROUNDS
``reset()`` calls and of the first IAM call after each.

    .venv/bin/python benchmarks/bench_iam_reset.py [ROUNDS] [--stock]

``--stock`` leaves out labkit.emulator.services.iam.behaviour (moto's own loading), for comparison.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labkit.emulator import services  # noqa: E402
from labkit.emulator.server import Emulator  # noqa: E402

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _first_iam_call(iam) -> None:
    iam.get_policy(PolicyArn=ADMIN)


def main(argv: list[str]) -> None:
    stock = "--stock" in argv
    numbers = [a for a in argv if a.isdigit()]
    rounds = int(numbers[0]) if numbers else 5
    if stock:
        services.MODULES = tuple(m for m in services.MODULES if m != "iam")
    with tempfile.TemporaryDirectory() as home:
        em = Emulator(Path(home))
        start = _timed(em.start)
        # Clients are made outside the timed calls: their cost is boto3's, not the emulator's.
        iam = em.client("iam")
        first = _timed(lambda: _first_iam_call(iam))
        resets, after = [], []
        for _ in range(rounds):
            iam = em.client("iam")
            resets.append(_timed(em.reset))
            after.append(_timed(lambda: _first_iam_call(iam)))
        em.stop()
    label = "stock moto" if stock else "fidelity.iam"
    print(f"{label}: start {start:.3f}s, first IAM call {first:.3f}s, "
          f"reset() {statistics.median(resets):.4f}s, first IAM call after reset "
          f"{statistics.median(after):.3f}s (median of {rounds})")


if __name__ == "__main__":
    main(sys.argv[1:])
