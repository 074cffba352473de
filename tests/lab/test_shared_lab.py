"""One lab per learner NAME, shared like one AWS account by kernels and terminals.

Kernels are played by separate Python processes (what a JupyterLab kernel is),
terminals by bash running `eval "$(labkit emulator env ...)"` and the AWS CLI.
Each test has its own LABKIT_HOME; every lab it starts is stopped at the end.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labkit import course
from labkit.emulator import shared_lab

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "labkit"]


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private LABKIT_HOME with the shared lab on; its labs are stopped afterwards."""
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(shared_lab.SHARED_VARIABLE, "1")
    monkeypatch.setenv("LABKIT_NO_NETWORK", "1")
    monkeypatch.delenv("LABKIT_EMULATOR_ATTACH", raising=False)
    monkeypatch.delenv("LABKIT_NAME", raising=False)
    monkeypatch.delenv(shared_lab.IDLE_VARIABLE, raising=False)
    yield tmp_path / "home"
    for name in list(shared_lab.running()):
        shared_lab.stop(name)


def kernel(code: str, **env) -> str:
    """Run CODE in a fresh Python process (a new kernel) and return its stdout."""
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return done.stdout


def terminal(script: str, **env) -> subprocess.CompletedProcess:
    """Run SCRIPT in bash with the venv's `aws` and `labkit` first on PATH."""
    path = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    # A learner's shell may hold real credentials: the lab's exports must win over them.
    env = {**os.environ, "PATH": path, "AWS_ACCESS_KEY_ID": "AKIAREALLEARNERKEY00",
           "AWS_SECRET_ACCESS_KEY": "real-secret", **env}
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                          timeout=120)


def labkit_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=180)


def test_kernels_and_a_terminal_share_one_lab(home):
    first = kernel("import labkit; lab = labkit.start('ana', lesson='02', verbose=False)\n"
                   "lab.client('iam').create_user(UserName='made-in-kernel-1')\n"
                   "print(lab.emulator.url)")
    # The first kernel has exited (a kernel restart): the lab and its state remain.
    state = shared_lab.read_state("ana")
    assert state and state["url"] == first.strip()
    second = kernel("import labkit; lab = labkit.start('ana', lesson='01', verbose=False)\n"
                    "iam = lab.client('iam')\n"
                    "print(lab.emulator.url)\n"
                    "print(sorted(u['UserName'] for u in iam.list_users()['Users']))\n"
                    "print(len(iam.list_access_keys(UserName='analyst-ana')['AccessKeyMetadata']))")
    url, users, keys = second.strip().splitlines()[-3:]
    assert url == first.strip()
    assert "made-in-kernel-1" in users and "analyst-ana" in users
    assert keys == "1"  # lesson 01 rebuilt idempotently: the saved key was reused
    shell = terminal('eval "$(labkit emulator env --name ana)" && '
                     "aws --profile analyst-ana sts get-caller-identity --query Arn --output text && "
                     "aws iam get-user --user-name made-in-kernel-1 --query User.UserName --output text")
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.split() == ["arn:aws:iam::123456789012:user/analyst-ana", "made-in-kernel-1"]
    assert len(shared_lab.running()) == 1


def test_two_kernels_starting_together_start_one_lab(home):
    code = "import labkit; print(labkit.start('duo', lesson='00', verbose=False).emulator.url)"
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    urls = {p.communicate(timeout=180)[0].strip() for p in procs}
    assert len(urls) == 1 and shared_lab.read_state("duo")["url"] in urls


def test_env_status_stop_without_name_use_the_one_running_lab(home):
    assert labkit_cli("emulator", "start", "--name", "ana").returncode == 0
    env = labkit_cli("emulator", "env")
    assert env.returncode == 0 and "export LABKIT_NAME=ana" in env.stdout
    status = labkit_cli("emulator", "status")
    assert status.stdout.startswith("ana: running"), status.stdout
    assert labkit_cli("emulator", "start", "--name", "bo").returncode == 0
    several = labkit_cli("emulator", "env")
    assert several.returncode == 2
    assert "2 labs are running" in several.stderr and "--name" in several.stderr
    assert "ana (pid" in several.stderr and "bo (pid" in several.stderr
    assert labkit_cli("emulator", "stop").returncode == 2  # which one? it asks
    assert labkit_cli("emulator", "stop", "--name", "bo").stdout.startswith("Stopped the lab for bo")
    assert labkit_cli("emulator", "stop").stdout.startswith("Stopped the lab for ana")
    none = labkit_cli("emulator", "env")
    assert none.returncode == 2 and "No lab is running" in none.stderr


