"""labkit.policy's decision rules as z3 formulas over one symbolic request.

The symbolic request (:class:`Space`):

- ``act``: an integer, the action's index in the check's action domain (actions.py);
- ``res``: the resource, any non-empty string;
- every condition key the policies read (conditions and ``${...}`` variables): a
  tuple of at most ``bound`` string slots and its length ``n`` (``n == 0``: the key
  is missing; labkit treats an empty list as missing too). Why a bound is exact:
  every test on a key is an "exists a value with phi" or a "for all values
  psi" (= not exists not psi) atom, or "exactly one value" (variables). Given any
  tuple satisfying a formula, the sub-tuple holding one witness per true exists-atom
  (and two values when "exactly one" is false) keeps every atom's truth value, so
  a tuple of ``atoms + 2`` slots is as good as any size (tests/policy/analyze/
  test_properties.py draws multi-valued contexts against it);
- the principal's derived keys (aws:PrincipalArn, aws:PrincipalAccount, ...) come
  from the principal class being checked (principals.py), not from free slots.

Typed operators read a slot through a *view*: a number (z3 Real, exact for every
double), a date (seconds, Real), an IP network (version, 128-bit address, prefix
length) or a Bool (true / false / anything else). Views of one slot are
independent, which can only add requests (a superset of the real ones), so an
unsatisfiable formula is still a proof; a satisfying model is turned into a
concrete Request and checked with labkit.policy.evaluate before it is reported.

Whatever cannot be encoded exactly (BinaryEquals, IgnoreCase on the few characters
whose lower case is two characters, a wildcard before a variable, ...) becomes a
fresh unconstrained Bool: again only a superset. ``Space.inexact`` says why, so a
check that finds a model it cannot confirm answers FAIL "might grant".
"""
from __future__ import annotations

import ipaddress
import math
import re
from fractions import Fraction
from functools import lru_cache
from typing import Dict, List, Optional, Sequence, Tuple

import z3

from labkit.policy.analyze.keys import ALWAYS
from labkit.policy.conditions import parse_date, parse_number
from labkit.policy.variables import tokenize

#: z3's alphabet ends here (z3 "unicode" encoding).
MAX_CHAR = 0x2FFFF
_RE = z3.ReSort(z3.StringSort())
ANY = z3.AllChar(_RE)
NOT_COLON = z3.Intersect(ANY, z3.Complement(z3.Re(":")))
_SLASH = z3.Re("/")


def sval(text: str) -> z3.SeqRef:
    """A z3 string constant for TEXT (backslashes escaped: z3 reads \\u{..} escapes)."""
    return z3.StringVal(text.replace("\\", "\\u{5c}"))


def lit_re(text: str):
    return z3.Re(sval(text))


def decode(value) -> str:
    """A Python string from a z3 string value (its \\u{..} escapes decoded)."""
    raw = value.as_string()
    return re.sub(r"\\u\{([0-9a-fA-F]+)\}", lambda m: chr(int(m.group(1), 16)), raw)


def concat_re(parts):
    parts = [p for p in parts if p is not None]
    if not parts:
        return z3.Re(z3.StringVal(""))
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def glob_re(text: str, wild: bool = True, colons: Optional[int] = None):
    """Regex for glob TEXT; COLONS (ARN patterns): colons seen before TEXT starts.

    Returns (regex, colons after TEXT). In an ARN a wildcard in the first five
    segments does not span a colon (labkit.policy.matching._arn_body).
    """
    parts, run = [], []
    for ch in text:
        if wild and ch in "*?":
            if run:
                parts.append(lit_re("".join(run)))
                run = []
            narrow = colons is not None and colons < 5
            one = NOT_COLON if narrow else ANY
            parts.append(z3.Star(one) if ch == "*" else one)
        else:
            run.append(ch)
            if ch == ":" and colons is not None:
                colons += 1
    if run:
        parts.append(lit_re("".join(run)))
    return concat_re(parts), colons


