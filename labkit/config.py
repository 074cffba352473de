"""The few defaults labkit owns: region, account id, where lab files live.

Everything else (resource names, profiles, ports) is derived from these and
the learner's NAME, so no notebook hard-codes a region or an account id.
"""
from __future__ import annotations

import os
from pathlib import Path

#: The one default region of the course. Override with LABKIT_REGION.
DEFAULT_REGION = "us-east-1"
#: The account id the emulator plays (moto's default). Real AWS reports its own.
EMULATOR_ACCOUNT_ID = "123456789012"
#: A second region with at least two availability zones, used nowhere else.
SECOND_AZ_SUFFIXES = ("a", "b")


def region() -> str:
    """The region lessons use: LABKIT_REGION, else the course default."""
    return os.environ.get("LABKIT_REGION") or DEFAULT_REGION


def labkit_home() -> Path:
    """Where lab-local files live (AWS config, credentials, CA, state).

    Never the learner's ~/.aws: LABKIT_HOME, else ~/.labkit.
    """
    return Path(os.environ.get("LABKIT_HOME") or Path.home() / ".labkit")


def repo_root() -> Path:
    """The course checkout (the folder holding notebooks/ and data/)."""
    return Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    return repo_root() / "data"
