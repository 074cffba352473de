"""The three custom policy checks of IAM Access Analyzer, decided by z3.

``check_access_not_granted``, ``check_no_new_access`` and ``check_no_public_access``
return a :class:`AccessCheckResult` shaped like AWS's answer (``result``, ``message``,
``reasons`` as ReasonSummary: ``description``, ``statementIndex``, ``statementId``)
plus, on FAIL, ``counterexample``: a labkit.policy.Request that
labkit.policy.evaluate allows (``result.verify()`` re-runs that evaluation).

PASS is a proof: z3 found no request at all, over every caller class
(principals.py), every action of the Service Authorization Reference (actions.py),
every resource string and every context (encode.py). The request space is every
Request whose context does not set the keys evaluate derives from the caller
(principals.DERIVED: aws:PrincipalArn, aws:PrincipalAccount, ...), as on AWS
where the caller cannot choose them.

FAIL comes with a counterexample evaluate confirms. When z3's model cannot be
confirmed (a construct encoded as "anything", see encode.py) or z3 answers
unknown, the result is FAIL with a reason that starts "might grant" and says why,
as AWS answers in doubt: never a wrong PASS.
"""
from __future__ import annotations

import ipaddress
import json
import re
import time
from datetime import datetime, timezone
from fractions import Fraction
from typing import Dict, List, Optional, Sequence, Tuple

import z3

from labkit.policy.analyze import encode
from labkit.policy.analyze.actions import Domain
from labkit.policy.analyze.keys import (carried, key_type, resource_fits, resource_formats,
                                        valid_value)
from labkit.policy.analyze.principals import (DERIVED, Candidate, allow_all_levels,
                                              identity_candidates, resource_candidates)
from labkit.policy.document import Policy, parse_policy
from labkit.policy.errors import PolicyError
from labkit.policy.evaluate import Request, evaluate
from labkit.policy.principals import NO_MATCH
from labkit.policy.public import FIXING_KEYS, narrow_cidr

POLICY_TYPES = ("IDENTITY_POLICY", "RESOURCE_POLICY")
#: CheckNoPublicAccess resource types -> (IAM service prefixes, policy kind).
RESOURCE_TYPES = {
    "AWS::S3::Bucket": (("s3",), "resource"),
    "AWS::S3::AccessPoint": (("s3",), "resource"),
    "AWS::S3Express::DirectoryBucket": (("s3express",), "resource"),
    "AWS::KMS::Key": (("kms",), "resource"),
    "AWS::IAM::AssumeRolePolicyDocument": (("sts",), "trust"),
    "AWS::SQS::Queue": (("sqs",), "resource"),
    "AWS::SNS::Topic": (("sns",), "resource"),
    "AWS::Lambda::Function": (("lambda",), "resource"),
    "AWS::SecretsManager::Secret": (("secretsmanager",), "resource"),
    "AWS::DynamoDB::Table": (("dynamodb",), "resource"),
    "AWS::DynamoDB::Stream": (("dynamodb",), "resource"),
    "AWS::Kinesis::Stream": (("kinesis",), "resource"),
    "AWS::EFS::FileSystem": (("elasticfilesystem",), "resource"),
    "AWS::S3::Glacier": (("glacier",), "resource"),
}
ALLOW_ALL = {"Version": "2012-10-17",
             "Statement": [{"Sid": "CallerAllowsEverything", "Effect": "Allow", "Action": "*",
                            "Resource": "*"}]}
_PRINTABLE = z3.Star(z3.Range("!", "~"))
#: z3 per query; a check that needs longer answers FAIL "might grant".
TIMEOUT_MS = 8000
#: the quick first pass with representative caller names (see _run)
QUICK_MS = 1000
#: time allowed to find a more readable counterexample (else the first model is shown)
PREFERENCE_MS = 100
STATS = {"first": 0.0, "nicer": 0.0}

