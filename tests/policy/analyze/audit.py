"""A seeded random audit of the analyzer: policies whose answer is known by construction.

Each case is a check (access not granted, or no new access; identity or resource policy)
on a random policy built so that the right answer is known:

- FAIL cases hold one *live* Allow for the checked action (maybe through a wildcard) whose
  conditions a fixed, well-formed witness request meets; evaluate confirms the witness is
  allowed when the case is made, so a PASS is wrong;
- PASS cases hold only *dead* Allows for the checked action: each is dead for a reason AWS
  sees (two date bounds no instant meets, a numeric or string contradiction on a
  single-valued key, a key the action never carries, a resource of a type the action does
  not take) or is beaten by an unconditional Deny. A FAIL there is a FAIL without a grant.

Around them: noise statements that cannot change the answer (other actions, Denies that
never apply). :func:`audit` runs a checker on the cases, replays every counterexample
through labkit.policy.evaluate and checks it is a request AWS could receive
(:func:`problems`), and counts wrong PASSes, ill-formed counterexamples and FAILs without a
grant. ``benchmarks/bench_analyze.py`` times the same cases.
"""
from __future__ import annotations

import ipaddress
import math
import random
import time
from typing import Callable, Dict, List, Optional

from labkit.policy import ANONYMOUS, Request, evaluate
from labkit.policy.analyze import ALLOW_ALL, check_access_not_granted, check_no_new_access
from labkit.policy.analyze.keys import ALWAYS, carried, key_type, resource_fits
from labkit.policy.analyze.principals import DERIVED
from labkit.policy.conditions import parse_date
from labkit.policy.matching import ActionMatcher
from labkit.policy.principals import parse_principal

ACCOUNT = "123456789012"
OTHER = "111122223333"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
CAROL = f"arn:aws:iam::{OTHER}:user/carol"

#: The witness context: one well-formed value per key (the live atoms hold on it).
WITNESS = {
    "aws:CurrentTime": "2027-06-01T12:00:00Z", "aws:SourceIp": "10.1.2.3",
    "aws:SecureTransport": "true", "aws:MultiFactorAuthAge": "60",
    "aws:PrincipalTag/team": "data", "aws:RequestedRegion": "eu-west-1",
    "aws:CalledVia": ["athena.amazonaws.com"], "s3:prefix": "home/x", "s3:max-keys": "10",
    "s3:x-amz-server-side-encryption": "aws:kms", "aws:TagKeys": ["team"],
    "aws:RequestTag/team": "data", "sts:ExternalId": "x1",
    "kms:EncryptionContextKeys": ["dept"], "kms:ViaService": "s3.eu-west-1.amazonaws.com",
}
#: Live atoms: (operator, key, policy value); each holds on WITNESS.
GLOBAL_LIVE = [
    ("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z"),
    ("DateGreaterThan", "aws:CurrentTime", "2020-01-01T00:00:00Z"),
    ("IpAddress", "aws:SourceIp", "10.0.0.0/8"),
    ("NotIpAddress", "aws:SourceIp", "192.168.0.0/16"),
    ("Bool", "aws:SecureTransport", "true"),
    ("NumericLessThan", "aws:MultiFactorAuthAge", "3600"),
    ("StringEquals", "aws:PrincipalTag/team", "data"),
    ("StringLike", "aws:RequestedRegion", "eu-*"),
    ("Null", "aws:MultiFactorAuthAge", "false"),
    ("ForAnyValue:StringEquals", "aws:CalledVia", "athena.amazonaws.com"),
]
#: Dead condition sets on global keys: no well-formed request meets all of one set.
GLOBAL_DEAD = [
    [("DateGreaterThan", "aws:CurrentTime", "2031-01-01T00:00:00Z"),
     ("DateLessThan", "aws:CurrentTime", "2029-01-01T00:00:00Z")],
    [("NumericGreaterThan", "aws:MultiFactorAuthAge", "7200"),
     ("NumericLessThan", "aws:MultiFactorAuthAge", "60")],
    [("Bool", "aws:SecureTransport", "true"), ("StringEquals", "aws:SecureTransport", "false")],
    [("IpAddress", "aws:SourceIp", "10.0.0.0/16"), ("NotIpAddress", "aws:SourceIp", "10.0.0.0/8")],
    [("StringEquals", "aws:PrincipalTag/team", "data"),
     ("StringLike", "aws:PrincipalTag/team", "ops*")],
    [("DateGreaterThan", "aws:TokenIssueTime", "2030-01-01T00:00:00Z"),
     ("DateLessThanEquals", "aws:TokenIssueTime", "2030-01-01T00:00:00Z")],
]

