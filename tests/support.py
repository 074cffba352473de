"""Helpers shared by the tests."""
from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from labkit import checks


def failed(lab, check_id: str) -> str:
    """Run a check that must FAIL (not break) on the current state; return its message."""
    result = checks.run(lab, check_id)
    assert not result.passed, f"{check_id} should fail: {result.message}"
    assert not result.error, result.error
    return result.message


@contextlib.contextmanager
def notebook_kernel(nb, directory: Path, env: dict, timeout: float = 600):
    """An nbclient client on a fresh kernel whose channels are unix sockets in a folder of
    its own (labkit.grading.engine.ipc_manager: no TCP port to race for), shut down after."""
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient

    from labkit.grading import engine

    # Under /tmp, not tmp_path: a unix socket path must stay under 108 bytes.
    folder = Path(tempfile.mkdtemp(prefix="lk-nb-"))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            km=engine.ipc_manager(folder / "ipc"),
                            resources={"metadata": {"path": str(directory)}})
    try:
        with client.setup_kernel(env=env):
            yield client
    finally:
        with contextlib.suppress(Exception):
            if client.kc is not None:
                client.kc.stop_channels()
            run_sync(client.km.shutdown_kernel)(now=True)
        shutil.rmtree(folder, ignore_errors=True)
