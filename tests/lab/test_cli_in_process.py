"""lab.aws(): plain `aws ...` commands run the CLI's own driver in the kernel, with the
same answers as a new `aws` process (exit status, output, error line), only faster."""
from __future__ import annotations

import os
import subprocess

import pytest

import labkit
from labkit import lab as labmodule


@pytest.mark.parametrize("command, expected", [
    ("aws s3 ls", (["s3", "ls"], b"")),
    ("echo hi | aws s3 cp - s3://b/k --sse AES256", (["s3", "cp", "-", "s3://b/k", "--sse", "AES256"], b"hi\n")),
    ('aws iam get-user --user-name "a b"', (["iam", "get-user", "--user-name", "a b"], b"")),
])
def test_simple_commands_are_recognised(command, expected):
    assert labmodule._simple_cli(command) == expected


@pytest.mark.parametrize("command", [
    "aws s3 ls | wc -l", "aws s3 ls > out.txt", "aws s3 ls $BUCKET", "aws s3 ls && echo ok",
    "echo -n hi | aws s3 cp - s3://b/k", "cat f | aws s3 cp - s3://b/k", "ls", "aws s3 ls 'x",
    "aws iam list-users --query 'Users[].UserName'", "aws s3 ls s3://b/*",
])
def test_anything_the_shell_would_do_more_with_goes_to_bash(command):
    assert labmodule._simple_cli(command) is None


@pytest.mark.slow
def test_in_process_and_a_real_aws_process_give_the_same_answers():
    lab = labkit.start("inproc", lesson="02", verbose=False)
    n = lab.names
    bucket = f"{n.name}-cli-test"
    lab.client("s3").create_bucket(Bucket=bucket)
    cases = [
        ("aws sts get-caller-identity --output text", None),
        (f"echo hi | aws s3 cp - s3://{bucket}/hw.txt", None),
        (f"aws s3 ls s3://{bucket}/", n.analyst_user),  # denied: no policy yet
        ("aws iam list-users --output text", n.engineer_user),
        ("aws configure get region --profile nope", None),
        ("aws s3 nosuchcommand", None),
    ]
    for command, profile in cases:
        here = lab.aws(command, profile=profile)
        env = dict(os.environ, **({"AWS_PROFILE": profile} if profile else {}))
        real = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True,
                              timeout=120)
        assert (here.returncode, here.stdout) == (real.returncode, real.stdout), command
        real_error = real.stderr.strip().splitlines()[-1] if real.stderr.strip() else ""
        assert here.error == real_error, command
        assert here.outcome == ("ALLOW" if real.returncode == 0 else here.outcome)
    assert lab.aws(f"aws s3 ls s3://{bucket}/", profile=n.analyst_user).outcome == "DENY"
    # The lab's environment is as it was: the profile was set for the one command only.
    assert "AWS_PROFILE" not in os.environ