# Targets: the checked action, the witness resource, resources of another type, the keys
# only this action carries (live atoms) and keys it never carries (dead atoms).
TARGETS = [
    dict(action="s3:GetObject", patterns=["s3:GetObject", "s3:Get*", "s3:*Object", "s3:*", "*"],
         resource="arn:aws:s3:::landing/data/x.csv", allow_res="arn:aws:s3:::landing/*",
         wrong_res=["arn:aws:s3:::landing", "arn:aws:s3:::landing/"],
         live=[], absent=[("StringEquals", "s3:prefix", "home/"),
                          ("ForAnyValue:StringEquals", "aws:TagKeys", "team"),
                          ("StringEquals", "sts:ExternalId", "x1")]),
    dict(action="s3:PutObject", patterns=["s3:PutObject", "s3:Put*", "s3:*"],
         resource="arn:aws:s3:::landing/in/y.json", allow_res="arn:aws:s3:::landing/*",
         wrong_res=["arn:aws:s3:::landing"],
         live=[("StringEquals", "s3:x-amz-server-side-encryption", "aws:kms")],
         absent=[("NumericLessThan", "s3:max-keys", "100"),
                 ("StringLike", "s3:prefix", "*")]),
    dict(action="s3:ListBucket", patterns=["s3:ListBucket", "s3:List*", "s3:*"],
         resource="arn:aws:s3:::landing", allow_res="arn:aws:s3:::landing*",
         wrong_res=["arn:aws:s3:::landing/*", "arn:aws:s3:::landing/x"],
         live=[("StringLike", "s3:prefix", "home/*"),
               ("NumericLessThanEquals", "s3:max-keys", "100")],
         absent=[("StringEquals", "s3:x-amz-server-side-encryption", "aws:kms")],
         dead=[[("NumericGreaterThan", "s3:max-keys", "500"),
                ("NumericLessThan", "s3:max-keys", "50")],
               [("StringEquals", "s3:prefix", "a/"), ("StringLike", "s3:prefix", "b/*")]]),
    dict(action="sts:AssumeRole", patterns=["sts:AssumeRole", "sts:*", "sts:Assume*"],
         resource=f"arn:aws:iam::{ACCOUNT}:role/etl", allow_res=f"arn:aws:iam::{ACCOUNT}:role/*",
         wrong_res=["arn:aws:s3:::landing/*", f"arn:aws:iam::{ACCOUNT}:user/*"],
         live=[("StringEquals", "sts:ExternalId", "x1"),
               ("ForAllValues:StringEquals", "aws:TagKeys", "team")],
         absent=[("StringLike", "s3:prefix", "*")]),
    dict(action="iam:CreateUser", patterns=["iam:CreateUser", "iam:Create*", "iam:*"],
         resource=f"arn:aws:iam::{ACCOUNT}:user/bob", allow_res=f"arn:aws:iam::{ACCOUNT}:user/*",
         wrong_res=[f"arn:aws:iam::{ACCOUNT}:role/*", "arn:aws:s3:::*"],
         live=[("ForAllValues:StringEquals", "aws:TagKeys", "team"),
               ("StringEquals", "aws:RequestTag/team", "data")],
         absent=[("StringEquals", "kms:ViaService", "s3.eu-west-1.amazonaws.com")]),
    dict(action="kms:Decrypt", patterns=["kms:Decrypt", "kms:*", "kms:De*"],
         resource=f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/k1",
         allow_res=f"arn:aws:kms:*:{ACCOUNT}:key/*",
         wrong_res=[f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/*"],
         live=[("ForAnyValue:StringEquals", "kms:EncryptionContextKeys", "dept"),
               ("StringEquals", "kms:ViaService", "s3.eu-west-1.amazonaws.com")],
         absent=[("StringEquals", "sts:ExternalId", "x1")]),
]
NOISE_ACTIONS = ["ec2:DescribeInstances", "s3:GetBucketTagging", "glue:GetTable",
                 "athena:StartQueryExecution", "iam:GetUser", "kms:Encrypt"]


def _condition(atoms) -> Optional[dict]:
    out: Dict[str, dict] = {}
    for op, key, value in atoms:
        if key in out.get(op, {}):
            continue  # one value list per operator and key
        out.setdefault(op, {})[key] = value
    return out or None


def _statement(effect, actions, resource, atoms=(), principal=None) -> dict:
    st = {"Effect": effect, "Action": actions, "Resource": resource}
    if principal is not None:
        st["Principal"] = principal
    cond = _condition(atoms)
    if cond:
        st["Condition"] = cond
    return st


class Case:
    """One audit case: ``run()`` calls CHECKER with the case's arguments."""

    def __init__(self, label, kind, policy_type, args, expected, witness=None):
        self.label, self.kind, self.policy_type = label, kind, policy_type
        self.args, self.expected, self.witness = args, expected, witness

    @property
    def actions(self):
        return self.args.get("actions")

    def __repr__(self):
        return f"<Case {self.label} {self.expected}>"


def _witness_context(action: str, atoms) -> dict:
    keys = {k for _op, k, _v in atoms}
    return {k: WITNESS[k] for k in keys if carried(action, k)}


def _live_atoms(rng, target) -> list:
    pool = GLOBAL_LIVE + target["live"]
    return rng.sample(pool, rng.randint(0, 2))


def _dead_statement(rng, target, pattern, principal):
    """An Allow that no well-formed request for the target meets, and why."""
    choice = rng.randint(0, 3)
    if choice == 0:
        return _statement("Allow", pattern, rng.choice(target["wrong_res"]),
                          _live_atoms(rng, target), principal), "resource type"
    if choice == 1 and target.get("absent"):
        return _statement("Allow", pattern, target["allow_res"],
                          [rng.choice(target["absent"])] + _live_atoms(rng, target),
                          principal), "key the action never carries"
    pool = GLOBAL_DEAD + target.get("dead", [])
    return _statement("Allow", pattern, target["allow_res"], rng.choice(pool), principal), \
        "typed contradiction"


def _noise(rng, principal) -> list:
    out = []
    for _ in range(rng.randint(0, 2)):
        effect = rng.choice(["Allow", "Deny"])
        acts = rng.sample(NOISE_ACTIONS, rng.randint(1, 2))
        atoms = rng.sample(GLOBAL_LIVE, rng.randint(0, 1))
        out.append(_statement(effect, acts, "*", atoms, principal))
    return out


def _never_deny(rng, target, principal) -> dict:
    """A Deny on the target that the witness escapes (it never applies to it)."""
    atoms = [rng.choice([("Bool", "aws:SecureTransport", "false"),
                         ("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"),
                         ("DateGreaterThan", "aws:CurrentTime", "2099-01-01T00:00:00Z")])]
    return _statement("Deny", target["action"], target["allow_res"], atoms, principal)


def make_case(rng: random.Random, index: int) -> Case:
    target = rng.choice(TARGETS)
    action = target["action"]
    policy_type = "RESOURCE_POLICY" if rng.random() < 0.25 else "IDENTITY_POLICY"
    principal = "*" if policy_type == "RESOURCE_POLICY" else None
    expected = "FAIL" if rng.random() < 0.5 else "PASS"
    # no new access compares every action: only the exact action keeps the answer known
    kind = "new" if policy_type == "IDENTITY_POLICY" and rng.random() < 0.3 else "access"
    pattern = rng.choice(target["patterns"]) if kind == "access" else action
    noise = _noise(rng, principal)
    statements = list(noise)
    witness = None
    if expected == "FAIL":
        atoms = _live_atoms(rng, target)
        statements.append(_statement("Allow", pattern, target["allow_res"], atoms, principal))
        if rng.random() < 0.4:
            statements.append(_never_deny(rng, target, principal))
        ctx = dict(_witness_context(action, atoms), **_always_present())
        ctx["aws:SecureTransport"] = "true"
        ctx["aws:SourceIp"] = WITNESS["aws:SourceIp"]
        caller = ALICE if policy_type == "IDENTITY_POLICY" else CAROL
        witness = Request(caller, action, target["resource"], ctx, ACCOUNT)
        why = "live grant"
    else:
        why = ""
        for _ in range(rng.randint(1, 2)):
            st, why = _dead_statement(rng, target, pattern, principal)
            statements.append(st)
        if rng.random() < 0.25:
            statements.append(_statement("Allow", pattern, target["allow_res"],
                                         _live_atoms(rng, target), principal))
            statements.append(_statement("Deny", action, target["allow_res"], (), principal))
            why = "unconditional deny"
    rng.shuffle(statements)
    doc = {"Version": "2012-10-17", "Statement": statements}
    if kind == "new":
        # the existing policy holds the same noise: only the target's statements can add
        old = {"Version": "2012-10-17",
               "Statement": noise + [_statement("Allow", "ec2:DescribeInstances", "*")]}
        args = dict(new_policy=doc, existing_policy=old, policy_type=policy_type)
    else:
        args = dict(policy=doc, actions=[action], policy_type=policy_type)
    case = Case(f"#{index} {kind} {policy_type} {action} {expected} ({why})", kind,
                policy_type, args, expected, witness)
    if witness is not None:
        assert _grants(case, witness), f"construction error: witness not allowed in {case}"
    return case


def _always_present() -> dict:
    return {"aws:CurrentTime": WITNESS["aws:CurrentTime"]}


def cases(seed: int = 23, count: int = 200) -> List[Case]:
    rng = random.Random(seed)
    return [make_case(rng, i) for i in range(count)]


# ----------------------------------------------------------------------------- replay

def _grants(case: Case, request: Request) -> bool:
    """Does the case's policy grant REQUEST (with the case's comparison, for no-new-access)?"""
    args = case.args
    if case.kind == "new":
        new = evaluate(request, [args["new_policy"]]).allowed
        return new and not evaluate(request, [args["existing_policy"]]).allowed
    doc = args["policy"]
    if case.policy_type == "IDENTITY_POLICY":
        return evaluate(request, [doc]).allowed
    info = parse_principal(request.principal)
    cross = info.kind not in ("anonymous", "service") and info.account != (
        request.resource_account or info.account)
    d = evaluate(request, [ALLOW_ALL] if cross else [], doc)
    return d.allowed and any(r.policy_type == "resource" for r in d.reasons)


_CALLERS = {"IDENTITY_POLICY": ("user", "assumed-role", "federated-user"),
            "RESOURCE_POLICY": ("user", "assumed-role", "federated-user", "root", "service",
                                "anonymous")}


def problems(case: Case, request: Request) -> List[str]:
    """Why REQUEST is not one AWS could receive for CASE (empty: well-formed)."""
    return request_problems(request, case.actions, case.policy_type)


def request_problems(request: Request, actions=None,
                     policy_type: str = "IDENTITY_POLICY") -> List[str]:
    """Why REQUEST is not one AWS could receive (for one of ACTIONS, under POLICY_TYPE)."""
    out = []
    if actions and not ActionMatcher(actions).matches(request.action.lower()):
        out.append(f"action {request.action} is not a checked action")
    if not resource_fits(request.action, request.resource):
        out.append(f"resource {request.resource!r} is not of a type {request.action} takes")
    try:
        kind = "anonymous" if request.principal == ANONYMOUS else \
            parse_principal(request.principal).kind
    except ValueError:
        kind = "?"
    if kind not in _CALLERS[policy_type]:
        out.append(f"principal {request.principal} ({kind}) cannot call with a "
                   f"{policy_type.lower().replace('_', ' ')}")
    for key, value in request.context.items():
        out += _key_problems(request.action, key, value)
    return out


def _key_problems(action: str, key: str, value) -> List[str]:
    low = key.lower()
    if low in DERIVED and low != "aws:userid":   # a user's or session's id: opaque
        return [f"{key} is set by AWS from the caller, not by the request"]
    if value is None:
        return [f"{key} is in every request"] if low in ALWAYS else []
    if not carried(action, key):
        return [f"{action} never carries {key}"]
    typ = key_type(key)
    values = value if isinstance(value, list) else [value]
    out = []
    if not typ.multi and (isinstance(value, list) or len(values) != 1):
        out.append(f"{key} is single-valued, got {value!r}")
    for v in values:
        if not isinstance(v, str) or not _valid(typ.family, v):
            out.append(f"{key} ({typ.family}) cannot hold {v!r}")
    return out


def _valid(family: Optional[str], v: str) -> bool:
    try:
        if family == "Date":
            return math.isfinite(parse_date(v))
        if family == "Numeric":
            return math.isfinite(float(v))
        if family == "Bool":
            return v in ("true", "false")
        if family == "Ip":
            ipaddress.ip_address(v)
            return True
        if family == "Arn":
            return v.startswith("arn:") and v.count(":") >= 5
        return True
    except (ValueError, OverflowError):
        return False


# ----------------------------------------------------------------------------- the audit

def run_check(case: Case):
    if case.kind == "new":
        return check_no_new_access(**case.args)
    return check_access_not_granted(**case.args)


class Report:
    def __init__(self):
        self.n = 0
        self.wrong_pass: List[str] = []
        self.ill_formed: List[str] = []
        self.unconfirmed: List[str] = []
        self.spurious: List[str] = []
        self.might_on_grant: List[str] = []
        self.times: List[float] = []   # CPU seconds per check
        self.wall: List[float] = []

    def figures(self) -> dict:
        ts = sorted(self.times)
        pct = (lambda q: ts[min(len(ts) - 1, int(math.ceil(q * len(ts))) - 1)] * 1000) \
            if ts else (lambda q: 0.0)
        return {"cases": self.n, "wrong_pass": len(self.wrong_pass),
                "ill_formed": len(self.ill_formed), "unconfirmed": len(self.unconfirmed),
                "fail_without_grant": len(self.spurious),
                "fail_without_grant_pct": round(100 * len(self.spurious) / max(self.n, 1), 1),
                "might_grant_on_grant": len(self.might_on_grant),
                "cpu_median_ms": round(pct(0.5), 1), "cpu_p95_ms": round(pct(0.95), 1),
                "cpu_max_ms": round(pct(1.0), 1),
                "wall_p95_ms": round(sorted(self.wall)[int(0.95 * len(self.wall))] * 1000, 1)
                if self.wall else 0.0}


def audit(case_list: List[Case], checker: Callable = run_check) -> Report:
    """Run CHECKER on every case and classify its answers against the construction."""
    rep = Report()
    for case in case_list:
        rep.n += 1
        t0, w0 = time.process_time(), time.perf_counter()
        result = checker(case)
        rep.times.append(time.process_time() - t0)   # CPU: the machine is shared
        rep.wall.append(time.perf_counter() - w0)
        if result.result == "PASS":
            if case.expected == "FAIL":
                rep.wrong_pass.append(f"{case.label}: PASS, but {case.witness!r} is allowed")
            continue
        cex = result.counterexample
        if cex is None:
            (rep.spurious if case.expected == "PASS" else rep.might_on_grant).append(
                f"{case.label}: {result.reasons}")
            continue
        if not _grants(case, cex):
            rep.unconfirmed.append(f"{case.label}: evaluate does not allow {cex!r}")
        bad = problems(case, cex)
        if bad:
            rep.ill_formed.append(f"{case.label}: {cex!r}: {'; '.join(bad)}")
        if case.expected == "PASS":
            rep.spurious.append(f"{case.label}: {cex!r} {bad}")
    return rep
