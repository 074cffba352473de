"""Parse and validate policy documents into compiled statements.

``parse_policy(doc, name=None, kind="identity")`` accepts a dict or a JSON
string and returns a :class:`Policy`. Anything AWS would refuse as
MalformedPolicyDocument raises :class:`PolicyError` naming the statement and
field. Parsed policies are cached (by JSON text; a dict by identity, checked
for equality with a private copy, else by its canonical JSON), so the emulator
can re-evaluate the same documents on every request at little cost.

Kinds: ``identity`` (user/group/role policies), ``boundary``, ``session``
(no Principal allowed), ``resource`` (bucket, access point policies: Principal
required) and ``trust`` (role trust policies: Principal required, no Resource).
"""
from __future__ import annotations

import copy
import json
import re
from collections import OrderedDict
from typing import Any, Dict, FrozenSet, List, Optional, Tuple, Union

from labkit.policy.conditions import ConditionTest, compile_conditions
from labkit.policy.errors import PolicyError
from labkit.policy.matching import ActionMatcher, ArnMatcher

VERSIONS = ("2012-10-17", "2008-10-17")
KINDS = ("identity", "boundary", "session", "resource", "trust")
_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
                   "Principal", "NotPrincipal", "Condition"}
_ACTION_RE = re.compile(r"^[A-Za-z0-9*?-]+:[A-Za-z0-9*?_-]+$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


class PrincipalSpec:
    """A parsed Principal or NotPrincipal element."""

    __slots__ = ("public", "aws", "services", "federated", "canonical")

    def __init__(self):
        self.public = False
        self.aws: FrozenSet[str] = frozenset()
        self.services: FrozenSet[str] = frozenset()
        self.federated: FrozenSet[str] = frozenset()
        self.canonical: FrozenSet[str] = frozenset()

    def all_values(self) -> List[str]:
        """Every named principal (for lint and is_public)."""
        return sorted(self.aws | self.services | self.federated | self.canonical)


class Statement:
    """One compiled statement; ``label`` is "Sid X" or "Statement[i]"."""

    __slots__ = ("index", "sid", "effect", "actions", "not_action", "resources", "not_resource",
                 "principal", "not_principal", "conditions", "raw", "label")

    def __init__(self, index: int, sid: Optional[str], effect: str):
        self.index, self.sid, self.effect = index, sid, effect
        self.label = f"Sid {sid}" if sid else f"Statement[{index}]"
        self.actions: Optional[ActionMatcher] = None
        self.not_action = False
        self.resources: Optional[ArnMatcher] = None
        self.not_resource = False
        self.principal: Optional[PrincipalSpec] = None
        self.not_principal = False
        self.conditions: Tuple[ConditionTest, ...] = ()
        self.raw: Dict[str, Any] = {}

    def action_matches(self, action_lower: str) -> bool:
        hit = self.actions.matches(action_lower)
        return not hit if self.not_action else hit


    def conditions_hold(self, ctx) -> bool:
        for check in self.conditions:
            if not check.holds(ctx):
                return False
        return True


class Policy:
    """A parsed policy: name, version, kind, statements and the source dict."""

    __slots__ = ("name", "version", "kind", "statements", "doc", "by_action")

    def __init__(self, name, version, kind, statements, doc, by_action=None):
        self.name, self.version, self.kind = name, version, kind
        self.statements: Tuple[Statement, ...] = statements
        self.doc = doc
        # action (lower case) -> the statements whose Action/NotAction match it; action
        # matching never depends on the request context, so it is memoised.
        self.by_action: Dict[str, Tuple[Statement, ...]] = {} if by_action is None else by_action

    def renamed(self, name: str) -> "Policy":
        """The same compiled policy under another name (shares statements and memo)."""
        return Policy(name, self.version, self.kind, self.statements, self.doc, self.by_action)

    def for_action(self, action_lower: str) -> Tuple[Statement, ...]:
        """The statements that apply to ACTION_LOWER (memoised, bounded)."""
        found = self.by_action.get(action_lower)
        if found is None:
            found = tuple(st for st in self.statements if st.action_matches(action_lower))
            if len(self.by_action) >= 512:
                self.by_action.clear()
            self.by_action[action_lower] = found
        return found


# ----------------------------------------------------------------------------- cache

_CACHE: "OrderedDict[Any, Tuple[Any, Any, Policy]]" = OrderedDict()
_CACHE_MAX = 2048


_DEFAULT_NAMES = {k: f"{k} policy" for k in KINDS}


def clear_cache() -> None:
    """Forget every parsed policy (tests use this)."""
    _CACHE.clear()


def parse_policy(doc: Union[str, bytes, dict, Policy], name: Optional[str] = None,
                 kind: str = "identity") -> Policy:
    """Parse DOC (JSON text, dict or Policy) into a validated, compiled Policy.

    Raises PolicyError for anything AWS would reject, naming the statement and field.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if isinstance(doc, Policy):
        return doc if name is None or doc.name == name else doc.renamed(name)
    label = name or _DEFAULT_NAMES[kind]
    key, check = _cache_key(doc, kind)
    hit = _CACHE.get(key)
    if hit is not None and (check is None or (hit[0] is doc and hit[1] == doc)):
        policy = hit[2]
        return policy if policy.name == label else policy.renamed(label)
    policy = _parse_by_content(doc, label, kind) if check is not None else None
    if policy is None:
        try:
            policy = _build(_load(doc), label, kind)
        except PolicyError as exc:
            raise exc.with_policy(label) from None
    snapshot = copy.deepcopy(doc) if check is not None else None
    _remember(key, (doc if check is not None else None, snapshot, policy))
    return policy if policy.name == label else policy.renamed(label)


def _remember(key, entry) -> None:
    _CACHE[key] = entry
    if len(_CACHE) > _CACHE_MAX:
        _CACHE.popitem(last=False)  # oldest first; hits are not reordered (cheaper)


def _parse_by_content(doc, label: str, kind: str) -> Optional[Policy]:
    """A dict seen before under another identity (e.g. json.loads on every request):
    look it up by its canonical JSON, far cheaper than parsing it again."""
    try:
        text = json.dumps(doc, sort_keys=True)
    except (TypeError, ValueError):
        return None  # not JSON-serialisable: _load/_build will explain
    key = (kind, "content", text)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit[2]
    try:
        policy = _build(_load(doc), label, kind)
    except PolicyError as exc:
        raise exc.with_policy(label) from None
    _remember(key, (None, None, policy))
    return policy


def _cache_key(doc, kind):
    if type(doc) is str or isinstance(doc, (str, bytes)):
        return (kind, doc), None
    # Dicts are mutable: key by identity, and confirm with an equality check
    # against a private copy before trusting the cached parse.
    return (kind, "id", id(doc)), True


def _load(doc) -> dict:
    if isinstance(doc, (bytes, bytearray)):
        doc = doc.decode("utf-8")
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"MalformedPolicyDocument: the policy is not valid JSON "
                              f"(line {exc.lineno}, column {exc.colno}: {exc.msg})",
                              field="document") from None
    if not isinstance(doc, dict):
        raise PolicyError("MalformedPolicyDocument: a policy must be a JSON object with "
                          "Version and Statement", field="document")
    return doc


def _build(data: dict, name: str, kind: str) -> Policy:
    unknown = set(data) - {"Version", "Statement", "Id"}
    if unknown:
        raise PolicyError(f"MalformedPolicyDocument: unknown top-level field(s) {sorted(unknown)}; "
                          f"a policy has Version, Id and Statement", field=sorted(unknown)[0])
    version = data.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise PolicyError(f"MalformedPolicyDocument: Version {version!r} is not valid; "
                          f"use \"2012-10-17\"", field="Version")
    if "Statement" not in data:
        raise PolicyError("MalformedPolicyDocument: the policy has no Statement", field="Statement")
    raw = data["Statement"]
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise PolicyError("MalformedPolicyDocument: Statement is empty", field="Statement")
    statements = []
    sids = set()
    for i, item in enumerate(items):
        st = _statement(i, item, kind, version == "2012-10-17")
        if st.sid:
            if st.sid in sids:
                raise PolicyError(f"MalformedPolicyDocument: statement IDs must be unique; "
                                  f"Sid {st.sid!r} appears twice", statement=st.label, field="Sid")
            sids.add(st.sid)
        statements.append(st)
    return Policy(name, version, kind, tuple(statements), data)


def _fail(where: str, field: str, problem: str, statement: str) -> PolicyError:
    return PolicyError(f"MalformedPolicyDocument: {where}, field {field}: {problem}",
                       statement=statement, field=field)


def _statement(i: int, item, kind: str, variables: bool) -> Statement:
    where = f"Statement[{i}]"
    if not isinstance(item, dict):
        raise _fail(where, "Statement", "each statement must be a JSON object", where)
    sid = item.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise _fail(where, "Sid", "Sid must be a string", where)
    if sid:
        where = f"Statement[{i}] (Sid {sid})"
    label = f"Sid {sid}" if sid else f"Statement[{i}]"
    unknown = set(item) - _STATEMENT_KEYS
    if unknown:
        raise _fail(where, sorted(unknown)[0], f"unknown element; a statement may hold "
                    f"{', '.join(sorted(_STATEMENT_KEYS))}", label)
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise _fail(where, "Effect", f"Effect must be \"Allow\" or \"Deny\" (got {effect!r})", label)
    st = Statement(i, sid or None, effect)
    st.raw = item
    _actions(st, item, where, label)
    _resources(st, item, kind, variables, where, label)
    _principals(st, item, kind, where, label)
    if "Condition" in item:
        try:
            st.conditions = compile_conditions(item["Condition"], variables, where)
        except PolicyError as exc:
            raise PolicyError(f"MalformedPolicyDocument: {exc}", statement=label,
                              field="Condition") from None
    return st


def _pick(item, a: str, b: str, where: str, label: str, required: bool = True):
    if a in item and b in item:
        raise _fail(where, a, f"use either {a} or {b}, not both", label)
    if a not in item and b not in item:
        if required:
            raise _fail(where, a, f"the statement needs {a} (or {b})", label)
        return None, False
    field = a if a in item else b
    return field, field == b


def _strings(value, where: str, field: str, label: str) -> List[str]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise _fail(where, field, "the list is empty", label)
    for v in items:
        if not isinstance(v, str) or not v:
            raise _fail(where, field, f"values must be non-empty strings (got {v!r})", label)
    return items


def _actions(st: Statement, item, where: str, label: str) -> None:
    field, negated = _pick(item, "Action", "NotAction", where, label)
    values = _strings(item[field], where, field, label)
    for v in values:
        if v != "*" and not _ACTION_RE.match(v):
            raise _fail(where, field, f"{v!r} is not an action: write service:Action "
                        f"(e.g. s3:GetObject) or \"*\"", label)
    st.actions, st.not_action = ActionMatcher(values), negated


def _resources(st: Statement, item, kind: str, variables: bool, where: str, label: str) -> None:
    field, negated = _pick(item, "Resource", "NotResource", where, label, required=kind != "trust")
    if field is None:
        return
    values = _strings(item[field], where, field, label)
    for v in values:
        if v != "*" and not v.startswith("arn:"):
            raise _fail(where, field, f"{v!r} must be an ARN (arn:partition:service:...) or \"*\"",
                        label)
    st.resources, st.not_resource = ArnMatcher(values, variables), negated


def _principals(st: Statement, item, kind: str, where: str, label: str) -> None:
    needs = kind in ("resource", "trust")
    if not needs:
        for f in ("Principal", "NotPrincipal"):
            if f in item:
                raise _fail(where, f, f"a {kind} policy must not name a principal (it applies to "
                            f"whoever it is attached to); remove {f}", label)
        return
    field, negated = _pick(item, "Principal", "NotPrincipal", where, label)
    st.principal, st.not_principal = _principal_spec(item[field], where, field, label), negated


def _principal_spec(value, where: str, field: str, label: str) -> PrincipalSpec:
    spec = PrincipalSpec()
    if value == "*":
        spec.public = True
        return spec
    if not isinstance(value, dict) or not value:
        raise _fail(where, field, "must be \"*\" or an object such as {\"AWS\": \"arn:...\"} or "
                    "{\"Service\": \"...amazonaws.com\"}", label)
    for ptype, raw in value.items():
        if ptype not in _PRINCIPAL_TYPES:
            raise _fail(where, field, f"unknown principal type {ptype!r}; use one of "
                        f"{', '.join(_PRINCIPAL_TYPES)}", label)
        values = _strings(raw, where, field, label)
        if ptype == "AWS":
            aws = set()
            for v in values:
                if v == "*":
                    spec.public = True
                else:
                    aws.add(_aws_principal(v, where, field, label))
            spec.aws = frozenset(aws)
        elif ptype == "Service":
            spec.services = frozenset(values)
        elif ptype == "Federated":
            spec.federated = frozenset(values)
        else:
            spec.canonical = frozenset(values)
    return spec


def _aws_principal(v: str, where: str, field: str, label: str) -> str:
    """Normalise an AWS principal: an account id becomes its root ARN."""
    if _ACCOUNT_RE.match(v):
        return f"arn:aws:iam::{v}:root"
    if v.startswith("arn:") and v.count(":") >= 5:
        if "*" in v or "?" in v:
            raise _fail(where, field, f"wildcards are not allowed in principal ARNs ({v!r}); "
                        f"use \"*\" with a Condition on aws:PrincipalArn instead", label)
        return v
    if re.match(r"^A[A-Z]{3}[A-Z0-9]{12,}$", v):  # unique ids (AIDA..., AROA...)
        return v
    raise _fail(where, field, f"invalid principal {v!r}: use an account id, an ARN or \"*\"", label)
