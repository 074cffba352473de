"""What a learner reads at a terminal: status tells kernels from terminals, `start` typed
at a terminal prints a summary (exports only under eval or --env), a terminal facing
several labs asks which, and stopping `make lab` ends cleanly saying which labs stay up."""
from __future__ import annotations

import fcntl
import io
import os
import pty
import signal
import subprocess
import sys
import termios
import threading
import time
import urllib.request

import pytest

from labkit import attached, cli, config, serve
from labkit.emulator import shared_lab
from tests.jupyterlab.conftest import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(shared_lab.SHARED_VARIABLE, "1")
    monkeypatch.setenv("LABKIT_NO_NETWORK", "1")
    monkeypatch.delenv("LABKIT_EMULATOR_ATTACH", raising=False)
    monkeypatch.delenv("LABKIT_NAME", raising=False)
    yield tmp_path / "home"
    for name in list(shared_lab.running()):
        shared_lab.stop(name)


class _Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_status_names_kernels_and_terminals_apart(home, capsys):
    shared_lab.ensure("ana")
    # A kernel (its command line names ipykernel, as ipykernel_launcher's does) and a
    # JupyterLab terminal (bash), both registered as the terminal.bashrc and labkit.start do.
    kernel = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)",
                               "ipykernel_launcher"])
    shell = subprocess.Popen(["bash", "-c", "sleep 60; true"])
    try:
        time.sleep(0.3)
        assert (attached.kind(kernel.pid), attached.kind(shell.pid)) == ("kernel", "terminal")
        for pid in (kernel.pid, shell.pid):
            shared_lab.register_client("ana", pid)
        assert cli.main(["emulator", "status"]) == 0
        line = capsys.readouterr().out.splitlines()[0]
        assert "used by 1 kernel, 1 terminal" in line, line
    finally:
        for process in (kernel, shell):
            process.kill()
            process.wait()


def test_start_at_a_terminal_prints_a_summary_and_exports_only_when_asked(
        home, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdout", _Terminal())
    assert cli.main(["emulator", "start", "--name", "ana"]) == 0
    shown = sys.stdout.getvalue()
    assert "labkit lab for ana started" in shown and 'eval "$(labkit emulator env' in shown
    assert "export " not in shown and "unset " not in shown
    monkeypatch.setattr(sys, "stdout", _Terminal())
    assert cli.main(["emulator", "start", "--name", "ana", "--env"]) == 0
    assert "export LABKIT_NAME=ana" in sys.stdout.getvalue()
    assert "already running" in capsys.readouterr().err


def test_a_terminal_facing_several_labs_asks_which(home, capsys, monkeypatch):
    for name in ("ana", "bo"):
        shared_lab.ensure(name)
    monkeypatch.setattr(sys, "stdin", _Terminal("2\n"))
    assert cli.main(["emulator", "env", "--start"]) == 0
    out, err = capsys.readouterr()
    assert "2 labs are running" in err and "1) ana" in err and "2) bo" in err
    assert "Which one for this terminal?" in err and "export LABKIT_NAME=bo" in out
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no terminal to ask: say how
    assert cli.main(["emulator", "env", "--start"]) == 2
    err = capsys.readouterr().err
    assert 'labkit emulator env --name NAME' in err and "make lab NAME=" in err


def test_stopping_make_lab_ends_without_a_make_error_and_names_the_labs_left(
        home, tmp_path):
    shared_lab.ensure("ana")
    shared_lab.register_holders("ana")  # this process holds it, as a terminal would
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JUPYTER"))}
    env.update(JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"), PYTHONPATH=str(config.repo_root()),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "s"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "w"))
    # make in a terminal of its own (a pty), Ctrl-C typed into it as a learner does.
    master, slave = pty.openpty()
    make = subprocess.Popen(
        ["make", "-s", "-o", "install", "lab", f"VENV={sys.prefix}", f"WORK={tmp_path / 'work'}",
         f"JUPYTER_ARGS=--port={port} --ServerApp.port_retries=0 --IdentityProvider.token=t"],
        cwd=config.repo_root(), env=env, stdin=slave, stdout=slave, stderr=slave,
        start_new_session=True, preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    os.close(slave)
    chunks = []
    reader = threading.Thread(target=_drain, args=(master, chunks), daemon=True)
    reader.start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                f"http://127.0.0.1:{port}/api/status?token=t", timeout=5)
            break
        except OSError:
            time.sleep(0.5)
    for _ in range(2):  # Ctrl-C, then Ctrl-C again: how a learner stops JupyterLab
        os.write(master, b"\x03")
        time.sleep(0.5)
    make.wait(timeout=60)
    reader.join(timeout=10)
    output = b"".join(chunks).decode(errors="replace")
    assert make.returncode == 0, output
    assert "Interrupt" not in output and "***" not in output, output
    assert "your lessons are in" in output and "JupyterLab has stopped" in output
    assert "The lab for ana stays up" in output
    assert "labkit emulator stop --name ana" in output
    assert (tmp_path / "work" / "00_setup_and_credentials.ipynb").exists()


def _drain(fd: int, chunks: list) -> None:
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # the terminal closed: make and all below it have ended
            return
        if not data:
            return
        chunks.append(data)


def test_labs_left_when_nothing_runs(home):
    assert serve.labs_left() == ["        No lab is left running."]
