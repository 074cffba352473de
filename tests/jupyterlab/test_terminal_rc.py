"""The rc file of JupyterLab terminals (jupyter/terminal.bashrc): on the lab, or on nothing.

The JupyterLab test (test_jupyterlab.py) shows a terminal on the lab; here, the
two other cases, without a server: the lab cannot be reached (the terminal must
then reach nothing, not the learner's real account), and the learner opted in to
a real account for the whole session (LABKIT_TARGET=aws with LABKIT_AWS_ACCOUNT).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RC = Path(__file__).resolve().parents[2] / "jupyter" / "terminal.bashrc"
REAL = {"AWS_ACCESS_KEY_ID": "AKIAREALLEARNERKEY00", "AWS_SECRET_ACCESS_KEY": "real-secret",
        "AWS_PROFILE": "my-admin"}


def interactive(command: str, tmp_path, **env) -> subprocess.CompletedProcess:
    bin_dir = str(Path(sys.executable).parent)
    full = {**os.environ, **REAL, "HOME": str(tmp_path), "LABKIT_HOME": str(tmp_path / "lk"),
            "PATH": bin_dir + os.pathsep + os.environ["PATH"], **env}
    if "LABKIT_TARGET" not in env:
        full.pop("LABKIT_TARGET", None)
    return subprocess.run(["bash", "--rcfile", str(RC), "-i", "-c", command], env=full,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.mark.slow
def test_a_terminal_whose_lab_cannot_start_reaches_nothing(tmp_path):
    done = interactive('echo "key=${AWS_ACCESS_KEY_ID:-none} profile=${AWS_PROFILE:-none} '
                       'config=$AWS_CONFIG_FILE proxy=$HTTPS_PROXY"; '
                       "aws sts get-caller-identity", tmp_path, LABKIT_PYTHON="/bin/false")
    assert "could not reach your lab" in done.stdout
    assert "key=none profile=none config=/dev/null proxy=http://127.0.0.1:9" in done.stdout
    assert done.returncode != 0 and "Unable to locate credentials" in done.stderr


def test_a_session_opted_in_to_real_aws_keeps_its_credentials_and_says_so(tmp_path):
    done = interactive('echo "key=$AWS_ACCESS_KEY_ID"', tmp_path, LABKIT_TARGET="aws",
                       LABKIT_AWS_ACCOUNT="111122223333", LABKIT_PYTHON="/bin/false")
    assert "REAL" in done.stdout and "111122223333" in done.stdout
    assert "key=AKIAREALLEARNERKEY00" in done.stdout


def test_aws_target_without_the_account_is_no_opt_in(tmp_path):
    done = interactive('echo "key=${AWS_ACCESS_KEY_ID:-none}"', tmp_path, LABKIT_TARGET="aws",
                       LABKIT_PYTHON="/bin/false")
    assert "key=none" in done.stdout and "REAL" not in done.stdout