def arn_re(pattern: str):
    """Regex of a static ARN pattern (``*`` alone: everything)."""
    if pattern == "*":
        return z3.Star(ANY)
    return glob_re(pattern, True, 0)[0]


def too_wide(text: str) -> bool:
    """True if TEXT holds characters beyond z3's alphabet."""
    return any(ord(c) > MAX_CHAR for c in text)


# ----------------------------------------------------------------------------- case folding

@lru_cache(maxsize=1)
def _lower_inverse() -> Tuple[Dict[str, Tuple[str, ...]], frozenset]:
    """char -> chars whose str.lower() is that char; and the chars lowering to 2+ chars' heads."""
    inv: Dict[str, List[str]] = {}
    multi = set()
    for cp in range(MAX_CHAR + 1):
        c = chr(cp)
        low = c.lower()
        if len(low) == 1:
            inv.setdefault(low, []).append(c)
        else:
            multi.add(low)
    return {k: tuple(v) for k, v in inv.items()}, frozenset(multi)


def ignore_case_re(policy_value: str):
    """Regex of the strings c with c.lower() == policy_value.lower(), or None if not exact."""
    inv, multi = _lower_inverse()
    target = policy_value.lower()
    if any(m in target for m in multi):
        return None  # a two-character lower case could be involved: not encoded
    parts = []
    for ch in target:
        chars = inv.get(ch, ())
        if not chars:
            return z3.Empty(_RE)  # no character lowers to it (e.g. an upper-case letter)
        alts = [z3.Re(sval(c)) for c in chars]
        parts.append(alts[0] if len(alts) == 1 else z3.Union(*alts))
    return concat_re(parts)


# ----------------------------------------------------------------------------- keys

#: A value of an ARN-typed key: arn:partition:service:region:account:resource.
_ARN_SHAPE = z3.Concat(z3.Re("arn:"), z3.Star(NOT_COLON), z3.Re(":"), z3.Star(NOT_COLON),
                       z3.Re(":"), z3.Star(NOT_COLON), z3.Re(":"), z3.Star(NOT_COLON),
                       z3.Re(":"), z3.Plus(ANY))


class Slot:
    """One value of a condition key; typed views are made on first use.

    DOCUMENTED: the key's type (keys.key_type): a request AWS could receive holds a value
    of that type, so a view of that family is a valid value (a date, a number, one
    address), and a Bool or ARN key's string is "true"/"false" or an ARN.
    """

    def __init__(self, name: str, term=None, concrete: Optional[str] = None, free: bool = True,
                 documented: Optional[str] = None, space: Optional["Space"] = None):
        self.name = name
        self.s = term if term is not None else z3.String(name)
        self.concrete, self.free = concrete, free
        self.documented = documented if free else None
        self._views: Dict[str, tuple] = {}
        if self.documented == "Bool" and space is not None:
            space.constraints.append(z3.Or(self.s == z3.StringVal("true"),
                                           self.s == z3.StringVal("false")))
        elif self.documented == "Arn" and space is not None:
            space.constraints.append(z3.InRe(self.s, _ARN_SHAPE))

    def view(self, family: str, space: "Space"):
        """The typed view for FAMILY, or None when it cannot be built (symbolic derived value)."""
        if family in self._views:
            return self._views[family]
        if self.concrete is not None:
            v = _concrete_view(family, self.concrete)
        elif not self.free:
            return None
        elif family == "Bool" and self.documented == "Bool":
            v = (z3.If(self.s == z3.StringVal("true"), z3.IntVal(1), z3.IntVal(0)),)
        else:
            v = _fresh_view(family, self.name, space, family == self.documented)
        self._views[family] = v
        return v


