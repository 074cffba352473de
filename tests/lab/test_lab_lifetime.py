"""A lab lives as long as someone uses it (issue 29).

A papermill run gets a lab that ends with it, a lab whose LABKIT_HOME is removed stops
at once, and `labkit emulator status` / `stop --all` see every lab of the user,
wherever its LABKIT_HOME is.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labkit import cli, lifetime
from labkit.emulator import shared_lab

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
GRACE = 3  # LABKIT_LAB_DETACH_GRACE for these tests (the default is 10 s)
#: After the grace: the lab checks every second, then stops its emulator.
MARGIN = 7


@pytest.fixture
def lab_env(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("LABKIT_HOME", str(home))
    monkeypatch.setenv(shared_lab.SHARED_VARIABLE, "1")
    monkeypatch.setenv(shared_lab.GRACE_VARIABLE, str(GRACE))
    monkeypatch.setenv("LABKIT_NO_NETWORK", "1")
    monkeypatch.delenv("LABKIT_EMULATOR_ATTACH", raising=False)
    monkeypatch.delenv(shared_lab.IDLE_VARIABLE, raising=False)
    yield home
    lifetime.stop_processes(_labs_in(home))


def _labs_in(home: Path) -> list[lifetime.LabProcess]:
    return [lab for lab in lifetime.lab_processes() if lab.home == home]


def _wait_until(condition, timeout: float) -> float:
    """Seconds until ``condition()`` held; fails the test after ``timeout``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "condition still false"
        time.sleep(0.2)
    return time.monotonic() - started


def test_a_papermill_run_leaves_no_lab_behind(lab_env, tmp_path):
    papermill = Path(sys.executable).parent / "papermill"
    done = subprocess.run([str(papermill), str(ROOT / "notebooks" / "00_setup_and_credentials.ipynb"),
                           str(tmp_path / "out.ipynb"), "-p", "NAME", "pm", "--no-progress-bar"],
                          cwd=ROOT / "notebooks", capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    log = shared_lab.log_file("pm")
    assert "serving at" in log.read_text(), "the notebook did not start a shared lab"
    waited = _wait_until(lambda: not _labs_in(lab_env), GRACE + MARGIN)
    assert "stopping: nothing held it for 3 s" in log.read_text()
    assert not shared_lab.state_file("pm").exists()
    print(f"the lab ended {waited:.1f} s after papermill exited")


def test_a_lab_whose_home_is_removed_stops_at_once(lab_env):
    # Started from this process (a script): held while the test runs, idle timeout 2 h.
    state, _ = shared_lab.ensure("gone")
    shared_lab.register_holders("gone")
    time.sleep(GRACE + 2)
    assert _labs_in(lab_env), "a held lab stopped"
    shutil.rmtree(lab_env)
    _wait_until(lambda: shared_lab.gone(int(state["pid"])), 5)


def test_status_lists_every_lab_of_the_user_and_stop_all_ends_them(lab_env, tmp_path,
                                                                     monkeypatch, capsys):
    elsewhere = tmp_path / "elsewhere"
    shared_lab.ensure("here")
    shared_lab.register_holders("here")
    monkeypatch.setenv("LABKIT_HOME", str(elsewhere))
    other, _ = shared_lab.ensure("there")
    shared_lab.register_holders("there")
    monkeypatch.setenv("LABKIT_HOME", str(lab_env))
    assert cli.main(["emulator", "status"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("here: running, pid"), printed
    assert " MB)" in printed and "(up 0m" in printed
    line = next(x for x in printed.splitlines() if x.strip().startswith("there:"))
    assert f"pid {other['pid']}, LABKIT_HOME {elsewhere}, up 0m" in line and " MB" in line
    # stop --all ends every lab of the user; here only these two (other tests' labs live).
    mine = _labs_in(lab_env) + _labs_in(elsewhere)
    monkeypatch.setattr(lifetime, "lab_processes", lambda: mine)
    assert cli.main(["emulator", "stop", "--all"]) == 0
    assert capsys.readouterr().out.count("Stopped the lab for") == 2
    for lab in mine:
        assert shared_lab.gone(lab.pid)


def test_a_jupyterlab_server_holds_the_lab_between_kernels(lab_env, tmp_path):
    # A stand-in JupyterLab server: Python run under the name jupyter-lab, whose child
    # (a kernel) starts the lab and exits, as a learner closing a notebook.
    server_program = tmp_path / "jupyter-lab"
    server_program.symlink_to(sys.executable)
    # (The stand-in itself runs outside the venv, the name breaks its lookup: stdlib only.)
    kernel = ("import subprocess, time\n"
              f"subprocess.run([{sys.executable!r}, '-c', 'import labkit; "
              "labkit.start(\"held\", lesson=\"00\", verbose=False)'], check=True)\n"
              "time.sleep(120)")
    server = subprocess.Popen([str(server_program), "-c", kernel])
    try:
        _wait_until(lambda: shared_lab.live_holders("held") == [server.pid], 120)
        _wait_until(lambda: not shared_lab.live_clients("held"), 30)
        time.sleep(GRACE + 2)
        assert _labs_in(lab_env), "the lab stopped although JupyterLab still runs"
    finally:
        server.kill()
        server.wait()
    _wait_until(lambda: not _labs_in(lab_env), GRACE + MARGIN)


def test_what_counts_as_a_jupyter_server():
    assert lifetime.is_jupyter_server(["/venv/bin/python", "/venv/bin/jupyter-lab", "--no-browser"])
    assert lifetime.is_jupyter_server(["python", "-m", "jupyterlab", "notebooks/"])
    assert not lifetime.is_jupyter_server(["python", "-m", "pytest", "tests/jupyterlab"])
    assert not lifetime.is_jupyter_server(["papermill", "notebooks/00.ipynb", "out.ipynb"])
