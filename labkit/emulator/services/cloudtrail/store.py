"""The bounded in-memory store of recorded events.

AWS keeps 90 days of event history; the emulator keeps the newest
``LABKIT_CLOUDTRAIL_MAX_EVENTS`` events (default 100,000) so a long session
cannot grow without bound. Each event has a sequence number: trails deliver
what came after the last number they delivered, LookupEvents pages by it.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import zlib
from collections import deque
from typing import Iterator, List, Optional, Tuple

DEFAULT_MAX_EVENTS = 100_000
MAX_EVENTS_VARIABLE = "LABKIT_CLOUDTRAIL_MAX_EVENTS"


class Event:
    """One recorded request: the CloudTrail record plus what labkit knows about it.

    The record is kept as compressed JSON (about 700 bytes instead of 2 KB as a dict),
    with the few fields LookupEvents filters on alongside, so a full store stays small
    and a lookup unpacks only the events it returns.
    """

    __slots__ = ("seq", "epoch", "reason", "lookup_resources", "resource_arns", "management",
                 "region", "account", "name", "source", "read_only", "username", "access_key",
                 "event_id", "_blob")

    def __init__(self, seq: int, epoch: float, record: dict, reason: str = "",
                 lookup_resources: Optional[List[Tuple[str, str]]] = None):
        # Names, regions, users and reasons repeat from event to event: keep one copy each.
        self.seq, self.epoch, self.reason = seq, epoch, _intern(reason)
        self.lookup_resources = [(_intern(t), _intern(n)) for t, n in lookup_resources or []]
        identity = record.get("userIdentity") or {}
        self.resource_arns = tuple(_intern(r.get("ARN", "")) for r in record.get("resources") or [])
        self.management = bool(record.get("managementEvent", False))
        self.region = _intern(record.get("awsRegion"))
        self.account = _intern(record.get("recipientAccountId"))
        self.name, self.source = _intern(record.get("eventName")), _intern(record.get("eventSource"))
        self.read_only = bool(record.get("readOnly", False))
        self.username = _intern(_username(identity))
        self.access_key, self.event_id = _intern(identity.get("accessKeyId")), record.get("eventID")
        self._blob = zlib.compress(json.dumps(record, separators=(",", ":")).encode(), 1)

    @property
    def record(self) -> dict:
        """The CloudTrail record (a fresh dict on every access)."""
        return json.loads(zlib.decompress(self._blob))


def _intern(text):
    return sys.intern(text) if isinstance(text, str) else text


def _username(identity: dict) -> str:
    """What LookupEvents reports as Username: the user, the role session, or root."""
    kind = identity.get("type")
    if kind == "IAMUser":
        return identity.get("userName", "")
    if kind == "AssumedRole":
        return identity.get("arn", "").rsplit("/", 1)[-1]
    return "root" if kind == "Root" else ""


def _cap_from_environment() -> int:
    raw = os.environ.get(MAX_EVENTS_VARIABLE)
    if not raw:
        return DEFAULT_MAX_EVENTS
    try:
        cap = int(raw)
    except ValueError:
        raise ValueError(f"{MAX_EVENTS_VARIABLE}={raw!r} is not a whole number of events "
                         f"(the default is {DEFAULT_MAX_EVENTS})") from None
    if cap < 1:
        raise ValueError(f"{MAX_EVENTS_VARIABLE} must be at least 1, not {cap}")
    return cap


class EventStore:
    """Thread-safe ring of the newest ``cap`` events."""

    def __init__(self, cap: Optional[int] = None):
        self._lock = threading.Lock()
        self._events: deque = deque(maxlen=cap or _cap_from_environment())
        self._seq = 0
        self.dropped = 0  # events pushed out by the cap since the last clear

    @property
    def cap(self) -> int:
        return self._events.maxlen

    def configure(self, cap: int) -> None:
        """Keep at most CAP events from now on (the newest are kept)."""
        if not isinstance(cap, int) or cap < 1:
            raise ValueError(f"the event cap must be a whole number >= 1, not {cap!r}")
        with self._lock:
            self._events = deque(self._events, maxlen=cap)

    def add(self, event: Event) -> Event:
        """Keep EVENT, giving it the next sequence number (under the lock, so the
        ring stays in sequence order whichever request thread finishes first)."""
        with self._lock:
            self._seq += 1
            event.seq = self._seq
            if len(self._events) == self._events.maxlen:
                self.dropped += 1
            self._events.append(event)
        return event

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    def since(self, seq: int) -> List[Event]:
        """Events with a sequence number above SEQ, oldest first."""
        with self._lock:
            items = list(self._events)
        if not items or items[-1].seq <= seq:
            return []
        # The deque is in seq order: skip from the left.
        lo, hi = 0, len(items)
        while lo < hi:
            mid = (lo + hi) // 2
            if items[mid].seq <= seq:
                lo = mid + 1
            else:
                hi = mid
        return items[lo:]

    def newest_first(self) -> Iterator[Event]:
        with self._lock:
            items = list(self._events)
        return reversed(items)

    def __len__(self) -> int:
        return len(self._events)

    def clear(self) -> None:
        with self._lock:
            self._events.clear()
            self.dropped = 0


#: The process's store (one emulator per process).
STORE = EventStore()
