"""JupyterLab started exactly as `make lab` starts it, for the tests in this folder.

The command comes from the Makefile itself (`make -n lab`: `labkit lab`, which starts
JupyterLab on the learner's working folder), with three changes a test needs: a free
port, a known token (passed on to JupyterLab after `--`), and a scratch working folder
(`--work`) holding the full lessons, so lesson 00 runs to the end (`labkit lab` copies
only the student versions a folder lacks). Each server has its own
LABKIT_HOME, Jupyter runtime and settings folders; at the end the server, its
kernels and terminals, and the learner's lab it started are all stopped.
"""
from __future__ import annotations

import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90


def make_lab_command(venv: str | None = None) -> list[str]:
    """`make lab`'s JupyterLab command line (environment assignments first), from `make -n`."""
    venv = venv or sys.prefix
    done = subprocess.run(["make", "-s", "-n", "-o", "install", "lab", f"VENV={venv}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=30, check=True)
    return shlex.split(done.stdout.replace("\\\n", " "))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _opener():
    # Loopback straight: a lab's HTTP(S)_PROXY variables must not apply to the test's requests.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Server:
    url: str
    token: str
    root: Path
    home: Path
    process: subprocess.Popen

    def request(self, path: str, method: str = "GET", data: bytes | None = None) -> bytes:
        req = urllib.request.Request(self.url + path, method=method, data=data,
                                     headers={"Authorization": f"token {self.token}"})
        with _opener().open(req, timeout=30) as response:
            return response.read()


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    base = tmp_path_factory.mktemp("jupyterlab")
    root, home = base / "notebooks", base / "labkit-home"
    root.mkdir()
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, root)
    port, token = free_port(), secrets.token_hex(16)
    command = make_lab_command()
    assignments = [a for a in command if "=" in a.split("/")[0] and not a.startswith("-")]
    argv = command[len(assignments):]
    assert argv[-3:] == ["-m", "labkit", "lab"], f"make lab no longer runs labkit lab: {command}"
    argv = argv + ["--work", str(root), "--", f"--port={port}",
                   f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JUPYTER"))}
    env.update(dict(a.split("=", 1) for a in assignments))
    env.update({"LABKIT_HOME": str(home), "LABKIT_SHARED_LAB": "1", "LABKIT_NO_NETWORK": "1",
                "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
                "JUPYTERLAB_SETTINGS_DIR": str(base / "user-settings"),
                "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
                "PYTHONPATH": str(ROOT)})
    env.pop("LABKIT_NAME", None)
    log = open(base / "server.log", "w")
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", token, root, home, process)
    try:
        _wait_until_up(server, base / "server.log")
        yield server
    finally:
        _stop(server)
        log.close()


def _wait_until_up(server: Server, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"JupyterLab exited at start:\n{log.read_text()[-3000:]}")
        try:
            server.request("/api/status")
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"JupyterLab did not answer within {START_TIMEOUT} s:\n{log.read_text()[-3000:]}")


def _stop(server: Server) -> None:
    """The server (SIGTERM shuts its kernels and terminals down), then the lab it started."""
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group this fixture created
            process.wait(timeout=10)
    with contextlib_env(LABKIT_HOME=str(server.home)):
        from labkit.emulator import shared_lab

        for name in list(shared_lab.running()):
            shared_lab.stop(name)
    # Anything left in the server's process group (a kernel that ignored the shutdown).
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class contextlib_env:
    """Set environment variables for a block (LABKIT_HOME for the sandbox functions)."""

    def __init__(self, **values):
        self.values, self.saved = values, {}

    def __enter__(self):
        self.saved = {k: os.environ.get(k) for k in self.values}
        os.environ.update(self.values)

    def __exit__(self, *exc):
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
