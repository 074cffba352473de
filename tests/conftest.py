"""Shared fixtures. Every test runs offline (labkit.netguard is loaded as a plugin)
with its own LABKIT_HOME, so nothing touches the learner's ~/.labkit or ~/.aws."""
from __future__ import annotations

import os

import pytest

# Tests keep private labs (an emulator per process, as make run and regrading do);
# tests of the shared lab turn it on for themselves with their own LABKIT_HOME.
os.environ["LABKIT_SHARED_LAB"] = "0"


@pytest.fixture(scope="session", autouse=True)
def _isolated_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("labkit-home")
    previous = os.environ.get("LABKIT_HOME")
    os.environ["LABKIT_HOME"] = str(home)
    os.environ.pop("LABKIT_TARGET", None)
    yield home
    if previous is None:
        os.environ.pop("LABKIT_HOME", None)
    else:
        os.environ["LABKIT_HOME"] = previous
