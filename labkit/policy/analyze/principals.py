"""Every caller, as finitely many classes that labkit.policy cannot tell apart.

What a caller changes in labkit.policy.evaluate: whether it signs (anonymous and
service callers do not), whether it is the root user, whether its account is the
resource's, how each Principal/NotPrincipal element names it
(principals.match_level: exact ARN, a role of its session, its account, "*"),
and the keys build_context derives from it (aws:PrincipalArn, aws:PrincipalAccount,
aws:PrincipalType, aws:username, aws:userid, aws:PrincipalIsAWSService,
aws:ResourceAccount). Match levels depend only on equality with the ARNs,
role names, accounts and services the policies name, so these classes cover
every caller:

- anonymous; each named service; one service no policy names;
- for each (partition, account) the policies name, the same account in a
  partition they do not name, and an account they do not name at all: its root,
  a user, a role, a session of a role they do not name, a session of each named
  role of that account, a federated user - each with symbolic names constrained
  to differ from every named ARN (z3 keeps the derived keys exact);
- each named caller ARN itself.

Each class is checked in the same account as the resource and across accounts
(then the caller's own identity policies are assumed to allow everything, so the
resource policy alone decides, as in "who can the policy grant access to").
The root user of the resource's own account needs no policy at all (rule 4 of
evaluate.py), so it is not a counterexample for a resource policy and is left out.
"""
from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import z3

from labkit.policy.analyze.encode import sval
from labkit.policy.matching import parse_arn
from labkit.policy.principals import ANONYMOUS, NO_MATCH, parse_principal, statement_names

#: Keys build_context derives from the caller (lower case).
DERIVED = ("aws:principaltype", "aws:principalisawsservice", "aws:principalarn",
           "aws:principalaccount", "aws:username", "aws:userid", "aws:resourceaccount")
_PATH = z3.Union(z3.Re(z3.StringVal("")), z3.Concat(z3.Star(z3.Range("!", "~")), z3.Re("/")))
_DIGITS = z3.Plus(z3.Range("0", "9"))
_DIGITS12 = "12 digits"  # marker for _fresh: an account id
# a regex, not Length(v) == 12: z3's length terms beside regexes cost seconds
_DIGITS12_RE = z3.Loop(z3.Range("0", "9"), 12, 12)
_NAME = z3.Plus(z3.Intersect(z3.AllChar(z3.ReSort(z3.StringSort())), z3.Complement(z3.Re("/"))))


def digits12(v):
    """V is a 12-digit account id."""
    return z3.InRe(v, _DIGITS12_RE)
_PARTITION = z3.Plus(z3.Union(z3.Range("a", "z"), z3.Re("-")))


class Named:
    """What the policies name: AWS ARNs, services, federated providers, (partition, account)."""

    def __init__(self, policies, extra_accounts: Iterable[str] = ()):
        self.aws, self.services, self.federated = set(), set(), set()
        for policy in policies:
            for st in policy.statements:
                if st.principal is not None:
                    self.aws |= st.principal.aws
                    self.services |= st.principal.services
                    self.federated |= st.principal.federated
        self.pairs = set()
        self.roles: Dict[str, set] = {}   # account -> role names (last path segment)
        for arn in self.aws:
            parts = parse_arn(arn)
            if parts is None or not re.fullmatch(r"\d{12}", parts[3]):
                continue
            self.pairs.add((parts[0], parts[3]))
            if parts[4].startswith("role/"):
                self.roles.setdefault(parts[3], set()).add(parts[4].rsplit("/", 1)[-1])
        self.accounts = {a for _p, a in self.pairs} | set(extra_accounts)


