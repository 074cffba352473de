"""Where a lab runs: the embedded emulator (default) or a real AWS account (opt-in).

Real AWS is used only when the learner says so twice: LABKIT_TARGET=aws, and
LABKIT_AWS_ACCOUNT holding the 12-digit id that STS reports for the
credentials in use. Anything less is refused before a single change is made.
"""
from __future__ import annotations

import os
import re

EMULATOR = "emulator"
AWS = "aws"

#: Variables that could carry real credentials or redirect clients; an emulator
#: lab removes them from its own process so nothing real is ever used.
CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION", "AWS_ENDPOINT_URL",
)


class TargetError(RuntimeError):
    """The requested target cannot be used; the message says what to set."""


def choose(target: str | None = None) -> str:
    """The target: the argument, else LABKIT_TARGET, else the emulator."""
    value = (target or os.environ.get("LABKIT_TARGET") or EMULATOR).strip().lower()
    if value not in (EMULATOR, AWS):
        raise TargetError(
            f"LABKIT_TARGET={value!r} is not a target. Use 'emulator' (the default: "
            "offline, free) or 'aws' (a real account, with LABKIT_AWS_ACCOUNT set)."
        )
    return value


def expected_account() -> str:
    """LABKIT_AWS_ACCOUNT, checked to be 12 digits."""
    value = os.environ.get("LABKIT_AWS_ACCOUNT", "").strip()
    if not re.fullmatch(r"\d{12}", value):
        shown = f"{value!r}" if value else "not set"
        raise TargetError(
            f"LABKIT_TARGET=aws needs LABKIT_AWS_ACCOUNT set to the 12-digit id of the "
            f"account you mean to use (it is {shown}). Nothing was created. Find the id "
            "with `aws sts get-caller-identity`, then e.g. export LABKIT_AWS_ACCOUNT=111122223333."
        )
    return value


def verify_account(reported: str) -> str:
    """Refuse unless STS's ``reported`` account is the one the learner named."""
    expected = expected_account()
    if reported != expected:
        raise TargetError(
            f"Your AWS credentials belong to account {reported}, but LABKIT_AWS_ACCOUNT "
            f"is {expected}. Nothing was created. Use credentials for {expected} "
            "(LABKIT_AWS_PROFILE=<profile>), or correct LABKIT_AWS_ACCOUNT."
        )
    return reported


def scrub_environment(environ: dict) -> list[str]:
    """Remove real-credential and endpoint variables; return the names removed."""
    removed = [k for k in list(environ)
               if k in CREDENTIAL_VARIABLES or k.startswith("AWS_ENDPOINT_URL_")]
    for key in removed:
        del environ[key]
    return removed