def _fresh_view(family: str, name: str, space: "Space", typed: bool = False):
    """A free view; TYPED: the key is documented of this family (the value is valid)."""
    if family in ("Numeric", "Date"):
        ok = z3.BoolVal(True) if typed else z3.Bool(f"{name}.is{family}")
        return (ok, z3.Real(f"{name}.{family}"))
    if family == "Bool":
        b = z3.Int(f"{name}.bool")
        space.constraints.append(z3.And(b >= 0, b <= 2))
        return (b,)
    if family == "Ip":
        ok = z3.BoolVal(True) if typed else z3.Bool(f"{name}.isip")
        v6 = z3.Bool(f"{name}.v6")
        addr, plen = z3.BitVec(f"{name}.addr", 128), z3.BitVec(f"{name}.plen", 8)
        full = z3.If(v6, z3.BitVecVal(128, 8), z3.BitVecVal(32, 8))
        space.constraints += [
            plen == full if typed else z3.ULE(plen, full),   # one address, not a network
            z3.Implies(z3.Not(v6), z3.Extract(127, 32, addr) == 0)]
        return (ok, v6, addr, plen)
    raise ValueError(family)


def _concrete_view(family: str, text: str):
    """Views of a known string, computed as labkit.policy.conditions parses it."""
    if family in ("Numeric", "Date"):
        try:
            x = (parse_number if family == "Numeric" else parse_date)(text)
        except (ValueError, TypeError, OverflowError):
            return (z3.BoolVal(False), z3.RealVal(0))
        if math.isnan(x) or math.isinf(x):
            return None
        return (z3.BoolVal(True), z3.RealVal(Fraction(x)))
    if family == "Bool":
        low = text.strip().lower()
        return (z3.IntVal({"true": 1, "false": 0}.get(low, 2)),)
    if family == "Ip":
        net = _ctx_network(text)
        if net is None:
            return (z3.BoolVal(False), z3.BoolVal(False), z3.BitVecVal(0, 128), z3.BitVecVal(0, 8))
        return (z3.BoolVal(True), z3.BoolVal(net.version == 6),
                z3.BitVecVal(int(net.network_address), 128), z3.BitVecVal(net.prefixlen, 8))
    raise ValueError(family)


def _ctx_network(text: str):
    try:
        a = ipaddress.ip_address(text.strip())
        return ipaddress.ip_network(f"{a}/{a.max_prefixlen}")
    except ValueError:
        try:
            return ipaddress.ip_network(text.strip(), strict=False)
        except ValueError:
            return None


class Key:
    """A condition key: its length ``n`` and value slots."""

    def __init__(self, name: str, n, slots: Sequence[Slot], free: bool):
        self.name, self.n, self.slots, self.free = name, n, list(slots), free

    def present(self):
        return self.n > 0 if not isinstance(self.n, int) else z3.BoolVal(self.n > 0)

    def single(self):
        """(is exactly one value, that value's term)."""
        one = self.n == 1 if not isinstance(self.n, int) else z3.BoolVal(self.n == 1)
        return one, self.slots[0].s if self.slots else sval("")

    def active(self, i: int):
        if isinstance(self.n, int):
            return z3.BoolVal(i < self.n)
        return self.n > i