class Candidate:
    """One class of callers: how evaluate sees it, plus z3 terms for its names."""

    def __init__(self, label: str, kind: str, rep: str, same: bool, arn=None,
                 derived: Optional[Dict[str, Optional[tuple]]] = None,
                 constraints: Sequence = (), account=None):
        self.label, self.kind, self.rep, self.same = label, kind, rep, same
        self.arn = arn                      # z3 term of the caller ARN (None: anonymous)
        self.derived = derived or {}
        self.constraints = list(constraints)
        self.account = account              # z3 term of the caller's account
        self.signed = kind not in ("anonymous", "service")
        self.info = parse_principal(rep)
        #: soft wishes for a readable counterexample (tried first, dropped if unsatisfiable)
        self.preferences: List = []

    def levels(self, policy) -> Tuple[int, ...]:
        """The match level of every statement of POLICY (DIRECT when it has no Principal)."""
        out = []
        for st in policy.statements:
            out.append(1 if st.principal is None else
                       statement_names(st.principal, st.not_principal, self.info))
        return tuple(out)

    def resource_account(self, symbolic: bool = True):
        """(z3 term, constraints) of the resource's account for this class.

        SYMBOLIC: the policies read aws:ResourceAccount; otherwise one account that
        is not the caller's stands for every other account."""
        if self.signed and self.same:
            return self.account, []
        if not symbolic:
            taken = {self.info.account}
            ra = next(f"{i:012d}" for i in range(1, 10 ** 6) if f"{i:012d}" not in taken)
            return sval(ra), ([] if not self.signed else [self.account != sval(ra)])
        ra = z3.String(f"resource_account[{self.label}]")
        if not self.signed:
            return ra, [digits12(ra)]
        return ra, [digits12(ra), ra != self.account]


_NICE = z3.Concat(z3.Range("a", "z"), z3.Loop(z3.Union(z3.Range("a", "z"), z3.Re("-")), 2, 12))
_PREFS: Dict[str, list] = {}


class Needs:
    """Which parts of a caller's ARN the policies can observe (through derived keys).

    A part no condition or variable reads is fixed to a representative value: every
    value not named in a Principal element gives the same decision, so one stands
    for all, and the solver has fewer strings to choose.
    """

    def __init__(self, keys: Iterable[str] = ()):
        keys = set(keys)
        self.arn = "aws:principalarn" in keys
        self.name = self.arn or "aws:username" in keys
        self.account = self.arn or bool(keys & {"aws:principalaccount", "aws:resourceaccount",
                                                 "aws:userid"})


def _fresh(name: str, regex, rep: str, needed: bool) -> Tuple[z3.SeqRef, list]:
    """A symbolic part (when NEEDED) or its representative REP."""
    if not needed:
        return sval(rep), []
    v = z3.String(name)
    if name.startswith("partition"):
        _PREFS[name] = [v == z3.StringVal("aws")]
    elif name.startswith("account"):
        _PREFS[name] = [z3.PrefixOf(z3.StringVal("99"), v)]
    elif name.startswith("path"):
        _PREFS[name] = [v == z3.StringVal("")]
    else:
        _PREFS[name] = [z3.InRe(v, _NICE)]
    if regex is None:  # a name: no "/" (the last path segment), not empty
        return v, [z3.InRe(v, _NAME)]
    if regex is _DIGITS12:
        return v, [digits12(v)]
    return v, [z3.InRe(v, regex)]


def _group(named: Named, partition: Optional[str], account: Optional[str], tag: str,
           needs: "Needs", public_accounts: Iterable[str] = ()):
    """(partition term, account term, constraints, representative partition, account)."""
    cons = []
    avoid = named.accounts | set(public_accounts)
    if partition is None:
        taken = {p for p, a in named.pairs if a == account}
        rep_part = "aws" if "aws" not in taken else "labkit-fresh"
        part, c = _fresh(f"partition[{tag}]", _PARTITION, rep_part, needs.arn)
        cons += c + ([part != sval(p) for p in sorted(taken)] if needs.arn else [])
    else:
        part, rep_part = sval(partition), partition
    if account is None:
        # The lab's own account reads best in a counterexample, when nothing names it.
        from labkit.config import EMULATOR_ACCOUNT_ID
        rep_acct = EMULATOR_ACCOUNT_ID if EMULATOR_ACCOUNT_ID not in avoid else next(
            f"{i:012d}" for i in range(999999999999, 0, -1) if f"{i:012d}" not in avoid)
        acct, c = _fresh(f"account[{tag}]", _DIGITS12, rep_acct, needs.account)
        cons += c + ([acct != sval(a) for a in sorted(avoid)] if needs.account else [])
    else:
        acct, rep_acct = sval(account), account
    return part, acct, cons, rep_part, rep_acct


def _arn(*parts):
    return z3.Concat(*[sval(p) if isinstance(p, str) else p for p in parts])


def _free_name(base: str, taken: Iterable[str]) -> str:
    taken = set(taken)
    return next(f"{base}{i or ''}" for i in range(1000) if f"{base}{i or ''}" not in taken)


