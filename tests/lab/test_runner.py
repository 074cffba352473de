"""`make run` (labkit.runner): quiet when every lesson passes, isolated, and why it is quiet."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from labkit import runner
from labkit.emulator import shared_lab

pytestmark = pytest.mark.slow


def test_make_run_prints_no_error_or_traceback_and_keeps_its_own_labs(tmp_path):
    home, out = tmp_path / "home", tmp_path / "build"
    env = {**os.environ, "LABKIT_HOME": str(home)}
    env.pop("LABKIT_SHARED_LAB", None)  # as from a learner's shell: runner must turn it off
    done = subprocess.run([sys.executable, "-m", "labkit", "run", "--out", str(out),
                           "--lesson", "00", "--lesson", "01", "--lesson", "04"],
                          env=env, capture_output=True, text=True, timeout=600)
    printed = done.stdout + done.stderr
    assert done.returncode == 0, printed
    runs = json.loads((out / "summary.json").read_text())
    assert [(r["lesson"], r["status"]) for r in runs] == [
        ("00", "passed"), ("01", "passed"), ("04", "passed")]
    assert all(r["checks_passed"] == r["checks_total"] > 0 for r in runs)
    noisy = [line for line in printed.splitlines() if re.search(r"ERROR|Traceback", line)]
    assert not noisy, noisy
    # Private labs: no learner lab was started under LABKIT_HOME, nor anywhere by NAME.
    os.environ["LABKIT_HOME"], saved = str(home), os.environ["LABKIT_HOME"]
    try:
        assert shared_lab.running() == {} and not list(home.glob("*/state.json"))
    finally:
        os.environ["LABKIT_HOME"] = saved


def test_quiet_shutdown_sends_no_interrupt_where_jupyter_clients_does(tmp_path):
    """The cause of "[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel.": jupyter_client's
    shutdown_kernel() sends SIGINT before the shutdown request, and ipykernel logs that
    ERROR when the signal lands while it is still in a message handler. The runner's
    shutdown sends the request only."""
    from jupyter_client import BlockingKernelClient
    from jupyter_core.utils import run_sync

    from labkit.grading import engine

    seen = {}
    for quiet in (False, True):
        marker = tmp_path / f"sigint-{quiet}"
        km = engine.ipc_manager(tmp_path / f"ipc-{quiet}")
        run_sync(km.start_kernel)(env={**os.environ, "LABKIT_SHARED_LAB": "0"})
        client = BlockingKernelClient()
        client.load_connection_info(km.get_connection_info())
        client.start_channels()
        client.wait_for_ready(timeout=60)
        # ipykernel puts its saved handler back after each message: record SIGINTs there.
        client.execute_interactive(
            "import signal\n"
            f"def noted(*_): open({str(marker)!r}, 'w').write('SIGINT')\n"
            "get_ipython().kernel.saved_sigint_handler = noted\n"
            "signal.signal(signal.SIGINT, noted)", timeout=60)
        client.stop_channels()
        if quiet:
            runner._quiet_kill(type("K", (), {"client": None, "km": km})())
        else:
            run_sync(km.shutdown_kernel)(now=False)
        seen[quiet] = marker.exists()
    assert seen == {False: True, True: False}


def test_lessons_go_out_longest_first(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps([{"lesson": "00", "seconds": 99.0}]))
    expected = runner._expected(tmp_path)
    assert expected["00"] == 99.0 and expected["04"] == runner.EXPECTED_SECONDS["04"]
    assert runner._expected(tmp_path / "missing") == runner.EXPECTED_SECONDS