class Space:
    """The symbolic request shared by every policy of one query."""

    def __init__(self, domain, bounds: Dict[str, int], derived: Dict[str, Optional[tuple]],
                 types: Optional[Dict[str, object]] = None):
        self.domain = domain
        self.act = z3.Int("action")
        self.res = z3.String("resource")
        # non-empty as a regex: z3's length terms beside regexes cost seconds
        self.constraints: List = [self.act >= 0, self.act < domain.size,
                                  z3.InRe(self.res, z3.Plus(ANY))]
        self.inexact: List[str] = []
        self.families: Dict[str, set] = {}
        self.keys: Dict[str, Key] = {}
        self.region = None  # frozenset of id(statement) whose Action matches (see checks.py)
        self._fresh = 0
        for key, spec in derived.items():
            # spec: None (absent), (term, concrete text or None), or ("optional", term, n)
            if spec is None:
                self.keys[key] = Key(key, 0, [], free=False)
            elif spec[0] == "optional":
                self.keys[key] = Key(key, spec[2], [Slot(key, spec[1], None, free=False)],
                                     free=False)
            else:
                term, text = spec
                self.keys[key] = Key(key, 1, [Slot(key, term, text, free=False)], free=False)
        types = types or {}
        for key, bound in bounds.items():
            if key in self.keys:
                continue
            kt = types.get(key)
            family = getattr(kt, "family", None)
            if kt is not None and not kt.multi:
                bound = 1  # a single-valued key holds one value or none
            n = z3.Int(f"{key}#n")
            slots = [Slot(f"{key}#{i}", documented=family, space=self) for i in range(bound)]
            low = 1 if key in ALWAYS else 0   # AWS adds the time to every request
            self.constraints += [n >= low, n <= bound]
            self.keys[key] = Key(key, n, slots, free=True)

    def key(self, name: str) -> Key:
        return self.keys[name]

    def fresh(self, why: str):
        """An unconstrained Bool standing for something not encoded exactly."""
        self._fresh += 1
        if why not in self.inexact:
            self.inexact.append(why)
        return z3.Bool(f"inexact#{self._fresh}")

    def used(self, key: str, family: str) -> None:
        self.families.setdefault(key, set()).add(family)


# ----------------------------------------------------------------------------- variables

def resolve(tokens, space: Space):
    """The ways TOKENS resolve: [(guard, [(term, literal text or None, wild)])].

    A variable takes its key's value when the key has exactly one value, else its
    default, else the string matches nothing (labkit.policy.variables.resolve_tokens).
    Each way is a separate alternative (no z3 If inside a string: z3 solves the
    alternatives far faster).
    """
    ways = [([], [])]
    for kind, a, b in tokens:
        if kind == "lit":
            ways = [(g, p + [(sval(a), a, b)]) for g, p in ways]
            continue
        key = space.key(a)
        space.used(a, "String")
        one, value = key.single()
        known = key.slots[0].concrete if key.slots and not key.free else None
        if known is not None and isinstance(key.n, int):
            # a derived key with a known value: literal text, no alternative needed
            ways = [(g, p + [(sval(known), known, False)]) for g, p in ways]
            continue
        options = [(one, value)]
        if b is not None:
            options.append((z3.Not(one), sval(b)))
        ways = [(g + [cond], p + [(term, None, False)]) for g, p in ways for cond, term in options]
    return [(z3.And(*g) if g else z3.BoolVal(True), p) for g, p in ways]


def pattern_match(target, raw: str, space: Space, arn: bool):
    """TARGET matches the policy pattern RAW holding variables (ArnLike/StringLike/Resource)."""
    tokens = tokenize(raw)
    if not any(t[0] == "var" for t in tokens):
        # only ${*}/${?}/${$} escapes: a static pattern with some literal pieces
        parts, colons = [], 0 if arn else None
        if arn and len(tokens) == 1 and tokens[0] == ("lit", "*", True):
            return z3.BoolVal(True)
        for _kind, text, wild in tokens:
            r, colons = glob_re(text, wild, colons)
            parts.append(r)
        return z3.InRe(target, concat_re(parts))
    return z3.Or(*[z3.And(guard, _pieces_match(target, pieces, space, arn))
                   for guard, pieces in resolve(tokens, space)])