def _kinds(named: Named, part, acct, cons, rep_part, rep_acct, account: Optional[str], tag: str,
           needs: "Needs", root: bool = True):
    """Callers of one (partition, account) group: (label, kind, rep ARN, arn, derived, cons)."""
    out = []
    names = {a.rsplit("/", 1)[-1] for a in named.aws | named.federated}

    def not_named(arn):
        return [arn != sval(a) for a in sorted(named.aws)] if needs.name or needs.account else []

    base = {"aws:principalaccount": (acct, rep_acct if not needs.account else None)}
    known = not (needs.name or needs.account)  # every part is its representative

    def text(rep_arn):
        return rep_arn if known else None
    if root:
        arn = _arn("arn:", part, ":iam::", acct, ":root")
        out.append((f"root@{tag}", "root", f"arn:{rep_part}:iam::{rep_acct}:root", arn,
                    {**base, "aws:principaltype": (sval("Account"), "Account"),
                     "aws:principalarn": (arn, text(f"arn:{rep_part}:iam::{rep_acct}:root")),
                     "aws:userid": (acct, rep_acct if not needs.account else None)}, []))
    user = _free_name("labkit-user", names)
    role = _free_name("labkit-role", names | set(named.roles.get(account, ())))
    path, c1 = _fresh(f"path[{tag}]", _PATH, "", needs.arn)
    name, c2 = _fresh(f"name[{tag}]", None, user, needs.name)
    arn = _arn("arn:", part, ":iam::", acct, ":user/", path, name)
    out.append((f"user@{tag}", "user", f"arn:{rep_part}:iam::{rep_acct}:user/{user}",
                arn, {**base, "aws:principaltype": (sval("User"), "User"),
                      "aws:principalarn": (arn, text(
                          f"arn:{rep_part}:iam::{rep_acct}:user/{user}")),
                      "aws:username": (name, None if needs.name else user)},
                c1 + c2 + not_named(arn)))
    # A role never calls itself: its sessions do (below), so no class stands for a role ARN.
    rname, c3 = _fresh(f"rolename[{tag}]", None, role, needs.name)
    roles = sorted(named.roles.get(account, ())) if account else []
    session, c4 = _fresh(f"session[{tag}]", None, "labkit-session", needs.name)
    for named_role in [None] + roles:
        r = rname if named_role is None else sval(named_role)
        arn = _arn("arn:", part, ":sts::", acct, ":assumed-role/", r, "/", session)
        # aws:PrincipalArn of a session is its role's ARN, path included (a role with a
        # path: evaluate cannot tell it from the session ARN, so such a model stays
        # unconfirmed, "might grant", rather than lost)
        role_arn = _arn("arn:", part, ":iam::", acct, ":role/", path, r) if named_role is None \
            else _arn("arn:", part, ":iam::", acct, ":role/", r)
        extra = (c1 + c3 + [rname != sval(x) for x in roles if needs.name]) \
            if named_role is None else []
        rep_role = role if named_role is None else named_role
        out.append((f"session[{named_role or 'unnamed role'}]@{tag}", "assumed-role",
                    f"arn:{rep_part}:sts::{rep_acct}:assumed-role/{rep_role}/labkit-session", arn,
                    {**base, "aws:principaltype": (sval("AssumedRole"), "AssumedRole"),
                     "aws:principalarn": (role_arn, text(
                         f"arn:{rep_part}:iam::{rep_acct}:role/{rep_role}"))},
                    c4 + extra + not_named(arn)))
    fname, c5 = _fresh(f"feduser[{tag}]", None, "labkit-federated", needs.name)
    arn = _arn("arn:", part, ":sts::", acct, ":federated-user/", fname)
    out.append((f"federated-user@{tag}", "federated-user",
                f"arn:{rep_part}:sts::{rep_acct}:federated-user/labkit-federated", arn,
                {**base, "aws:principaltype": (sval("FederatedUser"), "FederatedUser"),
                 "aws:principalarn": (arn, text(
                     f"arn:{rep_part}:sts::{rep_acct}:federated-user/labkit-federated"))},
                c5 + not_named(arn) + ([arn != sval(f) for f in sorted(named.federated)]
                                       if needs.name or needs.account else [])))
    for label, kind, rep, arn, derived, c in out:
        derived["aws:principalisawsservice"] = (sval("false"), "false")
        c[:0] = cons
    return out