MESSAGES = {
    ("access", "PASS"): "The policy document does not grant access to perform one or more of "
                        "the listed actions or resources.",
    ("access", "FAIL"): "The policy document grants access to perform one or more of the listed "
                        "actions or resources.",
    ("new", "PASS"): "The modified permissions do not grant new access compared to your existing "
                     "policy.",
    ("new", "FAIL"): "The modified permissions grant new access compared to your existing policy.",
    ("public", "PASS"): "The resource policy does not grant public access for the given resource "
                        "type.",
    ("public", "FAIL"): "The resource policy grants public access for the given resource type.",
}


class AccessCheckResult:
    """``result`` "PASS" | "FAIL", ``message``, ``reasons`` (AWS ReasonSummary dicts),
    ``counterexample`` (Request or None), ``might_grant`` (why a FAIL is unconfirmed)."""

    def __init__(self, check: str, result: str, reasons=None, counterexample=None,
                 evaluation=None, might_grant: Optional[str] = None, caller_class: str = ""):
        self.check, self.result = check, result
        self.message = MESSAGES[(check, result)]
        self.reasons: List[dict] = reasons or []
        self.counterexample: Optional[Request] = counterexample
        self.evaluation = evaluation or {}
        self.might_grant = might_grant
        self.caller_class = caller_class

    @property
    def passed(self) -> bool:
        return self.result == "PASS"

    def to_aws(self) -> dict:
        """The response body AWS returns: result, message, reasons."""
        return {"result": self.result, "message": self.message, "reasons": self.reasons}

    def verify(self) -> bool:
        """Re-run labkit.policy.evaluate on the counterexample (True if it confirms)."""
        if self.counterexample is None:
            return False
        return _confirm(self.counterexample, self.evaluation)

    def explain(self) -> str:
        """One paragraph for a learner."""
        lines = [f"{self.result}: {self.message}"]
        for r in self.reasons:
            lines.append(f"  - {r['description']}")
        if self.counterexample is not None:
            c = self.counterexample
            lines.append(f"  counterexample: {c.principal} may {c.action} on {c.resource}")
            if c.context:
                lines.append(f"    with context {c.context}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<AccessCheckResult {self.result} {self.reasons} counterexample={self.counterexample}>"


# ----------------------------------------------------------------------------- inputs

def _policy(doc, policy_type: str, name: str) -> Policy:
    if policy_type not in POLICY_TYPES:
        raise ValueError(f"policy_type must be one of {POLICY_TYPES}, not {policy_type!r}")
    if policy_type == "IDENTITY_POLICY":
        return parse_policy(doc, name, "identity")
    try:
        return parse_policy(doc, name, "resource")
    except PolicyError as exc:
        if exc.field not in ("Resource",):
            raise
        return parse_policy(doc, name, "trust")  # a role trust policy has no Resource


def _named_actions(policies, extra: Sequence[str] = ()) -> List[str]:
    found = [a for a in extra if "*" not in a and "?" not in a]
    for p in policies:
        for st in p.statements:
            vals = st.raw.get("Action", st.raw.get("NotAction"))
            for v in vals if isinstance(vals, list) else [vals]:
                if "*" not in v and "?" not in v:
                    found.append(v)
    return found


# ----------------------------------------------------------------------------- queries

class _Query:
    """One satisfiability question for one caller class."""

    def __init__(self, policies: List[Policy], mode: str, cand: Candidate, domain: Domain):
        self.policies, self.mode, self.cand, self.domain = policies, mode, cand, domain
        counts = encode.keys_and_atoms(policies)
        bounds = {k: v + 2 for k, v in counts.items()}
        derived = {k: v for k, v in cand.derived.items()}
        self.ra = None
        symbolic_ra = "aws:resourceaccount" in counts
        if mode == "resource":
            if cand.signed:
                self.ra, ra_cons = cand.resource_account(symbolic_ra)
                derived["aws:resourceaccount"] = (self.ra, None)
            else:
                self.ra, ra_cons = cand.resource_account(symbolic_ra)
                self.ra_n = z3.Int(f"resource_account#n[{cand.label}]")
                ra_cons = ra_cons + [self.ra_n >= 0, self.ra_n <= 1]
                derived["aws:resourceaccount"] = ("optional", self.ra, self.ra_n)
        else:
            self.ra, ra_cons = cand.account, []
            derived["aws:resourceaccount"] = (cand.account, None)
        for key in DERIVED:
            # a key AWS derives that this caller does not have (aws:username of a role
            # session) is absent; aws:userid of a non-root caller is an opaque id: free
            if key not in derived and key not in ("aws:userid", "aws:resourceaccount"):
                derived[key] = None
        if not cand.signed:
            # No principal, no organization, no principal tags (aws:PrincipalOrgID, ...).
            for key in bounds:
                if key.startswith("aws:principal") and key not in derived \
                        and key != "aws:principalservicename":
                    derived[key] = None
        types = {k: key_type(k) for k in bounds}
        self.space = encode.Space(domain, bounds, derived, types)
        self.space.constraints += cand.constraints + ra_cons

    def grants(self, policy: Policy):
        """The policy lets this caller class through (evaluate.py's rules)."""
        s, vars_on = self.space, policy.version == "2012-10-17"
        levels = self.cand.levels(policy) if self.mode == "resource" else None
        ok_levels = allow_all_levels(self.cand) if self.mode == "resource" else None
        allows, denies = [], []
        for i, st in enumerate(policy.statements):
            if levels is not None and levels[i] == NO_MATCH:
                continue
            f = encode.statement_formula(st, s, vars_on)
            if st.effect == "Deny":
                denies.append(f)
            elif levels is None or levels[i] in ok_levels:
                allows.append(f)
        allow = z3.Or(*allows) if allows else z3.BoolVal(False)
        deny = z3.Or(*denies) if denies else z3.BoolVal(False)
        return z3.And(allow, z3.Not(deny))

    def signature(self):
        levels = tuple(self.cand.levels(p) for p in self.policies) if self.mode == "resource" \
            else ()
        return (self.mode, self.cand.signed, self.cand.same, self.cand.kind == "root", levels)


def _solve(query: _Query, goal, restrict=(), timeout_ms: int = 0,
           prefer: bool = True) -> Tuple[str, Optional[z3.ModelRef]]:
    solver = z3.Solver()
    solver.set("timeout", timeout_ms or TIMEOUT_MS)
    solver.add(*query.space.constraints)
    solver.add(*restrict)
    solver.add(goal)
    t0 = time.perf_counter()
    answer = solver.check()
    STATS["first"] += time.perf_counter() - t0
    if answer == z3.sat and not prefer:
        return "sat", solver.model()
    if answer == z3.sat:
        first = solver.model()
        # A readable counterexample when one exists (aws partition, short names, an ARN).
        solver.push()
        solver.add(*query.cand.preferences)
        solver.add(*[k.n <= 1 for k in query.space.keys.values() if k.free])  # one value each
        solver.add(z3.InRe(query.space.res, _PRINTABLE))  # the type gives "arn:..." or "*"
        solver.add(*[z3.IsInt(v[1]) for k in query.space.keys.values() if k.free
                     for slot in k.slots for f, v in slot._views.items()
                     if f in ("Numeric", "Date")])
        solver.set("timeout", PREFERENCE_MS)
        t0 = time.perf_counter()
        nicer = solver.check()
        STATS["nicer"] += time.perf_counter() - t0
        if nicer == z3.sat:
            return "sat", solver.model()
        return "sat", first
    return ("unsat" if answer == z3.unsat else "unknown"), None


def _statement_spans(st, domain: Domain):
    values = st.raw["Action"] if "Action" in st.raw else st.raw["NotAction"]
    return domain.matching(values if isinstance(values, list) else [values])


def _regions(policies, domain: Domain, limit=None):
    """The action domain cut into classes on which every statement's Action matches alike.

    Returns [(ids of the statements whose Action/NotAction matches, its intervals)]:
    every action of a class gets the same decision for the same rest of the request
    (the resource's type and the keys present aside: :func:`_typed` splits on those), so
    z3 no longer reasons about actions. LIMIT: the checked actions' intervals (None: all).
    """
    statements = [st for p in policies for st in p.statements]
    spans = {id(st): _statement_spans(st, domain) for st in statements}
    cuts = {0, domain.size}
    for st in statements:
        for lo, hi in spans[id(st)]:
            cuts.update((lo, hi))
    for lo, hi in limit or ():
        cuts.update((lo, hi))
    points = sorted(c for c in cuts if 0 <= c <= domain.size)
    found: Dict[frozenset, list] = {}
    for lo, hi in zip(points, points[1:]):
        if lo >= hi or (limit is not None and not _inside(lo, limit)):
            continue
        sig = frozenset(id(st) for st in statements
                        if _inside(lo, spans[id(st)]) != st.not_action)
        found.setdefault(sig, []).append((lo, hi))
    return list(found.items())


#: Above this many (resource formats, keys carried) groups in one action class, the rest
#: share one looser case (any resource, any key) whose model is matched to an action after.
MAX_GROUPS = 24


class Typed:
    """The actions of one region grouped by what a request for them can hold.

    ``groups``: [(resource formats or None, keys it never carries, action indices)];
    ``loose``: action indices left to the looser last case (MAX_GROUPS)."""

    def __init__(self, domain: Domain, intervals, keys: Sequence[str]):
        by: Dict[tuple, list] = {}
        for lo, hi in intervals:
            for i in range(lo, hi):
                name = domain.name(i)
                absent = frozenset(k for k in keys if not carried(name, k))
                by.setdefault((resource_formats(name), absent), []).append(i)
        ordered = sorted(by.items(), key=lambda kv: -len(kv[1]))
        self.groups = [(f, a, idx) for (f, a), idx in ordered[:MAX_GROUPS]]
        self.loose = [i for _k, idx in ordered[MAX_GROUPS:] for i in idx]

    def formula(self, space, choice):
        """CHOICE (a z3 Int) picks a group; the resource and keys then fit it."""
        cases = []
        for g, (formats, absent, _idx) in enumerate(self.groups):
            parts = [choice == g, encode.resource_type_formula(space.res, formats)]
            parts += [space.keys[k].n == 0 for k in sorted(absent)
                      if k in space.keys and space.keys[k].free]
            cases.append(z3.And(*parts))
        if self.loose:
            cases.append(choice == len(self.groups))
        return z3.Or(*cases)


def _inside(i: int, spans) -> bool:
    return any(lo <= i < hi for lo, hi in spans)


def _uses_derived(policies) -> bool:
    keys = set(encode.keys_and_atoms(policies))
    return bool(keys & set(DERIVED))


def _classes(policies, mode: str, public_accounts=(), public_only=False,
             keys=None) -> List[Candidate]:
    keys = encode.keys_and_atoms(policies) if keys is None else keys
    if mode == "identity":
        return identity_candidates(keys)
    return resource_candidates(policies, public_only, public_accounts, keys)


# ----------------------------------------------------------------------------- rendering

#: A value of a documented type for a key only Null reads (any value will do).
_DEFAULTS = {"Numeric": "1", "Date": "2027-01-01T00:00:00Z", "Ip": "192.0.2.1"}


def _render_slot(slot, fams, model) -> str:
    typed = [f for f in ("Ip", "Numeric", "Date", "Bool") if f in fams]
    if slot.documented in _DEFAULTS and not fams & {"String", "Arn"} \
            and slot.documented not in typed:
        return _DEFAULTS[slot.documented]   # read by Null alone (or not by its type)
    if "String" in fams or "Arn" in fams or not typed or slot.concrete is not None:
        return encode.decode(model.eval(slot.s, model_completion=True))
    fam = slot.documented if slot.documented in typed else typed[0]
    view = slot._views.get(fam)
    if view is None:
        return encode.decode(model.eval(slot.s, model_completion=True))
    ev = [model.eval(v, model_completion=True) for v in view]
    if fam in ("Numeric", "Date"):
        if not z3.is_true(ev[0]):
            return "not-a-number"
        frac = ev[1].as_fraction()
        value = Fraction(frac.numerator, frac.denominator)
        if fam == "Date" and value.denominator == 1 and -62135596800 <= value.numerator \
                <= 253402300799:
            # ISO 8601, as AWS writes aws:CurrentTime
            when = datetime.fromtimestamp(value.numerator, timezone.utc)
            return when.strftime("%Y-%m-%dT%H:%M:%SZ")
        return repr(float(value)) if value.denominator != 1 else str(value.numerator)
    if fam == "Bool":
        return {1: "true", 0: "false"}.get(ev[0].as_long(), "neither")
    ok, v6, addr, plen = ev
    if not z3.is_true(ok):
        return "not-an-ip"
    version = 6 if z3.is_true(v6) else 4
    a = ipaddress.ip_address(addr.as_long() if version == 6 else addr.as_long() & 0xFFFFFFFF)
    p = plen.as_long()
    return str(a) if p == a.max_prefixlen else f"{a}/{p}"


def _render(query: _Query, model) -> Tuple[Request, Dict]:
    cand, space = query.cand, query.space
    if cand.arn is None:
        principal = cand.rep
    else:
        principal = encode.decode(model.eval(cand.arn, model_completion=True))
    resource = encode.decode(model.eval(space.res, model_completion=True))
    g = model.eval(query.choice, model_completion=True).as_long()
    typed = query.typed
    members = typed.groups[g][2] if g < len(typed.groups) else typed.loose
    action = query.domain.name(members[0])
    if g >= len(typed.groups):  # the looser case: an action of the class this request fits
        used = [k for k, key in space.keys.items()
                if key.free and model.eval(key.n, model_completion=True).as_long() > 0]
        fits = [query.domain.name(i) for i in members]
        fits = [a for a in fits if resource_fits(a, resource) and all(carried(a, k) for k in used)]
        query.unfit = None if fits else (f"the resource types of {len(members)} actions of one "
                                         f"class are not encoded one by one")
        action = fits[0] if fits else action
    context = {}
    for name, key in space.keys.items():
        if not key.free:
            continue
        n = model.eval(key.n, model_completion=True).as_long()
        fams = space.families.get(name, set())
        values = [_render_slot(key.slots[i], fams, model) for i in range(n)]
        if n == 0:
            continue
        family = key_type(name).family
        if any(not valid_value(family, v) for v in values) and query.unfit is None:
            # a typed key also read by string operators: its string is not tied to its type
            query.unfit = (f"string operators on {name}, a {family} key, are not encoded "
                           f"with its type")
        context[name] = values[0] if n == 1 and not key_type(name).multi else values
    if query.mode == "identity" or cand.signed:
        ra = encode.decode(model.eval(query.ra, model_completion=True))
    else:
        present = model.eval(query.ra_n, model_completion=True).as_long() == 1
        ra = encode.decode(model.eval(query.ra, model_completion=True)) if present else None
    request = Request(principal, action, resource, context, ra)
    identity = [("caller's identity policy (allows everything)", ALLOW_ALL)] \
        if query.mode == "resource" and cand.signed and not cand.same else []
    return request, {"identity": identity}


def _decision(request: Request, policy: Policy, mode: str, identity) -> object:
    if mode == "identity":
        return evaluate(request, identity_policies=[(policy.name, policy)])
    return evaluate(request, identity_policies=identity, resource_policy=(policy.name, policy))


def _confirm(request: Request, evaluation: dict) -> bool:
    mode, identity = evaluation["mode"], evaluation["identity"]
    if not _decision(request, evaluation["grants"], mode, identity).allowed:
        return False
    other = evaluation.get("not")
    return other is None or not _decision(request, other, mode, identity).allowed


def _reasons_from(decision, policy: Policy) -> List[dict]:
    by_label = {st.label: st for st in policy.statements}
    out = []
    for r in decision.reasons:
        st = by_label.get(r.statement) if r.policy == policy.name else None
        if st is None or st.effect != "Allow":
            continue
        where = f"sid: {st.sid}" if st.sid else f"index: {st.index}"
        item = {"description": f"One or more of the listed actions or resources in the "
                               f"statement with {where}.", "statementIndex": st.index}
        if st.sid:
            item["statementId"] = st.sid
        out.append(item)
    return out


def _might(reason: str) -> List[dict]:
    return [{"description": f"might grant: {reason}"}]


def _run(check: str, grants: Policy, not_policy: Optional[Policy], mode: str,
         domain: Domain, restrict_fn=None, classes=None, limit=None) -> AccessCheckResult:
    """Ask z3, caller class by caller class; confirm a model with evaluate.

    When the policies read the caller's derived keys (aws:username, ...), a quick first
    pass tries every class with representative names: most over-broad policies are
    caught there with a readable counterexample. The proof itself is the second pass,
    with those names symbolic.
    """
    policies = [grants] + ([not_policy] if not_policy is not None else [])
    classes = classes or (lambda keys: _classes(policies, mode, keys=keys))
    keys = encode.keys_and_atoms(policies)
    allow_ids = {id(st) for st in grants.statements if st.effect == "Allow"}
    free = sorted(k for k in keys if k not in DERIVED)
    regions = [(sig, Typed(domain, spans, free)) for sig, spans in
               _regions(policies, domain, limit) if sig & allow_ids]
    if _uses_derived(policies):
        found = _pass(check, policies, mode, domain, restrict_fn, classes(()), QUICK_MS,
                      regions, prefer=False)
        if found is not None and found.counterexample is not None:
            return found
    found = _pass(check, policies, mode, domain, restrict_fn, classes(keys), TIMEOUT_MS,
                  regions)
    return found if found is not None else AccessCheckResult(check, "PASS")


def _one(check, policies, mode, domain, restrict_fn, cand, region, typed, timeout_ms, prefer,
         dedupe, seen, doubts):
    """One caller class and one action class: a confirmed FAIL, or None (doubts noted)."""
    grants, not_policy = policies[0], policies[1] if len(policies) > 1 else None
    query = _Query(policies, mode, cand, domain)
    if dedupe:
        sig = (query.signature(), region)
        if sig in seen:
            return None
        seen.add(sig)
    query.space.region = region
    query.typed = typed
    query.choice = z3.Int("resource_type_group")
    query.space.constraints.append(typed.formula(query.space, query.choice))
    goal = query.grants(grants)
    if not_policy is not None:
        goal = z3.And(goal, z3.Not(query.grants(not_policy)))
    restrict = restrict_fn(query.space) if restrict_fn else []
    answer, model = _solve(query, goal, restrict, timeout_ms, prefer)
    if answer == "unsat":
        return None
    if answer == "unknown":
        doubts.append(f"the solver found no answer within {timeout_ms} ms for the caller "
                      f"class {cand.label}")
        return None
    query.unfit = None
    request, ev = _render(query, model)
    evaluation = {"mode": mode, "identity": ev["identity"], "grants": grants, "not": not_policy}
    if query.unfit:
        doubts.append(f"{query.unfit} (caller class {cand.label}; unconfirmed request "
                      f"{request!r})")
        return None
    if _confirm(request, evaluation):
        decision = _decision(request, grants, mode, ev["identity"])
        return AccessCheckResult(check, "FAIL", _reasons_from(decision, grants), request,
                           evaluation, caller_class=cand.label)
    why = "; ".join(query.space.inexact) or "z3's model was not confirmed by evaluate"
    doubts.append(f"{why} (caller class {cand.label}; unconfirmed request {request!r})")
    return None


def _pass(check, policies, mode, domain, restrict_fn, cands, timeout_ms, regions,
          prefer=True):
    """A confirmed FAIL, a "might grant" FAIL, or None when every class is unsatisfiable."""
    dedupe = not _uses_derived(policies) or not prefer
    seen = set()
    doubts: List[str] = []
    for cand in cands:
        for region, typed in regions:
            found = _one(check, policies, mode, domain, restrict_fn, cand, region, typed,
                         timeout_ms, prefer, dedupe, seen, doubts)
            if found is not None:
                return found
    if doubts:
        return AccessCheckResult(check, "FAIL", _might(doubts[0]), None, None, might_grant=doubts[0])
    return None


# ----------------------------------------------------------------------------- the checks

def check_access_not_granted(policy, actions: Sequence[str] = (),
                             resources: Optional[Sequence[str]] = None,
                             policy_type: str = "IDENTITY_POLICY") -> AccessCheckResult:
    """PASS if POLICY grants none of ACTIONS (on RESOURCES, when given) to any caller.

    ACTIONS may use wildcards (expanded over the Service Authorization
    Reference); RESOURCES are ARNs or ARN patterns (``*`` and ``?`` as in a
    policy). At least one of them must be given, as for AWS.
    """
    actions = list(actions or [])
    resources = list(resources) if resources else []
    if not actions and not resources:
        raise ValueError("check_access_not_granted needs actions or resources (the access to "
                         "check), e.g. actions=[\"s3:PutObject\"]")
    for a in actions:
        if a != "*" and not re.match(r"^[A-Za-z0-9*?-]+:[A-Za-z0-9*?_-]+$", a):
            raise ValueError(f"{a!r} is not an action: write service:Action, e.g. s3:PutObject")
    p = _policy(policy, policy_type, "policy")
    mode = "identity" if policy_type == "IDENTITY_POLICY" else "resource"
    domain = Domain(_named_actions([p], actions))
    spans = domain.matching(actions) if actions else [(0, domain.size)]

    def restrict(space):
        if resources:
            return [z3.Or(*[z3.InRe(space.res, encode.arn_re(r)) for r in resources])]
        return []

    return _run("access", p, None, mode, domain, restrict, limit=spans)


def check_no_new_access(new_policy, existing_policy,
                        policy_type: str = "IDENTITY_POLICY") -> AccessCheckResult:
    """PASS if NEW_POLICY allows nothing EXISTING_POLICY does not (for any caller and request)."""
    new = _policy(new_policy, policy_type, "new policy")
    old = _policy(existing_policy, policy_type, "existing policy")
    mode = "identity" if policy_type == "IDENTITY_POLICY" else "resource"
    domain = Domain(_named_actions([new, old]))
    return _run("new", new, old, mode, domain)


def check_no_public_access(policy, resource_type: str) -> AccessCheckResult:
    """PASS if no outsider can use POLICY (a resource policy of RESOURCE_TYPE).

    Outsiders: anonymous callers, services the policy does not name, and any
    caller of an account the policy does not mention, whose identifying
    condition keys (labkit.policy.public.FIXING_KEYS: aws:PrincipalOrgID,
    aws:SourceVpce, aws:SourceIp, ...) hold none of the fixed values the policy
    names (S3's "meaning of public": granting only to fixed values is not public).
    """
    if resource_type not in RESOURCE_TYPES:
        raise ValueError(f"resource_type {resource_type!r} is not supported; use one of "
                         f"{', '.join(sorted(RESOURCE_TYPES))}")
    services, kind = RESOURCE_TYPES[resource_type]
    p = parse_policy(policy, "policy", kind)
    domain = Domain(_named_actions([p]))
    spans = [domain.service_span(s) for s in services]
    accounts = sorted(set(re.findall(r"(?<!\d)\d{12}(?!\d)", json.dumps(p.doc))))
    classes = lambda keys: _classes([p], "resource", accounts, True, keys)  # noqa: E731
    fixed = _fixed_values(p)

    def restrict(space):
        out = []
        for key, (strings, nets) in fixed.items():
            k = space.keys.get(key)
            if k is None or not k.free:
                continue
            for slot in k.slots:
                out += [slot.s != encode.sval(v) for v in strings]
                for net in nets:
                    out.append(z3.Not(encode._ip_matcher(net, space)(slot)))
        return out

    return _run("public", p, None, "resource", domain, restrict, classes, limit=spans)


def _fixed_values(policy: Policy) -> Dict[str, Tuple[List[str], list]]:
    """FIXING_KEYS -> (fixed strings, narrow networks) the policy names for them."""
    out: Dict[str, Tuple[List[str], list]] = {}
    for st in policy.statements:
        for c in st.conditions:
            if c.key not in FIXING_KEYS:
                continue
            strings, nets = out.setdefault(c.key, ([], []))
            for raw in c.raw:
                if c.key == "aws:sourceip":
                    if narrow_cidr(raw):
                        nets.append(ipaddress.ip_network(raw.strip(), strict=False))
                elif "*" not in raw and "?" not in raw and "${" not in raw:
                    strings.append(raw)
    return out
