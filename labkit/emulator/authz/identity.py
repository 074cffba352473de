"""Who is calling: the caller behind an access key, and the policies that apply to it.

Callers are the lab's root key (the account root), IAM users (moto's IAM
backend) and STS role sessions (moto's STS backend), or anonymous for an
unsigned request. Policy lists are cached per caller and recomputed when IAM
changes: :func:`bump` is called by the app after every IAM/STS write, and a
moto reset replaces the backend dictionaries the cache entries point at.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from labkit import config
from labkit.policy import ANONYMOUS
from labkit.policy.principals import parse_principal

PARTITION = "aws"

NamedDoc = Tuple[str, str]


class UnknownAccessKey(Exception):
    """The access key is not one AWS (here: moto or the lab root) issued, or is inactive."""

    def __init__(self, access_key_id: str, reason: str = "InvalidId"):
        super().__init__(access_key_id)
        self.access_key_id = access_key_id
        self.reason = reason  # InvalidId | InvalidToken


@dataclass
class Caller:
    """The principal of a request, with everything evaluate() needs about it."""

    kind: str                      # root | user | assumed-role | anonymous
    arn: str                       # ANONYMOUS for unsigned requests
    account_id: Optional[str]
    user_id: Optional[str] = None  # aws:userid
    name: Optional[str] = None     # user name, or session name
    identity_policies: List[NamedDoc] = field(default_factory=list)
    boundary: Optional[NamedDoc] = None
    session_policy: Optional[NamedDoc] = None
    tags: Dict[str, str] = field(default_factory=dict)  # aws:PrincipalTag/<key>

    @property
    def is_root(self) -> bool:
        return self.kind == "root"

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"

    @property
    def role_arn(self) -> Optional[str]:
        """The IAM role behind a role session (aws:PrincipalArn, the grantee of its grants,
        the session issuer of its audit records); None for other callers."""
        if self.kind != "assumed-role":
            return None
        return parse_principal(self.arn).role_arn


ANONYMOUS_CALLER = Caller("anonymous", ANONYMOUS, None)

_lock = threading.Lock()
_version = 0
_cache: dict = {}


def bump() -> None:
    """Forget cached policy lists (IAM or STS state changed)."""
    global _version
    with _lock:
        _version += 1
        _cache.clear()


def iam_backend(account_id: str):
    from moto.iam.models import iam_backends

    return iam_backends[account_id][PARTITION]


def root_caller(account_id: Optional[str] = None) -> Caller:
    account = account_id or config.EMULATOR_ACCOUNT_ID
    return Caller("root", f"arn:aws:iam::{account}:root", account, user_id=account)


def resolve(access_key_id: Optional[str], session_token: Optional[str],
            root_access_key_id: Optional[str]) -> Caller:
    """The Caller for a request signed with ACCESS_KEY_ID (None = unsigned).

    Raises UnknownAccessKey for a key nobody issued (AWS's InvalidAccessKeyId).
    Each registered view (see :func:`add_view`) may then refuse the key or change
    what is in force for the caller.
    """
    caller = _resolve(access_key_id, session_token, root_access_key_id)
    for view in _views:
        caller = view(caller, access_key_id)
    return caller


#: Functions (caller, access key id) -> caller applied to every resolved caller.
_views: List[Callable[[Caller, Optional[str]], Caller]] = []


def add_view(view: Callable[[Caller, Optional[str]], Caller]) -> None:
    """Apply VIEW to every caller resolved from now on (once, however often it is added).

    How aws-like mode's eventual consistency (services/iam/consistency.py) refuses a key
    too new to be known yet and keeps older policies in force, without this shared layer
    knowing of it."""
    if view not in _views:
        _views.append(view)


def _resolve(access_key_id: Optional[str], session_token: Optional[str],
             root_access_key_id: Optional[str]) -> Caller:
    if access_key_id is None:
        return ANONYMOUS_CALLER
    if root_access_key_id and access_key_id == root_access_key_id:
        return root_caller()
    found = find_key(access_key_id)
    if found is None:
        raise UnknownAccessKey(access_key_id)
    account_id, key = found
    if key.status != "Active":
        raise UnknownAccessKey(access_key_id)
    if key.role_arn:
        return _session_caller(account_id, key, session_token)
    if session_token:
        raise UnknownAccessKey(access_key_id, "InvalidToken")  # a user key never has a token
    return user_caller(account_id, key.user_name)


def find_key(access_key_id: str):
    """(account id, moto AccessKey) for an IAM user or session key, or None."""
    from moto.iam.models import iam_backends

    for account_id, account in list(iam_backends.items()):
        backend = account.get(PARTITION) if hasattr(account, "get") else None
        if backend is None:
            continue
        key = backend.access_keys.get(access_key_id)
        if key is not None:
            return account_id, key
    return None


def _cached(key, store, build):
    """Cached BUILD() under KEY while moto's STORE dict is the same object.

    A moto reset replaces the backend's dicts; holding STORE in the entry keeps
    its id from being reused, so a stale entry is never taken for a fresh one.
    """
    with _lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] is store:
        return hit[1]
    value = build()
    with _lock:
        _cache[key] = (store, value)
    return value


# ----------------------------------------------------------------------------- users

def user_caller(account_id: str, user_name: str) -> Caller:
    backend = iam_backend(account_id)
    user = backend.users.get(user_name)
    if user is None:
        raise UnknownAccessKey(user_name)
    key = ("user", account_id, user_name, _version)
    return _cached(key, backend.users, lambda: _build_user(backend, user))


def _build_user(backend, user) -> Caller:
    arn = f"arn:aws:iam::{user.account_id}:user{user.path}{user.name}"
    policies: List[NamedDoc] = [(name, doc) for name, doc in user.policies.items()]
    policies += [(p.name, managed_document(p)) for p in user.managed_policies.values()]
    for group in backend.groups.values():
        if user in group.users:
            policies += [(f"{group.name}/{n}", d) for n, d in group.policies.items()]
            policies += [(p.name, managed_document(p)) for p in group.managed_policies.values()]
    return Caller("user", arn, user.account_id, user_id=user.id, name=user.name,
                  identity_policies=policies, tags=tag_dict(getattr(user, "tags", None)),
                  boundary=boundary_policy(backend, getattr(user, "permissions_boundary_arn", None)))


def managed_document(policy) -> str:
    """The default version's document of a moto managed policy."""
    for version in policy.versions:
        if version.is_default_version:
            return version.document
    return policy.versions[-1].document if policy.versions else "{}"


def boundary_policy(backend, arn: Optional[str]) -> Optional[NamedDoc]:
    """(name, document) of the managed policy ARN used as a boundary, if any."""
    if not arn:
        return None
    policy = backend.managed_policies.get(arn)
    if policy is None:
        from moto.iam.models import iam_backends  # AWS managed policies may live elsewhere

        for account in list(iam_backends.values()):
            policy = account[PARTITION].managed_policies.get(arn)
            if policy is not None:
                break
    if policy is None:
        # AWS denies everything when the boundary policy is gone: an empty allow list.
        return (arn.rsplit("/", 1)[-1], '{"Version":"2012-10-17","Statement":[]}')
    return (policy.name, managed_document(policy))


# ----------------------------------------------------------------------------- sessions

def _session_caller(account_id: str, key, session_token: Optional[str]) -> Caller:
    from moto.sts.models import sts_backends

    sts = sts_backends[account_id][PARTITION]
    session = next((r for r in sts.assumed_roles if r.access_key_id == key.access_key_id), None)
    if session is None:
        raise UnknownAccessKey(key.access_key_id)
    if session_token != session.session_token:
        raise UnknownAccessKey(key.access_key_id, "InvalidToken")
    backend = iam_backend(account_id)
    cache_key = ("session", key.access_key_id, _version)
    return _cached(cache_key, backend.roles, lambda: _build_session(backend, session))


def _build_session(backend, session) -> Caller:
    role_name = session.role_arn.split("/")[-1]
    role = next((r for r in backend.roles.values() if r.arn == session.role_arn), None)
    policies: List[NamedDoc] = []
    boundary = None
    role_id = "AROA" + role_name.upper()[:17]
    tags: Dict[str, str] = {}
    if role is not None:
        role_id = role.id
        tags = tag_dict(getattr(role, "tags", None))
        policies += [(n, d) for n, d in role.policies.items()]
        policies += [(p.name, managed_document(p)) for p in role.managed_policies.values()]
        boundary = boundary_policy(backend, role.permissions_boundary_arn)
    arn = f"arn:aws:sts::{session.account_id}:assumed-role/{role_name}/{session.session_name}"
    session_policy = ("session policy", session.policy) if session.policy else None
    # Session tags (AssumeRole Tags) win over the role's tags with the same key (IAM "Passing
    # session tags in AWS STS"); labkit's STS layer keeps them on moto's session.
    tags.update(getattr(session, "labkit_session_tags", None) or {})
    return Caller("assumed-role", arn, session.account_id,
                  user_id=f"{role_id}:{session.session_name}", name=session.session_name,
                  identity_policies=policies, boundary=boundary, session_policy=session_policy,
                  tags=tags)


def tag_dict(tags) -> Dict[str, str]:
    """moto's tags of a user or role ({key: {"Key", "Value"}} or [{"Key", "Value"}]) as {k: v}."""
    if not tags:
        return {}
    items = tags.values() if isinstance(tags, dict) else tags
    out = {}
    for item in items:
        if isinstance(item, dict) and "Key" in item:
            out[item["Key"]] = item.get("Value", "")
    return out


def describe(caller: Caller) -> Any:
    """A short text for logs."""
    return f"{caller.kind} {caller.arn}"