def _pieces_match(target, pieces, space: Space, arn: bool):
    """TARGET matches PIECES: literal text (maybe wild) and variable values (literal)."""
    if all(text is not None for _t, text, _w in pieces):
        # every value known (e.g. a derived key): one static regex
        parts, colons = [], 0 if arn else None
        for _t, text, wild in pieces:
            r, colons = glob_re(text, wild, colons)
            parts.append(r)
        return z3.InRe(target, concat_re(parts))
    last_var = max(i for i, (_t, text, _w) in enumerate(pieces) if text is None)
    head, tail = list(pieces[:last_var + 1]), list(pieces[last_var + 1:])
    if any(text is not None and wild and ("*" in text or "?" in text) for _t, text, wild in head):
        return space.fresh("a wildcard before a policy variable in one pattern")
    # Literal text after the last variable, up to the first wildcard, joins the prefix.
    while tail:
        _t, text, wild = tail[0]
        cut = min([i for i, c in enumerate(text) if wild and c in "*?"], default=len(text))
        if cut:
            head.append((sval(text[:cut]), text[:cut], False))
        if cut < len(text):
            tail[0] = (sval(text[cut:]), text[cut:], wild)
            break
        tail.pop(0)
    colons = None
    if arn:
        colons = sum(text.count(":") for _t, text, _w in head if text is not None)
        tail_text = "".join(text for _t, text, wild in tail if wild)
        if colons < 5 and ("*" in tail_text or "?" in tail_text):
            return space.fresh("an ARN wildcard whose segment depends on a variable's colons")
    prefix = z3.Concat(*[t for t, _x, _w in head]) if len(head) > 1 else head[0][0]
    if not tail:
        return target == prefix
    if len(tail) == 1 and tail[0][1] == "*" and tail[0][2] and (colons is None or colons >= 5):
        return z3.PrefixOf(prefix, target)  # PREFIX then anything
    parts = []
    for _t, text, wild in tail:
        r, colons = glob_re(text, wild, colons)
        parts.append(r)
    rest = z3.SubString(target, z3.Length(prefix), z3.Length(target) - z3.Length(prefix))
    return z3.And(z3.PrefixOf(prefix, target), z3.InRe(rest, concat_re(parts)))


def substituted(raw: str, space: Space):
    """[(guard, term)]: the values a policy string with variables can take."""
    out = []
    for guard, pieces in resolve(tokenize(raw), space):
        terms = [t for t, _x, _w in pieces]
        out.append((guard, terms[0] if len(terms) == 1 else z3.Concat(*terms)))
    return out


# ----------------------------------------------------------------------------- conditions

def check_formula(check, space: Space, dynamic: bool):
    """The z3 Bool for one compiled labkit.policy.conditions.ConditionTest."""
    key = space.key(check.key)
    present = key.present()
    if check.op is None:  # Null
        missing = z3.Not(present)
        return z3.Or(*[missing if v == "true" else present for v in check.values])
    if check.set_op == "ForAllValues":
        when_missing = z3.BoolVal(True)
    elif check.set_op == "ForAnyValue":
        when_missing = z3.BoolVal(False)
    else:
        when_missing = z3.BoolVal(check.if_exists or check.op.negated)
    space.used(check.key, check.op.family)
    matchers = _matchers(check, space, dynamic)

    def match_one(slot):
        return z3.Or(*[m(slot) for m in matchers]) if matchers else z3.BoolVal(False)

    slots = key.slots
    if check.set_op == "ForAllValues":
        each = [z3.Implies(key.active(i), z3.Not(match_one(s)) if check.op.negated
                           else match_one(s)) for i, s in enumerate(slots)]
        body = z3.And(*each) if each else z3.BoolVal(True)
    elif check.set_op == "ForAnyValue":
        each = [z3.And(key.active(i), z3.Not(match_one(s)) if check.op.negated
                       else match_one(s)) for i, s in enumerate(slots)]
        body = z3.Or(*each) if each else z3.BoolVal(False)
    else:
        each = [z3.And(key.active(i), match_one(s)) for i, s in enumerate(slots)]
        hit = z3.Or(*each) if each else z3.BoolVal(False)
        body = z3.Not(hit) if check.op.negated else hit
    return z3.If(present, body, when_missing)


def _matchers(check, space: Space, dynamic: bool):
    """One function slot -> Bool per policy value of CHECK."""
    op = check.op
    fam = op.family
    out = []
    if check.dynamic:
        for raw in check.raw:
            out.append(_dynamic_matcher(op, raw, space))
        return out
    for raw, parsed in zip(check.raw, check.values):
        out.append(_static_matcher(op, raw, parsed, space, fam))
    return out


