"""Shared fixtures. Every test runs offline (labkit.netguard is loaded as a plugin)
with its own LABKIT_HOME, so nothing touches the learner's ~/.labkit or ~/.aws."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Tests keep private labs (an emulator per process, as make run and regrading do);
# tests of the shared lab turn it on for themselves with their own LABKIT_HOME.
os.environ["LABKIT_SHARED_LAB"] = "0"


def _nbval_kernels_over_ipc() -> None:
    """nbval (make test's --nbval-lax lessons) starts each kernel on TCP ports it picks and
    the kernel binds later: another kernel of the parallel run can take one in between
    ("Address already in use"). Give every nbval kernel unix sockets in its own folder."""
    try:
        import nbval.kernel
    except ImportError:
        return
    base = nbval.kernel.KernelManager

    class IpcKernelManager(base):
        def __init__(self, **kwargs):
            folder = Path(tempfile.mkdtemp(prefix="lk-nbval-"))  # short: sockets <108 bytes
            atexit.register(shutil.rmtree, folder, True)
            super().__init__(**{"transport": "ipc", "ip": str(folder / "zmq"), **kwargs})
            self.connection_file = str(folder / "kernel.json")

    nbval.kernel.KernelManager = IpcKernelManager


_nbval_kernels_over_ipc()


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
