"""aws-like mode: IAM is eventually consistent.

AWS: "IAM ... achieves high availability by replicating data across multiple
servers ... changes that you make are not always immediately visible. ... don't
include such IAM changes in the critical, high-availability code paths of your
application" (IAM user guide, "Troubleshoot IAM": changes that I make are not
always immediately visible). Two things follow for a lab, for
:func:`labkit.emulator.aws_like.delay` seconds after the change:

* a new access key is refused as AWS refuses an unknown one
  (``InvalidClientTokenId``, "The security token included in the request is
  invalid."; S3 says ``InvalidAccessKeyId``);
* a new or changed policy (attached, detached, put, deleted, a new default
  version, a group membership, a boundary) is not yet in force: the caller is
  decided with the policies it had before the change.

How: the key's creation time is recorded; before every IAM write the policies
each user and role session has are remembered, and after it a caller whose
policies differ gets the new ones only once the delay has passed.
"""
from __future__ import annotations

import dataclasses
import threading

from labkit.emulator import aws_like
from labkit.emulator.authz import identity
from labkit.emulator.patching import replace
from labkit.emulator.request import READ_PREFIXES, request_of

_lock = threading.Lock()
_key_born: dict[str, float] = {}
#: caller key -> [(in force from, snapshot)], oldest first
_views: dict[tuple, list] = {}
_last_write = [float("-inf")]


def install() -> None:
    """Record when moto creates a user's access key, and decide every caller with what is
    in force for it (:func:`view`); idempotent."""
    from moto.iam.models import IAMBackend

    identity.add_view(view)

    if getattr(IAMBackend.create_access_key, "_labkit_aws_like", False):
        return
    original = IAMBackend.create_access_key

    def create_access_key(self, user_name, *args, **kwargs):
        key = original(self, user_name, *args, **kwargs)
        if aws_like.enabled():
            with _lock:
                _key_born[key.access_key_id] = aws_like.now()
        return key

    create_access_key._labkit_aws_like = True
    replace(IAMBackend, "create_access_key", create_access_key)


def view(caller, access_key_id):
    """The caller as IAM sees it everywhere by now: a key too new is still unknown (AWS's
    InvalidAccessKeyId / InvalidClientTokenId) and older policies may still be in force."""
    if not aws_like.enabled():
        return caller
    if not caller.is_root and access_key_id and key_not_yet_valid(access_key_id):
        raise identity.UnknownAccessKey(access_key_id)
    return in_force(caller)


def before_request(environ: dict):
    """Before an IAM write, remember what is in force for everyone; never answers itself."""
    if not aws_like.enabled() or request_of(environ).service != "iam":
        return None
    if not (request_of(environ).operation or "").startswith(READ_PREFIXES):
        before_write()
    return None


def key_not_yet_valid(access_key_id: str) -> bool:
    """Whether ACCESS_KEY_ID is too new to be known everywhere yet."""
    if not aws_like.enabled():
        return False
    with _lock:
        born = _key_born.get(access_key_id)
        if born is not None and aws_like.now() - born >= aws_like.delay():
            del _key_born[access_key_id]  # valid for good
            return False
    return born is not None


def _snapshot(caller) -> tuple:
    return (tuple(caller.identity_policies), caller.boundary, caller.session_policy)


def _key(caller) -> tuple:
    return (caller.kind, caller.arn, caller.user_id)


def before_write() -> None:
    """Remember what is in force for every user and session before IAM changes."""
    when = aws_like.now()
    callers = []
    from moto.iam.models import iam_backends

    for account_id, account in list(iam_backends.items()):
        backend = account.get(identity.PARTITION) if hasattr(account, "get") else None
        if backend is None:
            continue
        for user in list(backend.users.values()):
            try:
                callers.append(identity.user_caller(account_id, user.name))
            except identity.UnknownAccessKey:
                continue
    with _lock:
        _last_write[0] = when
        for caller in callers:
            history = _views.setdefault(_key(caller), [])
            if not history:
                history.append((float("-inf"), _snapshot(caller)))


def in_force(caller):
    """CALLER with the policies that are in force for it now (older ones until the delay passed)."""
    if not aws_like.enabled() or caller.is_root or caller.is_anonymous:
        return caller
    fresh, now = _snapshot(caller), aws_like.now()
    with _lock:
        history = _views.setdefault(_key(caller), [])
        if not history:
            history.append((float("-inf"), fresh))
        elif history[-1][1] != fresh:
            history.append((max(_last_write[0], history[-1][0]) + aws_like.delay(), fresh))
        current = max(i for i, (since, _) in enumerate(history) if since <= now)
        del history[:current]  # what is in force now never goes back
        policies, boundary, session_policy = history[0][1]
    if (policies, boundary, session_policy) == fresh:
        return caller
    return dataclasses.replace(caller, identity_policies=list(policies), boundary=boundary,
                               session_policy=session_policy)


def forget() -> None:
    with _lock:
        _key_born.clear()
        _views.clear()
        _last_write[0] = float("-inf")