def _static_matcher(op, raw, parsed, space: Space, fam: str):
    name = op.name
    if fam in ("String", "Arn") and too_wide(raw):
        return lambda slot: space.fresh("a policy string beyond z3's alphabet (U+2FFFF)")
    if name in ("StringEquals", "StringNotEquals"):
        v = sval(parsed)
        return lambda slot: slot.s == v
    if name in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        r = ignore_case_re(parsed)
        if r is None:
            return lambda slot: space.fresh("IgnoreCase with a character whose lower case is "
                                            "two characters")
        return lambda slot: z3.InRe(slot.s, r)
    if name in ("StringLike", "StringNotLike"):
        if "*" not in parsed and "?" not in parsed:
            v = sval(parsed)
            return lambda slot: slot.s == v
        r = glob_re(parsed)[0]
        return lambda slot: z3.InRe(slot.s, r)
    if fam == "Arn":
        r = arn_re(parsed)
        return lambda slot: z3.InRe(slot.s, r)
    if fam in ("Numeric", "Date"):
        return _number_matcher(op, parsed, space, fam)
    if fam == "Bool":
        want = 1 if parsed == "true" else 0

        def boolean(slot):
            v = slot.view("Bool", space)
            return space.fresh("Bool on a derived key") if v is None else v[0] == want
        return boolean
    if fam == "Ip":
        return _ip_matcher(parsed, space)
    return lambda slot: space.fresh(f"{name} (binary values are not encoded)")


_TESTS = {"Equals": lambda a, b: a == b, "NotEquals": lambda a, b: a == b,
          "LessThan": lambda a, b: a < b, "LessThanEquals": lambda a, b: a <= b,
          "GreaterThan": lambda a, b: a > b, "GreaterThanEquals": lambda a, b: a >= b}


def _number_matcher(op, parsed: float, space: Space, fam: str):
    test = _TESTS[op.name[len(fam):]]
    if math.isnan(parsed):
        return lambda slot: z3.BoolVal(False)  # nothing compares true with NaN
    if math.isinf(parsed):
        return lambda slot: space.fresh(f"{op.name} with an infinite policy value")
    bound = z3.RealVal(Fraction(parsed))

    def number(slot):
        v = slot.view(fam, space)
        if v is None:
            return space.fresh(f"{op.name} on a derived key")
        return z3.And(v[0], test(v[1], bound))
    return number


def _ip_matcher(net, space: Space):
    width = 128 if net.version == 6 else 32
    net_addr = z3.BitVecVal(int(net.network_address), 128)
    net_mask = z3.BitVecVal(int(net.netmask), 128)

    def ip(slot):
        v = slot.view("Ip", space)
        if v is None:
            return space.fresh("IpAddress on a derived key")
        ok, v6, addr, plen = v
        return z3.And(ok, v6 == (width == 128), z3.UGE(plen, net.prefixlen),
                      addr & net_mask == net_addr)
    return ip


def _dynamic_matcher(op, raw: str, space: Space):
    name = op.name
    if too_wide(raw):
        return lambda slot: space.fresh("a policy string beyond z3's alphabet (U+2FFFF)")
    if name in ("StringLike", "StringNotLike") or op.family == "Arn":
        arn = op.family == "Arn"
        return lambda slot: pattern_match(slot.s, raw, space, arn)
    if name in ("StringEquals", "StringNotEquals"):
        def equals(slot):
            return z3.Or(*[z3.And(g, slot.s == t) for g, t in substituted(raw, space)])
        return equals
    return lambda slot: space.fresh(f"{name} with a policy variable")


# ----------------------------------------------------------------------------- statements

def action_formula(st, space: Space):
    if space.region is not None:  # the action class is fixed: membership is known
        return z3.BoolVal(id(st) in space.region)
    values = st.raw["Action"] if "Action" in st.raw else st.raw["NotAction"]
    values = values if isinstance(values, list) else [values]
    spans = space.domain.matching(values)
    hit = z3.Or(*[z3.And(space.act >= lo, space.act < hi) for lo, hi in spans]) if spans \
        else z3.BoolVal(False)
    return z3.Not(hit) if st.not_action else hit


