"""Waiting the way AWS needs it: bounded retries and polling, never a fixed sleep.

A real account is eventually consistent and asynchronous: a new access key or
policy takes seconds to work everywhere (IAM user guide, "Troubleshoot IAM":
changes that I make are not always immediately visible), and instances, load
balancer targets, SageMaker domains, EKS clusters come up over minutes. The
lessons use these helpers on every target; on the plain emulator they return at
once, on AWS (or the aws-like emulator) they wait as long as AWS takes, up to a
stated limit, and then fail saying what they were waiting for.
"""
from __future__ import annotations

import time
from typing import Callable, Iterable, TypeVar

from botocore.exceptions import ClientError

T = TypeVar("T")

#: Error codes AWS gives while a new access key is not yet known everywhere.
NEW_KEY_CODES = ("InvalidClientTokenId", "InvalidAccessKeyId", "UnrecognizedClientException",
                 "AuthFailure")
#: Error codes AWS gives while a new or changed policy is not yet in force.
NEW_POLICY_CODES = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")
#: How long IAM changes are given to apply (AWS: "usually within seconds").
IAM_TIMEOUT = 120.0


def backoff(first: float = 0.5, factor: float = 1.6, most: float = 15.0) -> Iterable[float]:
    """Pauses between polls: short at first (the plain emulator), longer later (AWS)."""
    pause = first
    while True:
        yield pause
        pause = min(most, pause * factor)


def propagates(lab) -> bool:
    """Whether IAM changes take time where LAB runs: a real account, or an aws-like emulator.

    On the plain emulator a change applies at once, so a refusal is final and
    waiting for it to pass would only delay the learner's error message.
    """
    if lab.target == "aws":
        return True
    from labkit.emulator import aws_like

    return aws_like.enabled() or bool(getattr(lab.emulator, "aws_like", False))


def iam_timeout(lab) -> float:
    """How long to wait for an IAM change to apply where LAB runs (0: not at all)."""
    return IAM_TIMEOUT if propagates(lab) else 0.0


def retry(call: Callable[[], T], codes: Iterable[str], what: str,
          timeout: float = IAM_TIMEOUT) -> T:
    """CALL(), again while it fails with one of CODES, for at most TIMEOUT seconds
    (0: once, its error as it is)."""
    if timeout <= 0:
        return call()
    codes = tuple(codes)
    deadline = time.monotonic() + timeout
    for pause in backoff():
        try:
            return call()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in codes or time.monotonic() + pause > deadline:
                if code in codes:
                    raise TimeoutError(f"{what}: still {code} after {timeout:.0f} s "
                                       f"({exc.response['Error'].get('Message', '')})") from exc
                raise
            time.sleep(pause)
    raise AssertionError("unreachable")


def until(get: Callable[[], T], done: Callable[[T], bool], what: str,
          timeout: float = 900.0, most: float = 15.0) -> T:
    """Poll GET() until DONE(value); returns the value. TimeoutError names WHAT and the last value."""
    deadline = time.monotonic() + timeout
    for pause in backoff(most=most):
        value = get()
        if done(value):
            return value
        if time.monotonic() + pause > deadline:
            raise TimeoutError(f"{what}: still {value!r} after {timeout:.0f} s")
        time.sleep(pause)
    raise AssertionError("unreachable")


def key_works(lab, profile: str, timeout: float | None = None) -> str:
    """Wait until PROFILE's new access key is accepted; returns the ARN it signs in as."""
    return retry(lambda: lab.whoami(profile=profile), NEW_KEY_CODES,
                 f"the new access key of profile {profile}",
                 iam_timeout(lab) if timeout is None else timeout)


def keys_work(lab, profiles: Iterable[str], timeout: float | None = None) -> dict[str, str]:
    """:func:`key_works` for each saved profile; {profile: ARN}.

    A profile not saved yet is skipped: the lesson's check that follows says what is
    missing, with a hint, where boto3 would only raise ProfileNotFound here."""
    saved = set(lab.files.profiles())
    return {profile: key_works(lab, profile, timeout) for profile in profiles
            if profile in saved}


def in_force(probe: Callable[[], T], what: str, timeout: float = IAM_TIMEOUT) -> T:
    """Run PROBE (a call a new policy allows) until it is no longer denied."""
    return retry(probe, NEW_POLICY_CODES + NEW_KEY_CODES, f"{what} to take effect", timeout)


def denied_eventually(probe: Callable[[], object], what: str, timeout: float = IAM_TIMEOUT) -> str:
    """Run PROBE (a call a new Deny or a removed Allow refuses) until it is denied; the code."""
    if timeout <= 0:
        timeout = 0.01  # one probe
    deadline = time.monotonic() + timeout
    for pause in backoff():
        try:
            probe()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in NEW_POLICY_CODES:
                return code
            if code not in NEW_KEY_CODES:
                raise
        if time.monotonic() + pause > deadline:
            raise TimeoutError(f"{what}: still allowed after {timeout:.0f} s")
        time.sleep(pause)
    raise AssertionError("unreachable")
