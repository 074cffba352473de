"""Memory, disk, namespaces and root-only files inside a kernel's sandbox (issue 21).

A kernel (graded by a sandboxed worker in its own process, tests/grading/output_probe.py)
tries to make user and mount namespaces and mount a large tmpfs, read a file only the
grader's user can read, and fill its home, /tmp and /dev/shm. Each attempt must be refused
or stop at its cap; the row names the limits in force; nothing is left running or mounted.
Needs bubblewrap (>= 0.8 for --disable-userns); without it these tests fail.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from labkit import config
from labkit.grading import sandbox
from tests.grading import hostile

ATTEMPTS = '''
import ctypes, json, os, subprocess
found = {"uid": os.getuid(), "uid_map": open("/proc/self/uid_map").read().split()}
for flag in ("-U", "-m", "-Ur"):
    run = subprocess.run(["unshare", flag, "sh", "-c",
                          "mount -t tmpfs -o size=4g none /mnt && echo mounted"],
                         capture_output=True, text=True)
    found["unshare" + flag] = (run.returncode, run.stdout.strip())
libc = ctypes.CDLL(None, use_errno=True)
found["unshare(NEWUSER|NEWNS)"] = libc.unshare(0x10000000 | 0x00020000)
try:
    found["secret"] = open(SECRET).read()
except OSError as exc:
    found["secret"] = type(exc).__name__
def fill(folder, files):
    written = 0
    try:
        for index in range(files):
            with open(os.path.join(folder, f"fill-{index}"), "wb") as handle:
                for _ in range(100):
                    handle.write(b"x" * 1024 * 1024)
                    written += 1
    except OSError as exc:
        return [written, exc.strerror]
    return [written, "no error"]
found["home"] = fill(os.environ["HOME"], 4)
found["tmp"] = fill("/tmp", 4)
found["shm"] = fill("/dev/shm", 2)
print("PROBE-JSON<<" + json.dumps(found) + ">>PROBE-JSON")
raise RuntimeError("probe done")
'''


@pytest.fixture(scope="module")
def probed():
    assert sandbox.find_bwrap(), "these tests need bubblewrap: apt-get install -y bubblewrap"
    secret = config.repo_root() / f".grader-only-{os.getpid()}"
    secret.write_text("grader's private key")
    secret.chmod(0o600)
    try:
        code = f"SECRET = {str(secret)!r}\n" + ATTEMPTS
        probe = subprocess.run([sys.executable, "-m", "tests.grading.output_probe", code],
                               capture_output=True, text=True, timeout=400,
                               cwd=config.repo_root(),
                               env={**os.environ, "PYTHONPATH": str(config.repo_root())})
    finally:
        secret.unlink()
    assert probe.returncode == 0, probe.stderr[-2000:]
    row = json.loads(probe.stdout.strip().splitlines()[-1])
    return {"row": row, "found": hostile.probe(row)}


@pytest.mark.slow
def test_no_namespace_or_mount_can_be_made_inside(probed):
    found = probed["found"]
    for flag in ("-U", "-m", "-Ur"):
        assert found["unshare" + flag][0] != 0 and found["unshare" + flag][1] == "", found
    assert found["unshare(NEWUSER|NEWNS)"] == -1


@pytest.mark.slow
def test_root_only_files_stay_unreadable(probed):
    found = probed["found"]
    assert found["secret"] == "PermissionError"
    if os.geteuid() == 0:
        assert found["uid"] == sandbox.SANDBOX_UID
        assert found["uid_map"][:1] == [str(sandbox.SANDBOX_UID)], "never root, not even inside"


@pytest.mark.slow
def test_every_writable_place_is_bounded(probed):
    found, mib = probed["found"], sandbox.MIB
    assert found["tmp"] == [sandbox.TMP_BYTES // mib, "No space left on device"]
    assert found["shm"] == [sandbox.SHM_BYTES // mib, "No space left on device"]
    if os.geteuid() == 0:  # the sized home needs a root grader (its mount namespace)
        assert found["home"][0] < sandbox.HOME_BYTES // mib
        assert found["home"][1] == "No space left on device"


@pytest.mark.slow
def test_the_row_says_which_limits_are_in_force_and_nothing_is_left(probed):
    limits = " | ".join(probed["row"]["limits"])
    assert "no user namespaces inside (bwrap --disable-userns)" in limits
    assert "/dev/shm 64 MiB" in limits and "address space 2 GiB" in limits
    if os.geteuid() == 0:
        assert f"kernel as unprivileged uid {sandbox.SANDBOX_UID}" in limits
        assert "home and ipc folder 256 MiB in all (sized tmpfs)" in limits
    assert hostile.leftovers() == []
    assert "lkg-" not in open("/proc/self/mountinfo").read(), "no kernel mount on the host"


def test_the_report_shows_the_limits_in_force(tmp_path):
    from labkit.grading import regrade, report
    from labkit.grading.submissions import Submission

    sub = Submission(tmp_path / "a.ipynb", "a", "01", "a.ipynb")
    result = regrade._finish(regrade._new_result(sub), "ok", "", [], sub)
    result["limits"] = ["no user namespaces inside (bwrap --disable-userns)", "CPU 660 s"]
    regrade.write_result(tmp_path, sub, result)
    html = report.write_reports(tmp_path, verify=regrade.verified)["html"].read_text()
    assert "Sandbox limits in force" in html and "bwrap --disable-userns" in html