def _named_callers(named: Named):
    """Named ARNs that are callers themselves (a user, role, session, federated user)."""
    out = []
    for value in sorted(named.aws | named.federated):
        try:
            info = parse_principal(value)
        except ValueError:
            continue
        if info.kind in ("root", "anonymous", "service"):
            continue  # roots are a group's root class; services are listed separately
        derived = {"aws:principalaccount": (sval(info.account), info.account),
                   "aws:principalarn": (sval(info.role_arn or info.arn), info.role_arn or info.arn),
                   "aws:principaltype": (sval(info.principal_type), info.principal_type),
                   "aws:principalisawsservice": (sval("false"), "false")}
        if info.kind == "user":
            derived["aws:username"] = (sval(info.name), info.name)
        out.append((value, info.kind, value, sval(value), derived, [], info.account))
    return out


def resource_candidates(policies, public_only: bool = False,
                        public_accounts: Iterable[str] = (), keys: Iterable[str] = ()
                        ) -> List[Candidate]:
    """Every caller class for resource (or trust) POLICIES; PUBLIC_ONLY: outsiders only.

    KEYS: the condition keys the policies read (which caller parts stay symbolic)."""
    named = Named(policies)
    needs = Needs(keys)
    out: List[Candidate] = []
    out.append(Candidate("anonymous", "anonymous", ANONYMOUS, False, derived=_unsigned(False)))
    other = "labkit-unnamed.amazonaws.com"
    services = [] if public_only else sorted(s for s in named.services if _is_service(s))
    for svc in services + [other]:
        out.append(Candidate(f"service {svc}", "service", svc, False, derived=_unsigned(True)))
    groups = [(None, None, "unnamed account")]
    if not public_only:
        groups += [(p, a, f"{p}:{a}") for p, a in sorted(named.pairs)]
        groups += [(None, a, f"other partition:{a}") for a in sorted({a for _p, a in named.pairs})]
    for partition, account, tag in groups:
        part, acct, cons, rep_part, rep_acct = _group(named, partition, account, tag, needs,
                                                      public_accounts if public_only else ())
        for label, kind, rep, arn, derived, c in _kinds(named, part, acct, cons, rep_part,
                                                         rep_acct, account, tag, needs):
            for same in (True, False):
                if public_only and same:
                    continue
                if same and kind == "root":
                    continue  # the resource owner's root needs no resource policy
                out.append(Candidate(f"{label} ({'same' if same else 'cross'} account)", kind,
                                     rep, same, arn, dict(derived), c, acct))
    if not public_only:
        for label, kind, rep, arn, derived, c, account in _named_callers(named):
            for same in (True, False):
                out.append(Candidate(f"{label} ({'same' if same else 'cross'} account)", kind,
                                     rep, same, arn, dict(derived), c, sval(account)))
    return _prefer(out)


def _prefer(cands: List[Candidate]) -> List[Candidate]:
    wishes = [w for ws in _PREFS.values() for w in ws]
    for c in cands:
        c.preferences = wishes
    return cands


def identity_candidates(keys: Iterable[str] = ()) -> List[Candidate]:
    """Callers an identity policy can be attached to: users, roles, sessions, federated users
    of any account, always in the resource's account (an identity policy alone cannot
    grant cross-account access)."""
    named, needs = Named([]), Needs(keys)
    part, acct, cons, rep_part, rep_acct = _group(named, None, None, "caller", needs)
    out = []
    for label, kind, rep, arn, derived, c in _kinds(named, part, acct, cons, rep_part, rep_acct,
                                                     None, "caller", needs, root=False):
        out.append(Candidate(label, kind, rep, True, arn, dict(derived), c, acct))
    return _prefer(out)


def _unsigned(service: bool) -> Dict[str, Optional[tuple]]:
    return {"aws:principaltype": (sval("Service" if service else "Anonymous"),
                                  "Service" if service else "Anonymous"),
            "aws:principalisawsservice": (sval("true" if service else "false"),
                                          "true" if service else "false"),
            "aws:principalarn": None, "aws:principalaccount": None, "aws:username": None,
            "aws:userid": None}


def _is_service(value: str) -> bool:
    try:
        return parse_principal(value).kind == "service"
    except ValueError:
        return False


def allow_all_levels(candidate: Candidate) -> Tuple[int, ...]:
    """The match levels at which a resource-policy Allow lets this caller in (evaluate.py)."""
    if not candidate.signed:
        return (1, 4)                      # DIRECT, PUBLIC
    if not candidate.same:
        return (1, 2, 3, 4)                # cross account: any naming (identity side allows)
    return (1, 2, 4)                       # same account, not root: ACCOUNT only lets root in


__all__ = ["Candidate", "DERIVED", "NO_MATCH", "allow_all_levels", "identity_candidates",
           "resource_candidates"]
