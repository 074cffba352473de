"""Condition operators, as in the IAM "condition operators" reference.

Evaluation rules implemented here (AWS docs: condition operators; conditions
with multiple context keys or values; set operators for multivalued keys):
- several operators, and several keys under one operator, are ANDed;
- several policy values for one key are ORed; for a negated operator
  (StringNotEquals, ArnNotLike, NotIpAddress, ...) they are NORed: the
  condition holds only if the context value matches none of them;
- a key missing from the request makes a positive operator false and a negated
  one true; ``...IfExists`` makes any operator true when the key is missing;
  ``Null: true`` holds when the key is missing;
- ``ForAllValues:`` holds when every context value matches (vacuously true for
  a missing or empty key); ``ForAnyValue:`` when at least one does (false for a
  missing or empty key). With a negated operator the negation applies to each
  value ("every value matches none of the policy values").
- condition key names are case-insensitive; values follow the operator.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import re
from datetime import datetime, timezone
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from labkit.policy.errors import PolicyError
from labkit.policy.matching import arn_match, arn_regex_from_pieces, glob_match, glob_regex
from labkit.policy.variables import resolve_tokens, substitute, tokenize

# --- value parsers: policy-side parsing errors are the author's mistake -------------


def parse_number(v: str) -> float:
    return float(v)


def parse_date(v: str) -> float:
    """Seconds since the epoch for an ISO 8601 date/time or an epoch number."""
    v = v.strip()
    try:
        return float(v)
    except ValueError:
        pass
    text = v[:-1] + "+00:00" if v.endswith("Z") else v
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _ip_network(v: str):
    return ipaddress.ip_network(v.strip(), strict=False)


def _binary(v: str) -> bytes:
    return base64.b64decode(v, validate=True)


# --- comparisons: (context value, parsed policy value) -> bool ----------------------


def _cmp_factory(parse_ctx: Callable, test: Callable) -> Callable:
    def compare(ctx_value: str, policy_value) -> bool:
        try:
            left = parse_ctx(ctx_value)
        except (ValueError, TypeError, binascii.Error):
            # A context value of the wrong type never matches.
            return False
        return test(left, policy_value)

    return compare


def _ip_in(ctx_value: str, net) -> bool:
    try:
        addr = ipaddress.ip_address(ctx_value.strip())
    except ValueError:
        try:
            inner = ipaddress.ip_network(ctx_value.strip(), strict=False)
        except ValueError:
            return False
        return inner.version == net.version and inner.subnet_of(net)
    return addr.version == net.version and addr in net


def _binary_eq(ctx_value: str, policy_bytes: bytes) -> bool:
    try:
        return base64.b64decode(ctx_value, validate=True) == policy_bytes
    except (binascii.Error, ValueError):
        return ctx_value.encode() == policy_bytes


class _Op:
    """One base operator: how to parse policy values, compare, and whether it is negated."""

    __slots__ = ("name", "parse", "compare", "negated", "variables", "family")

    def __init__(self, name, parse, compare, negated=False, variables=False, family=""):
        self.name, self.parse, self.compare = name, parse, compare
        self.negated, self.variables, self.family = negated, variables, family


def _ops() -> Dict[str, _Op]:
    ident = str
    ops = {}

    def add(name, parse, compare, negated=False, variables=False, family=""):
        ops[name] = _Op(name, parse, compare, negated, variables, family)

    eq = lambda c, p: c == p  # noqa: E731
    ieq = lambda c, p: c.lower() == p.lower()  # noqa: E731
    like = lambda c, p: (p.fullmatch(c) is not None if not isinstance(p, str)  # noqa: E731
                         else glob_match(p, c))
    add("StringEquals", ident, eq, variables=True, family="String")
    add("StringNotEquals", ident, eq, True, True, "String")
    add("StringEqualsIgnoreCase", ident, ieq, variables=True, family="String")
    add("StringNotEqualsIgnoreCase", ident, ieq, True, True, "String")
    add("StringLike", ident, like, variables=True, family="String")
    add("StringNotLike", ident, like, True, True, "String")
    num_tests = {
        "Equals": lambda a, b: a == b, "NotEquals": lambda a, b: a == b,
        "LessThan": lambda a, b: a < b, "LessThanEquals": lambda a, b: a <= b,
        "GreaterThan": lambda a, b: a > b, "GreaterThanEquals": lambda a, b: a >= b,
    }
    for suffix, test in num_tests.items():
        neg = suffix == "NotEquals"
        add("Numeric" + suffix, parse_number, _cmp_factory(parse_number, test), neg, family="Numeric")
        add("Date" + suffix, parse_date, _cmp_factory(parse_date, test), neg, family="Date")
    add("Bool", _bool_value, lambda c, p: c.strip().lower() == p, variables=True, family="Bool")
    add("BinaryEquals", _binary, _binary_eq, family="Binary")
    add("IpAddress", _ip_network, _ip_in, family="Ip")
    add("NotIpAddress", _ip_network, _ip_in, True, family="Ip")
    arn = lambda c, p: (p.fullmatch(c) is not None if not isinstance(p, str)  # noqa: E731
                        else arn_match(p, c))
    add("ArnEquals", ident, arn, variables=True, family="Arn")
    add("ArnLike", ident, arn, variables=True, family="Arn")
    add("ArnNotEquals", ident, arn, True, True, "Arn")
    add("ArnNotLike", ident, arn, True, True, "Arn")
    return ops


def _bool_value(v: str) -> str:
    low = v.strip().lower()
    if low not in ("true", "false"):
        raise ValueError(f"Bool takes true or false, not {v!r}")
    return low


OPERATORS: Dict[str, _Op] = _ops()
SET_OPERATORS = ("ForAllValues", "ForAnyValue")


def known_operator_names() -> List[str]:
    """All base operator names, plus Null."""
    return sorted(list(OPERATORS) + ["Null"])


def split_operator(full: str) -> Tuple[Optional[str], str, bool]:
    """('ForAnyValue'|'ForAllValues'|None, base name, if_exists) of an operator string.

    Raises ValueError with a hint when the operator is unknown.
    """
    set_op = None
    name = full
    if ":" in full:
        set_op, name = full.split(":", 1)
        if set_op not in SET_OPERATORS:
            raise ValueError(f"unknown set operator {set_op!r} (use ForAllValues: or ForAnyValue:)")
    if_exists = name.endswith("IfExists") and name != "IfExists"
    base = name[: -len("IfExists")] if if_exists else name
    if base == "Null":
        if if_exists:
            raise ValueError("Null cannot take the IfExists suffix")
        return set_op, base, False
    if base not in OPERATORS:
        raise ValueError(f"unknown condition operator {full!r}{_hint(base)}")
    return set_op, base, if_exists


def _hint(base: str) -> str:
    for name in known_operator_names():
        if name.lower() == base.lower():
            return f"; operators are case-sensitive: did you mean {name!r}?"
    return "; see the IAM condition operators reference for the valid names"


_WILDCARD_OPS = {"StringLike", "StringNotLike", "ArnEquals", "ArnLike", "ArnNotEquals",
                 "ArnNotLike"}


def _resolved_pattern(raw: str, ctx, family: str):
    """A compiled pattern for a wildcard value whose variables and ${*} escapes are literal."""
    pieces = resolve_tokens(tokenize(raw), ctx)
    if pieces is None:
        return None
    if family == "Arn":
        return arn_regex_from_pieces(pieces)
    body = "".join(glob_regex(text).pattern if wild else re.escape(text) for text, wild in pieces)
    return re.compile(body, re.DOTALL)


class ConditionTest:
    """One (operator, key, values) test inside a Condition block."""

    __slots__ = ("op_name", "key", "raw", "values", "op", "set_op", "if_exists", "dynamic")

    def __init__(self, op_name, key, raw_values, version_vars: bool, where: str):
        self.op_name = op_name
        self.key = key.lower()
        self.raw = tuple(raw_values)
        try:
            self.set_op, base, self.if_exists = split_operator(op_name)
        except ValueError as exc:
            raise PolicyError(f"{where}: {exc}", field="Condition") from None
        self.op = None if base == "Null" else OPERATORS[base]
        self.dynamic = bool(self.op and self.op.variables and version_vars
                            and any("${" in v for v in self.raw))
        self.values = None if self.dynamic else self._parse_all(self.raw, where)

    def _parse_all(self, raw: Sequence[str], where: str):
        if self.op is None:
            try:
                return tuple(_bool_value(v) for v in raw)
            except ValueError as exc:
                raise PolicyError(f"{where}: Null {self.key}: {exc}", field="Condition") from None
        parsed = []
        for v in raw:
            try:
                parsed.append(self.op.parse(v))
            except (ValueError, TypeError, binascii.Error) as exc:
                raise PolicyError(
                    f"{where}: {self.op_name} value {v!r} for {self.key} is not a valid "
                    f"{self.op.family} value ({exc})", field="Condition") from None
        return tuple(parsed)

    def _values_for(self, ctx: Mapping[str, Sequence[str]]):
        if not self.dynamic:
            return self.values
        # A value whose variable cannot be resolved matches nothing.
        out = []
        for raw in self.raw:
            if self.op.name in _WILDCARD_OPS:
                pattern = _resolved_pattern(raw, ctx, self.op.family)
                if pattern is not None:
                    out.append(pattern)
                continue
            v = substitute(raw, ctx)
            if v is None:
                continue
            try:
                out.append(self.op.parse(v))
            except (ValueError, TypeError):
                continue
        return out

    def holds(self, ctx: Mapping[str, Sequence[str]]) -> bool:
        """True if this test is satisfied by the request context CTX."""
        present = ctx.get(self.key)
        if self.op is None:
            is_null = not present
            return any((v == "true") == is_null for v in self.values)
        if present is None or (not present and self.set_op is None):
            if self.set_op == "ForAllValues":
                return True
            if self.set_op == "ForAnyValue":
                return False
            return self.if_exists or self.op.negated
        values = self._values_for(ctx)
        compare = self.op.compare

        def match_one(c):
            return any(compare(c, p) for p in values)

        if self.set_op == "ForAllValues":
            if self.op.negated:
                return all(not match_one(c) for c in present)
            return all(match_one(c) for c in present)
        if self.set_op == "ForAnyValue":
            if self.op.negated:
                return any(not match_one(c) for c in present)
            return any(match_one(c) for c in present)
        hit = any(match_one(c) for c in present)
        return not hit if self.op.negated else hit


def compile_conditions(block, version_vars: bool, where: str) -> Tuple[ConditionTest, ...]:
    """Validate a Condition element and compile it into Checks (all ANDed)."""
    if not isinstance(block, dict):
        raise PolicyError(f"{where}: Condition must be an object of operator -> {{key: value(s)}}",
                          field="Condition")
    checks = []
    for op_name, pairs in block.items():
        if not isinstance(pairs, dict) or not pairs:
            raise PolicyError(f"{where}: Condition operator {op_name!r} must map to a non-empty "
                              f"object of condition key -> value(s)", field="Condition")
        for key, raw in pairs.items():
            values = _as_value_list(raw, f"{where}: Condition {op_name} {key}")
            checks.append(ConditionTest(op_name, key, values, version_vars, where))
    return tuple(checks)


def _as_value_list(raw, where: str) -> List[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise PolicyError(f"{where}: needs at least one value", field="Condition")
    out = []
    for v in items:
        if isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v)):
            out.append(str(v))
        elif isinstance(v, str):
            out.append(v)
        else:
            raise PolicyError(f"{where}: values must be strings, numbers or booleans, "
                              f"not {type(v).__name__}", field="Condition")
    return out