def resource_formula(st, space: Space, version_vars: bool):
    if st.resources is None:
        return z3.BoolVal(True)  # trust policies
    values = st.raw["Resource"] if "Resource" in st.raw else st.raw["NotResource"]
    values = values if isinstance(values, list) else [values]
    hits = []
    for p in values:
        if p == "*":
            hits.append(z3.BoolVal(True))
        elif too_wide(p):
            hits.append(space.fresh("a resource ARN beyond z3's alphabet (U+2FFFF)"))
        elif version_vars and "${" in p:
            hits.append(pattern_match(space.res, p, space, arn=True))
        elif "*" in p or "?" in p:
            hits.append(z3.InRe(space.res, arn_re(p)))
        else:
            hits.append(space.res == sval(p))
    hit = z3.Or(*hits)
    return z3.Not(hit) if st.not_resource else hit


def statement_formula(st, space: Space, version_vars: bool):
    """Action, resource and conditions of ST hold (the principal is decided outside)."""
    parts = [action_formula(st, space), resource_formula(st, space, version_vars)]
    parts += [check_formula(c, space, version_vars) for c in st.conditions]
    return z3.And(*parts)


def keys_and_atoms(policies) -> Dict[str, int]:
    """key -> number of atoms on it (condition tests and variable uses) in POLICIES."""
    counts: Dict[str, int] = {}

    def var_keys(text: str):
        for kind, a, _b in tokenize(text):
            if kind == "var":
                counts[a] = counts.get(a, 0) + 1

    for policy in policies:
        vars_on = policy.version == "2012-10-17"
        for st in policy.statements:
            res = st.raw.get("Resource", st.raw.get("NotResource"))
            for p in (res if isinstance(res, list) else [res] if res else []):
                if vars_on and "${" in p:
                    var_keys(p)
            for c in st.conditions:
                counts[c.key] = counts.get(c.key, 0) + 1
                if c.dynamic:
                    for raw in c.raw:
                        var_keys(raw)
    return counts


# ----------------------------------------------------------------------------- resource types

_DIGIT = z3.Range("0", "9")
_PART_RE = z3.Concat(z3.Re("aws"), z3.Star(z3.Concat(z3.Re("-"), z3.Plus(z3.Range("a", "z")))))
_REGION_RE = z3.Plus(z3.Union(z3.Range("a", "z"), _DIGIT, z3.Re("-")))
_SEGMENT_RE = z3.Plus(z3.Intersect(NOT_COLON, z3.Complement(_SLASH)))


@lru_cache(maxsize=None)
def format_re(fmt: str):
    """z3 regex of the ARNs of one resource type's format (as keys.format_regex reads it)."""
    from labkit.policy.analyze.keys import _ONE_SEGMENT

    parts = re.split(r"(\$\{[^}]+\})", fmt)
    out = []
    for i, part in enumerate(parts):
        if not part.startswith("${"):
            if part:
                out.append(lit_re(part))
            continue
        name = part[2:-1]
        last = i == len(parts) - 1 or (i == len(parts) - 2 and parts[-1] == "")
        if name == "Partition":
            out.append(_PART_RE)
        elif name == "Account":
            out.append(z3.Loop(_DIGIT, 12, 12))
        elif name == "Region":
            out.append(_REGION_RE)
        elif last and name not in _ONE_SEGMENT:
            out.append(z3.Plus(ANY))
        else:
            out.append(_SEGMENT_RE)
    return concat_re(out)


def resource_type_formula(res, formats):
    """RES is of one of FORMATS (() : the action takes "*"; None: not documented)."""
    if formats is None:
        return z3.InRe(res, z3.Plus(ANY))
    if not formats:
        return res == z3.StringVal("*")
    regs = [format_re(f) for f in formats]
    return z3.InRe(res, regs[0] if len(regs) == 1 else z3.Union(*regs))
