"""The lessons on the AWS target, against an emulator that behaves like a real account.

Issue 15: a real account is eventually consistent (IAM), asynchronous
(instances, SageMaker, EKS), has a global bucket namespace, and bills. These
machines cannot reach AWS, so the lessons run exactly as a learner runs them on
a real account (LABKIT_TARGET=aws, LABKIT_AWS_ACCOUNT=<id>, the environment of
``labkit emulator env``) against ``labkit emulator start --aws-like`` with a short
delay: every new key, policy and resource takes LABKIT_AWS_LIKE_DELAY seconds.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from labkit import runner
from labkit.emulator import shared_lab
from labkit.target import CREDENTIAL_VARIABLES

SANDBOX = "account15"
DELAY = "2"


@pytest.fixture(scope="module")
def aws_account(tmp_path_factory):
    """An aws-like sandbox playing a real account; os.environ set as `eval "$(labkit emulator env)"`
    plus the AWS target's opt-in would set it. Restored afterwards."""
    saved = dict(os.environ)
    os.environ["LABKIT_AWS_LIKE_DELAY"] = DELAY
    state, _ = shared_lab.ensure(SANDBOX, aws_like=True)
    # The lessons' kernels reach it as "AWS", not as a lab they attach to: this process holds
    # it, or it would end 10 s after starting (labkit.lifetime) under a slow machine.
    shared_lab.register_client(SANDBOX)
    try:
        assert state["aws_like"], "the sandbox must run in aws-like mode"
        account = json.loads(Path(state["attach_file"]).read_text())["account_id"]
        for key in CREDENTIAL_VARIABLES:
            os.environ.pop(key, None)
        os.environ.update({k: v for k, v in state["environ"].items() if k != "PATH"})
        os.environ.update(LABKIT_TARGET="aws", LABKIT_AWS_ACCOUNT=account)
        os.environ.pop("LABKIT_EMULATOR_ATTACH", None)
        yield {"out": tmp_path_factory.mktemp("aws-target"), "account": account}
    finally:
        shared_lab.stop(SANDBOX)
        os.environ.clear()
        os.environ.update(saved)


def _run(lesson: str, out: Path, name: str) -> None:
    (out / name).mkdir(exist_ok=True)
    run = runner.run_lesson(lesson, str(out / name), name=name)
    assert run.status == "passed", f"lesson {lesson} on the AWS target: {run.error} (see {run.output})"
    assert run.checks_passed == run.checks_total, f"{run.checks_passed}/{run.checks_total} checks"


@pytest.mark.slow
@pytest.mark.parametrize("lesson", ["01", "02", "03", "04", "99"])
def test_lessons_in_course_order_pass_on_the_aws_target(aws_account, lesson):
    _run(lesson, aws_account["out"], "ada")


@pytest.mark.slow
def test_a_lesson_on_its_own_rebuilds_what_it_needs_on_the_aws_target(aws_account):
    # 04 alone: start() builds 01-03 on the "real" account first, waiting out IAM's delays.
    _run("04", aws_account["out"], "bob")
    _run("99", aws_account["out"], "bob")


@pytest.mark.slow
def test_the_default_name_is_refused_on_the_aws_target(aws_account):
    """demo-landing-zone belongs to somebody else on a real account: lesson 01 stops in its
    first cell with the NAME refusal (ValueError) and a suggestion."""
    (aws_account["out"] / "demo").mkdir(exist_ok=True)
    run = runner.run_lesson("01", str(aws_account["out"] / "demo"), name="demo")
    assert run.status == "failed"
    assert "ValueError" in run.error and "demo-landing-zone belongs to another AWS account" in run.error
