"""The emulator says where it cannot decide a request faithfully (never a silent guess).

AWS documentation: "IAM JSON policy elements: Condition" / "Condition keys"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html): a
key that is not in the request context makes a condition false (or true for negated
operators and ...IfExists); the emulator must say when a key is missing only because it does
not model it. The Service Authorization Reference decides which keys an action has at all.
"""
from __future__ import annotations

import logging

import pytest
from botocore.exceptions import ClientError

from labkit.emulator.authz import coverage
from labkit.emulator.authz.identity import Caller
from labkit.emulator.authz.decide import Permission
from labkit.policy import Decision, Request
from tests.emulator.support import policy, user_keys

_counter = iter(range(1, 10_000))


def user(em, *statements):
    return user_keys(em, f"coverage-user-{next(_counter)}", *statements)


def test_unmodelled_condition_key_is_named_in_the_denial_and_the_log(em, caplog):
    bucket = f"coverage-bucket-{next(_counter)}"
    em.client("s3").create_bucket(Bucket=bucket)
    s3 = em.client("s3", *user(em, {
        "Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
        # s3:signatureAge is an S3 key the emulator does not fill.
        "Condition": {"NumericLessThan": {"s3:signatureAge": "600000"}}}))
    with caplog.at_level(logging.WARNING, logger="labkit.emulator.authz"):
        with pytest.raises(ClientError) as info:
            s3.list_objects_v2(Bucket=bucket)
    message = info.value.response["Error"]["Message"]
    assert "s3:signatureage" in message and "not modelled" in message
    assert any("s3:signatureage" in r.getMessage() for r in caplog.records)


def test_modelled_or_unsupported_keys_add_no_note():
    caller = Caller("user", "arn:aws:iam::123456789012:user/u", "123456789012",
                    identity_policies=[("p", policy({
                        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                        "Condition": {"StringEquals": {"s3:prefix": "a/",  # not a GetObject key
                                                       "aws:SourceVpce": "vpce-1",
                                                       "s3:ExistingObjectTag/x": "y"}}}))])
    check = Permission("s3:GetObject", "arn:aws:s3:::b/k", {})
    assert coverage.unfilled_keys(caller, check, set()) == []
    check = Permission("s3:GetObject", "arn:aws:s3:::b/k", {})
    caller.identity_policies = [("p", policy({
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"s3:AccessGrantsInstanceArn": "arn:x"}}}))]
    decision = Decision("implicit_deny", [], "identity",
                        Request(caller.arn, "s3:GetObject", "arn:aws:s3:::b/k"))
    coverage.note_unfilled(decision, caller, check, {})
    assert decision.notes and "s3:accessgrantsinstancearn" in decision.explained()


def test_an_unmapped_s3_control_request_is_marked_and_logged(em, caplog):
    """S3 Control ListJobs has no mapping in the emulator: it reaches moto undecided, and the
    response and the log say so."""
    s3control = em.client("s3control", *user(em, {"Effect": "Allow", "Action": "s3:ListJobs",
                                                  "Resource": "*"}))
    with caplog.at_level(logging.WARNING, logger="labkit.emulator.authz"):
        try:
            response = s3control.list_jobs(AccountId="123456789012")
        except ClientError as exc:
            response = exc.response  # moto may not implement it; the note is what matters
    seen = response["ResponseMetadata"]["HTTPHeaders"]
    assert "passed to moto without an authorization decision" in seen.get(
        "x-labkit-authorization", "")
    assert any("no IAM action is known" in r.getMessage() for r in caplog.records)


def test_unmodelled_key_note_reaches_the_cli(em, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    cli = Path(sys.executable).parent / "aws"
    assert cli.exists(), "the aws CLI (awscli, pinned in requirements.lock) must be installed"
    bucket = f"coverage-cli-{next(_counter)}"
    em.client("s3").create_bucket(Bucket=bucket)
    key, secret = user(em, {"Effect": "Allow", "Action": "s3:ListBucket",
                            "Resource": f"arn:aws:s3:::{bucket}",
                            "Condition": {"NumericLessThan": {"s3:signatureAge": "600000"}}})
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(em.client_environ())
    env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=str(tmp_path / "c"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "s"))
    got = subprocess.run([str(cli), "s3api", "list-objects-v2", "--bucket", bucket], env=env,
                         capture_output=True, text=True, timeout=120)
    assert got.returncode != 0 and "not modelled" in got.stderr


def test_resource_tag_on_s3_objects_is_noted_but_not_on_iam_users():
    """aws:ResourceTag is filled for IAM, EC2 and SageMaker resources, not (yet) for S3's."""
    def caller_with(action, key):
        return Caller("user", "arn:aws:iam::123456789012:user/u", "123456789012",
                      identity_policies=[("p", policy({
                          "Effect": "Allow", "Action": action, "Resource": "*",
                          "Condition": {"StringEquals": {key: "v"}}}))])

    s3_caller = caller_with("s3:GetObject", "aws:ResourceTag/team")
    assert coverage.unfilled_keys(s3_caller, Permission("s3:GetObject", "arn:aws:s3:::b/k", {}),
                                  set()) == ["aws:resourcetag/team"]
    iam_caller = caller_with("iam:GetUser", "aws:ResourceTag/team")
    assert coverage.unfilled_keys(iam_caller, Permission("iam:GetUser", "*", {}), set()) == []
