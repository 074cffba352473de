"""aws-like mode: the emulator behaves like a real account, not like an instant one.

Switched on by ``labkit emulator start --aws-like``, ``Emulator(aws_like=True)`` or
LABKIT_AWS_LIKE=1 for the in-kernel emulator. Then, for LABKIT_AWS_LIKE_DELAY
seconds (default 8, a realistic figure; tests use 2-3):

* IAM is eventually consistent (services/iam/consistency.py): a new access key is
  refused as AWS refuses it (InvalidClientTokenId, S3's InvalidAccessKeyId) and a
  new or changed policy is not yet in force. AWS: "changes that you make in IAM
  take time to become visible from all of AWS" (IAM user guide, troubleshooting,
  "Changes that I make are not always immediately visible").
* Asynchronous resources go through AWS's states (services/<svc>/lifecycle.py):
  SageMaker domains, user profiles, spaces and apps (Pending -> InService,
  Deleting), EC2 instances (pending -> running, shutting-down -> terminated),
  target health (initial -> healthy), EKS clusters (CREATING -> ACTIVE, DELETING),
  Lambda functions (Pending -> Active), Auto Scaling activities (InProgress ->
  Successful).
* The bucket namespace is global (services/s3/namespace.py): names beginning
  demo-, test- or example- belong to another account.

One switch and one clock for the whole process (moto's state is per process).
State changes are due at a time and are applied by :func:`advance`, which the
app calls before every request, so a client polling sees them as AWS shows them.
"""
from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from typing import Callable

SWITCH_VARIABLE = "LABKIT_AWS_LIKE"
DELAY_VARIABLE = "LABKIT_AWS_LIKE_DELAY"
DEFAULT_DELAY = 8.0

_forced: bool | None = None
_lock = threading.RLock()
_due: list = []          # heap of (time due, sequence, action)
_sequence = itertools.count()
_installed = False


class AwsLikeError(ValueError):
    """A setting of aws-like mode is wrong; the message says how to fix it."""


def enable(on: bool | None = True) -> None:
    """Force the mode on or off for this process (None: follow LABKIT_AWS_LIKE)."""
    global _forced
    _forced = on


def enabled() -> bool:
    if _forced is not None:
        return _forced
    return os.environ.get(SWITCH_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def delay() -> float:
    """Seconds IAM changes take to apply and resources take to change state."""
    text = os.environ.get(DELAY_VARIABLE, "").strip()
    if not text:
        return DEFAULT_DELAY
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 600:
        raise AwsLikeError(f"{DELAY_VARIABLE}={text!r} is not a number of seconds between 0 "
                           f"and 600; unset it for the default {DEFAULT_DELAY:g}.")
    return value


def now() -> float:
    """The mode's clock (monotonic: a change of the wall clock moves nothing)."""
    return time.monotonic()


def later(action: Callable[[], None], seconds: float | None = None) -> float:
    """Run ACTION once ``seconds`` (default :func:`delay`) have passed; returns when."""
    when = now() + (delay() if seconds is None else seconds)
    with _lock:
        heapq.heappush(_due, (when, next(_sequence), action))
    return when


def advance() -> int:
    """Apply every state change that is due; returns how many were applied."""
    done = 0
    with _lock:
        while _due and _due[0][0] <= now():
            _, _, action = heapq.heappop(_due)
            try:
                action()
            except Exception as exc:  # a resource deleted meanwhile: say so, never crash a request
                import logging

                logging.getLogger(__name__).warning("aws-like state change skipped: %s", exc)
            done += 1
    return done


def pending() -> int:
    with _lock:
        return len(_due)


def forget() -> None:
    """Drop every scheduled change (a moto reset removed what they refer to)."""
    with _lock:
        _due.clear()


def _hook_modules():
    """Every module a service folder names in ``Service.aws_like`` (the registry)."""
    from labkit.emulator import services

    for service in services.services():
        yield from service.aws_like_modules()


def install() -> None:
    """Install every service's aws-like hooks once; each does nothing while the mode is off."""
    global _installed
    if _installed:
        return
    for module in _hook_modules():
        module.install()
    _installed = True


def reset() -> None:
    """A moto reset removed every resource: drop scheduled changes and the hooks' memory."""
    forget()
    for module in _hook_modules():
        getattr(module, "forget", lambda: None)()


class AwsLikeApp:
    """WSGI layer just in front of moto (behind authorization): apply due state changes, and
    let each service's hooks answer first (S3: buckets of the global namespace that belong
    to another account) or prepare (IAM: what is in force before a write)."""

    def __init__(self, app: Callable):
        self.app = app

    def __call__(self, environ: dict, start_response: Callable):
        if not enabled() or environ.get("PATH_INFO", "").startswith("/moto-api"):
            return self.app(environ, start_response)
        advance()
        for module in _hook_modules():
            before = getattr(module, "before_request", None)
            answer = before(environ) if before is not None else None
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers + [("Content-Length", str(len(body)))])
                return [body]
        return self.app(environ, start_response)