def test_a_stale_lab_is_detected_and_cleaned(home):
    folder = home / "gone"
    folder.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for pid in (dead.pid, os.getpid()):  # a process that is gone; one that is not a lab
        shared_lab.state_file("gone").write_text(json.dumps(
            {"pid": pid, "url": "http://127.0.0.1:9", "started": "x", "environ": {}}))
        shared_lab.attach_file("gone").write_text("{}")
        assert shared_lab.read_state("gone") is None
        assert not shared_lab.state_file("gone").exists() and not shared_lab.attach_file("gone").exists()
    # A lab killed outright: the next labkit.start notices and starts a new one, rebuilt.
    first = kernel("import labkit; print(labkit.start('gone', lesson='00', verbose=False).emulator.url)")
    old = shared_lab.read_state("gone")
    os.kill(int(old["pid"]), signal.SIGKILL)
    _wait(lambda: shared_lab.gone(int(old["pid"])))
    out = kernel("import labkit; lab = labkit.start('gone', lesson='02', verbose=False)\n"
                 "print(lab.emulator.url); print(lab.whoami('analyst-gone'))")
    url, arn = out.strip().splitlines()[-2:]
    assert url != first.strip() and arn.endswith(":user/analyst-gone")
    assert int(shared_lab.read_state("gone")["pid"]) != int(old["pid"])


def test_an_idle_lab_stops_by_itself_but_not_while_a_kernel_is_attached(home, monkeypatch):
    monkeypatch.setenv(shared_lab.IDLE_VARIABLE, "1")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        state, _ = shared_lab.ensure("idle")
        shared_lab.register_client("idle", sleeper.pid)  # a kernel that is attached but quiet
        time.sleep(3)
        assert shared_lab.read_state("idle"), "stopped although a kernel was attached"
    finally:
        sleeper.kill()
        sleeper.wait()
    _wait(lambda: shared_lab.gone(int(state["pid"])), timeout=20)
    assert shared_lab.read_state("idle") is None and not shared_lab.state_file("idle").exists()
    assert "idle for" in shared_lab.log_file("idle").read_text()


def test_upto_08_builds_every_lesson_end_state_in_the_running_lab(home):
    done = labkit_cli("emulator", "start", "--name", "up", "--upto", "08")
    assert done.returncode == 0, done.stderr
    assert "built lessons 01, 02, 03, 04, 05, 06, 07, 08" in done.stderr
    state = shared_lab.read_state("up")
    assert state["upto"] == "08"
    em = shared_lab.attach(state)
    groups = em.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=["up-web-asg"])["AutoScalingGroups"]
    assert groups and groups[0]["MinSize"] == 2  # lesson 05
    domains = em.client("sagemaker").list_domains()["Domains"]
    assert [d["DomainName"] for d in domains] == ["up-domain"]  # lesson 06
    assert em.client("ecr").describe_repositories(
        repositoryNames=["up-analysis"])["repositories"]  # lesson 08
    points = em.client("s3control").list_access_points(AccountId=em.account_id)["AccessPointList"]
    assert points  # lesson 03
    # A terminal sees the same lab, as the lesson 01 administrator.
    shell = terminal('eval "$(labkit emulator env)" && aws --profile admin-up ecr '
                     "describe-repositories --query 'repositories[].repositoryName' --output text")
    assert shell.returncode == 0 and shell.stdout.split() == ["up-analysis"], shell.stderr


class _Lab:
    def __init__(self, target):
        self.target = target


BUILT: list[str] = []


def _record(lab) -> None:
    BUILT.append(lab.target)


def test_billable_builders_run_on_aws_only_when_asked(monkeypatch, capsys):
    """EC2 instances, a SageMaker domain and an EKS cluster cost money on a real account."""
    BUILT.clear()
    billable = course.Lesson("05", "x", "x.ipynb", f"{__name__}:_record", billable=True)
    monkeypatch.delenv(course.BILLABLE_VARIABLE, raising=False)
    assert billable.build(_Lab("aws")) is False
    assert "LABKIT_BUILD_BILLABLE=1" in capsys.readouterr().out
    assert billable.build(_Lab("emulator")) is True
    assert billable.build(_Lab("aws"), billable=True) is True
    monkeypatch.setenv(course.BILLABLE_VARIABLE, "1")
    assert billable.build(_Lab("aws")) is True
    assert BUILT == ["emulator", "aws", "aws"]
    assert {l.id for l in course.LESSONS if l.billable} == {"05", "06", "08"}
    assert all(course.get(l).builder for l in ("05", "06", "08"))


def test_private_labs_when_shared_lab_is_off(home, monkeypatch):
    """make run, the tests and regrading: LABKIT_SHARED_LAB=0, an emulator in the process."""
    monkeypatch.setenv(shared_lab.SHARED_VARIABLE, "0")
    out = kernel("import labkit; lab = labkit.start('solo', lesson='00', verbose=False)\n"
                 "print(type(lab.emulator).__name__, lab.shared)")
    assert out.split()[-2:] == ["Emulator", "False"]
    assert not shared_lab.state_file("solo").exists() and shared_lab.running() == {}


def _wait(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
