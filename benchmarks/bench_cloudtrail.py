"""Cost of CloudTrail recording: bench_emulator.py's 1 KB put+get with recording on vs off,
the memory the event store holds at its cap, and LookupEvents over a full store.

Recording is switched per request by LABKIT_CLOUDTRAIL (on/off), so the two are measured
interleaved in one emulator, as the same IAM user, on the same bucket (target: <= 1.10x).

    .venv/bin/python benchmarks/bench_cloudtrail.py [ROUNDS] [EVENTS]
"""
from __future__ import annotations

import gc
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_emulator import _median_ms, _setup  # noqa: E402
from labkit.emulator.server import Emulator  # noqa: E402
from labkit.emulator.services.cloudtrail import recorder  # noqa: E402
from labkit.emulator.services.cloudtrail.store import STORE, EventStore  # noqa: E402


_spent: list = []


def _timed_record(original):
    """recorder._record, timing each call (the work recording adds to a request)."""
    def timed(*args):
        start = time.perf_counter()
        try:
            return original(*args)
        finally:
            _spent.append(time.perf_counter() - start)
    return timed


def latency(em, rounds: int) -> tuple[float, float]:
    recorder._record = _timed_record(recorder._record)
    key_id, secret = _setup(em)
    s3 = em.client("s3", key_id, secret)
    on_ms, off_ms = [], []
    _median_ms(s3, 20)
    for _ in range(10):
        os.environ[recorder.ENABLED_VARIABLE] = "on"
        on_ms.append(_median_ms(s3, rounds // 10))
        os.environ[recorder.ENABLED_VARIABLE] = "off"
        off_ms.append(_median_ms(s3, rounds // 10))
    os.environ[recorder.ENABLED_VARIABLE] = "on"
    return statistics.median(on_ms), statistics.median(off_ms)


def _fresh(event) -> "Event":
    """A new Event with its own record (as recording builds one per request)."""
    from labkit.emulator.services.cloudtrail.store import Event

    return Event(0, event.epoch, event.record, event.reason, event.lookup_resources)


def memory(events: int) -> float:
    """MB held by a store of EVENTS copies of the recorded put/get events."""
    samples = [e for e in STORE.newest_first()][:2]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    ring = EventStore(cap=events)
    for i in range(events):
        ring.add(_fresh(samples[i % len(samples)]))
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(ring) == events
    return (after - before) / 1e6


def lookup_ms(em) -> float:
    ct = em.client("cloudtrail")
    start = time.perf_counter()
    for _ in range(5):
        ct.lookup_events(MaxResults=50)
    return (time.perf_counter() - start) / 5 * 1000


def main(rounds: int = 400, events: int = 100_000) -> float:
    home = Path(tempfile.mkdtemp(prefix="labkit-bench-ct-"))
    em = Emulator(home, enforce=True).start()
    try:
        on, off = latency(em, rounds)
        print(f"1 KB put+get median, recording on:  {on:.2f} ms")
        print(f"1 KB put+get median, recording off: {off:.2f} ms")
        print(f"ratio: {on / off:.3f}x (target <= 1.10x)")
        per = statistics.median(_spent) * 1e6
        print(f"building and storing one record: median {per:.0f} us over {len(_spent)} requests "
              f"= {per / 1e3 / (on / 2) * 100:.1f}% of one request's {on / 2:.2f} ms")
        print(f"store: {len(STORE)} events kept, cap {STORE.cap}")
        mb = memory(events)
        print(f"memory of a full store ({events} put/get events): {mb:.0f} MB "
              f"({mb * 1e6 / events:.0f} bytes per event)")
        STORE.configure(events)
        samples = [e for e in STORE.newest_first()][:2]
        while len(STORE) < events:
            STORE.add(_fresh(samples[len(STORE) % 2]))
        print(f"LookupEvents (MaxResults=50) over {len(STORE)} events: {lookup_ms(em):.1f} ms")
        return on / off
    finally:
        em.stop()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
