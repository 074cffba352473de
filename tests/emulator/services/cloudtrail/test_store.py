"""The event store is bounded: a configurable cap (default 100,000) keeps memory bounded."""
from __future__ import annotations

import pytest

from labkit.emulator.services.cloudtrail import store
from labkit.emulator.services.cloudtrail.store import DEFAULT_MAX_EVENTS, Event, EventStore


def _event(i: int) -> Event:
    return Event(0, float(i), {"eventName": f"E{i}", "managementEvent": True})


def test_default_cap_is_100000(monkeypatch):
    monkeypatch.delenv(store.MAX_EVENTS_VARIABLE, raising=False)
    assert EventStore().cap == DEFAULT_MAX_EVENTS == 100_000


def test_cap_keeps_the_newest_and_counts_what_it_dropped():
    ring = EventStore(cap=5)
    for i in range(12):
        ring.add(_event(i))
    assert len(ring) == 5 and ring.dropped == 7 and ring.last_seq == 12
    assert [e.record["eventName"] for e in ring.newest_first()] == ["E11", "E10", "E9", "E8", "E7"]
    assert [e.seq for e in ring.since(9)] == [10, 11, 12]
    assert ring.since(12) == [] and [e.seq for e in ring.since(0)] == [8, 9, 10, 11, 12]


def test_cap_from_the_environment_and_clear_errors(monkeypatch):
    monkeypatch.setenv(store.MAX_EVENTS_VARIABLE, "3")
    assert EventStore().cap == 3
    monkeypatch.setenv(store.MAX_EVENTS_VARIABLE, "lots")
    with pytest.raises(ValueError, match="not a whole number"):
        EventStore()
    monkeypatch.setenv(store.MAX_EVENTS_VARIABLE, "0")
    with pytest.raises(ValueError, match="at least 1"):
        EventStore()


def test_configure_shrinks_to_the_newest():
    ring = EventStore(cap=10)
    for i in range(10):
        ring.add(_event(i))
    ring.configure(2)
    assert [e.record["eventName"] for e in ring.newest_first()] == ["E9", "E8"]
    with pytest.raises(ValueError):
        ring.configure(0)


def test_the_emulator_store_stays_at_its_cap(em):
    """Thousands of requests against a small cap: the store never grows past it."""
    from labkit.emulator.services.cloudtrail.store import STORE

    cap = STORE.cap
    STORE.configure(50)
    try:
        s3 = em.client("s3")
        for _ in range(80):
            s3.list_buckets()
        assert len(STORE) == 50
    finally:
        STORE.configure(cap)


def test_a_moto_reset_forgets_the_events(em):
    from labkit.emulator.services.cloudtrail.store import STORE

    em.client("s3").list_buckets()
    assert len(STORE) > 0
    em.reset()
    assert len(STORE) == 0
