"""Who is asking: parse a principal ARN, and match it against Principal elements.

Principal forms accepted in a Request:
- ``arn:aws:iam::ACCOUNT:user/[path/]NAME`` (IAM user)
- ``arn:aws:iam::ACCOUNT:role/[path/]NAME`` (a role itself, rarely the caller)
- ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`` (a role session)
- ``arn:aws:sts::ACCOUNT:federated-user/NAME``
- ``arn:aws:iam::ACCOUNT:root`` (the account root user)
- a service principal such as ``s3.amazonaws.com``
- :data:`ANONYMOUS` for unsigned requests.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Optional

from labkit.policy.document import PrincipalSpec
from labkit.policy.matching import parse_arn

#: The principal of an unsigned (anonymous) request.
ANONYMOUS = "anonymous"

# How a Principal element matched the caller; resource-policy allows differ by it.
NO_MATCH = 0
DIRECT = 1      # the exact user, role session or root ARN (or service)
ROLE = 2        # a role ARN that matched one of its sessions
ACCOUNT = 3     # the caller's account (root ARN or account id): delegation to that account
PUBLIC = 4      # "*" / {"AWS": "*"}


class PrincipalInfo:
    """Facts about the caller derived from its ARN."""

    __slots__ = ("arn", "kind", "account", "name", "role_arn", "partition")

    def __init__(self, arn, kind, account=None, name=None, role_arn=None, partition="aws"):
        self.arn, self.kind, self.account = arn, kind, account
        self.name, self.role_arn, self.partition = name, role_arn, partition

    @property
    def principal_type(self) -> str:
        """The aws:PrincipalType value AWS reports for this caller."""
        return {"user": "User", "role": "AssumedRole", "assumed-role": "AssumedRole",
                "root": "Account", "federated-user": "FederatedUser",
                "anonymous": "Anonymous", "service": "Service"}.get(self.kind, "Unknown")


@lru_cache(maxsize=4096)
def parse_principal(principal: str) -> PrincipalInfo:
    """PrincipalInfo for a Request principal; ValueError (with the accepted forms) if unknown."""
    if principal == ANONYMOUS:
        return PrincipalInfo(ANONYMOUS, "anonymous")
    if principal.endswith(".amazonaws.com") and ":" not in principal:
        return PrincipalInfo(principal, "service")
    parts = parse_arn(principal)
    if parts is None or parts[1] not in ("iam", "sts") or not parts[3].isdigit():
        raise ValueError(
            f"principal {principal!r} is not understood: use an IAM user/role ARN "
            f"(arn:aws:iam::ACCOUNT:user/NAME), a role session "
            f"(arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION), arn:aws:iam::ACCOUNT:root, "
            f"a service principal, or labkit.policy.ANONYMOUS")
    partition, service, _region, account, resource = parts
    if resource == "root":
        return PrincipalInfo(principal, "root", account, None, None, partition)
    rtype, _, rest = resource.partition("/")
    name = rest.rsplit("/", 1)[-1] if rest else None
    if service == "sts" and rtype == "assumed-role":
        role, _, session = rest.partition("/")
        role_arn = f"arn:{partition}:iam::{account}:role/{role}"
        return PrincipalInfo(principal, "assumed-role", account, session, role_arn, partition)
    if rtype in ("user", "role", "federated-user"):
        return PrincipalInfo(principal, rtype, account, name, None, partition)
    raise ValueError(f"principal {principal!r}: unknown principal type {rtype!r} "
                     f"(expected user, role, assumed-role, federated-user or root)")


def _role_matches(policy_arn: str, info: PrincipalInfo) -> bool:
    """A role ARN in a policy names every session of that role (path ignored)."""
    if info.role_arn is None:
        return False
    parts = parse_arn(policy_arn)
    if parts is None or parts[3] != info.account or not parts[4].startswith("role/"):
        return False
    return parts[4].rsplit("/", 1)[-1] == info.role_arn.rsplit("/", 1)[-1]


def match_level(spec: PrincipalSpec, info: PrincipalInfo) -> int:
    """How SPEC names the caller: NO_MATCH, DIRECT, ROLE, ACCOUNT or PUBLIC (best wins)."""
    if info.kind == "service":
        return DIRECT if info.arn in spec.services else (PUBLIC if spec.public else NO_MATCH)
    if info.kind == "anonymous":
        return PUBLIC if spec.public else NO_MATCH
    if info.arn in spec.aws:
        return DIRECT
    if info.kind == "assumed-role" and any(_role_matches(a, info) for a in spec.aws):
        return ROLE
    if info.account and f"arn:{info.partition}:iam::{info.account}:root" in spec.aws:
        return ACCOUNT
    if info.kind == "federated-user" and info.arn in spec.federated:
        return DIRECT
    return PUBLIC if spec.public else NO_MATCH


def statement_names(spec: PrincipalSpec, negated: bool, info: PrincipalInfo) -> int:
    """Match level of a Principal/NotPrincipal element; NotPrincipal inverts it.

    NotPrincipal matches every caller it does not name; such a match counts as
    PUBLIC (it is not a grant to a named principal). AWS ("AWS JSON policy
    elements: NotPrincipal") checks the caller's chain of entities one by one:
    the account, then the role (for a role session), then the user or session.
    A caller is spared only when NotPrincipal names every link of its chain, so
    naming the account root spares the root user alone, and a role session is
    spared only with its assumed-role ARN, its role ARN and its account.
    """
    if not negated:
        return match_level(spec, info)
    if spec.public:
        return NO_MATCH
    if info.kind in ("service", "anonymous", "federated-user"):
        return NO_MATCH if match_level(spec, info) == DIRECT else PUBLIC
    named = all(link in spec.aws or (link == info.role_arn and any(
        _role_matches(a, info) for a in spec.aws)) for link in chain(info))
    return NO_MATCH if named else PUBLIC


def chain(info: PrincipalInfo) -> tuple:
    """The ARNs AWS checks a NotPrincipal against: account root, role (sessions), caller."""
    root = f"arn:{info.partition}:iam::{info.account}:root"
    if info.kind == "root":
        return (root,)
    if info.kind == "assumed-role":
        return (root, info.role_arn, info.arn)
    return (root, info.arn)


def account_of(principal: str) -> Optional[str]:
    """The account id of a principal ARN, or None (anonymous, service)."""
    return parse_principal(principal).account
