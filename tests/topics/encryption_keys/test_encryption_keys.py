"""labkit.topics.encryption_keys (lesson 09): build, checks on real state, teardown.

AWS pages the expectations come from: KMS "Key policies" / "Default key policy"
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html), "Deleting AWS KMS
keys" (7 to 30 day waiting period,
https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html), S3 "Using
server-side encryption with AWS KMS keys" and "S3 Bucket Keys".
"""
from __future__ import annotations

import json

import pytest

from labkit import checks, course
from labkit.checks import lesson09  # noqa: F401  (registers the checks)
from labkit.grading import checks as graded
from labkit.topics import encryption_keys as keys, teardown
from tests.topics.iam_policies.helpers import build_through_04

graded.load_hidden("09")

NAME = "t-keys"
VISIBLE = ["09.key", "09.key-admins", "09.key-users", "09.bucket-default", "09.curated",
           "09.rotation"]
HIDDEN = ["09.via-s3-only", "09.no-broad-user-grants", "09.account-keeps-control"]


@pytest.fixture(scope="module")
def lab():
    lab = build_through_04(NAME)
    keys.build(lab)
    return lab


def _passed(lab, check_id):
    result = checks.run(lab, check_id)
    return result.passed, str(result)


def test_lesson_09_is_registered_after_08_and_before_99():
    ids = course.lesson_ids()
    assert ids.index("08") < ids.index("09") < ids.index("99")
    assert course.get("09").builder == "labkit.topics.encryption_keys:build"
    assert set(course.prerequisites("09")) == {"00", "01", "02", "03", "04"}
    assert {c.id for c in checks.load("09")} >= set(VISIBLE)
    assert graded.hidden_ids("09") == set(HIDDEN)


def test_teardown_runs_before_the_buckets_go():
    order = [t.module for t in teardown.topics()]
    assert order.index("labkit.topics.encryption_keys") < order.index("labkit.topics.buckets")


def test_reference_build_passes_every_check_and_is_idempotent(lab):
    keys.build(lab)  # a second run changes nothing
    for check_id in VISIBLE + HIDDEN:
        ok, text = _passed(lab, check_id)
        assert ok, text
    meta = keys.find_key(lab)
    assert meta["KeyManager"] == "CUSTOMER" and meta["KeyState"] == "Enabled"
    tagged = lab.client("kms").list_resource_tags(KeyId=meta["Arn"])["Tags"]
    assert {"TagKey": "labkit", "TagValue": f"{NAME}-analysis"} in tagged


def test_key_users_check_fails_when_engineers_may_decrypt(lab):
    policy = keys.key_policy(lab)
    engineer = next(s for s in policy["Statement"] if s["Sid"] == keys.SID_ENGINEERS)
    engineer["Action"] = engineer["Action"] + ["kms:Decrypt"]
    arn = keys.find_key(lab)["Arn"]
    kms = lab.client("kms")
    kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(policy))
    try:
        ok, text = _passed(lab, "09.key-users")
        assert not ok and "engineers must not decrypt" in text
    finally:
        kms.put_key_policy(KeyId=arn, PolicyName="default",
                           Policy=json.dumps(keys.key_policy(lab)))
    assert _passed(lab, "09.key-users")[0]


def test_hidden_checks_catch_direct_kms_use_and_wildcards(lab):
    policy = keys.key_policy(lab)
    analyst = next(s for s in policy["Statement"] if s["Sid"] == keys.SID_ANALYSTS)
    del analyst["Condition"]
    analyst["Action"] = "kms:*"
    arn = keys.find_key(lab)["Arn"]
    kms = lab.client("kms")
    kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(policy))
    try:
        ok, text = _passed(lab, "09.via-s3-only")
        assert not ok and "directly" in text
        ok, text = _passed(lab, "09.no-broad-user-grants")
        assert not ok and "kms:*" in text
        assert not _passed(lab, "09.key-admins")[0]  # kms:* includes GetKeyPolicy
    finally:
        kms.put_key_policy(KeyId=arn, PolicyName="default",
                           Policy=json.dumps(keys.key_policy(lab)))


def test_checks_see_a_disabled_key_rotation_off_and_sse_s3(lab):
    arn = keys.find_key(lab)["Arn"]
    kms, s3 = lab.client("kms"), lab.client("s3")
    kms.disable_key(KeyId=arn)
    try:
        ok, text = _passed(lab, "09.key")
        assert not ok and "Disabled" in text
    finally:
        kms.enable_key(KeyId=arn)
    kms.disable_key_rotation(KeyId=arn)
    assert not _passed(lab, "09.rotation")[0]
    kms.enable_key_rotation(KeyId=arn)
    s3.put_bucket_encryption(Bucket=lab.names.analysis_bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                          "KMSMasterKeyID": arn},
                   "BucketKeyEnabled": False}]})
    ok, text = _passed(lab, "09.bucket-default")
    assert not ok and "Bucket Key is off" in text
    keys.build(lab)
    assert _passed(lab, "09.bucket-default")[0]


def test_ensure_key_revives_a_key_pending_deletion(lab):
    arn = keys.find_key(lab)["Arn"]
    lab.client("kms").schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    assert keys.ensure_key(lab, keys.key_policy(lab)) == arn
    assert keys.find_key(lab)["KeyState"] == "Enabled"


def test_teardown_schedules_deletion_with_the_minimum_window_and_runs_twice(lab):
    arn = keys.find_key(lab)["Arn"]
    assert keys.teardown(lab) == []
    meta = lab.client("kms").describe_key(KeyId=arn)["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion"
    assert keys.find_key(lab) is None  # the alias is gone
    rule = keys.bucket_rule(lab)["ApplyServerSideEncryptionByDefault"]
    assert rule["SSEAlgorithm"] == "AES256"
    assert keys.leftovers(lab) == []
    assert keys.teardown(lab) == []  # second pass: nothing to do
    # A later build makes a new key; leftovers then sees it.
    keys.build(lab)
    assert keys.leftovers(lab) == [f"KMS alias {keys.alias(lab)}",
                                   f"KMS key {keys.find_key(lab)['Arn']} (Enabled)"]
    assert keys.teardown(lab) == [] and keys.leftovers(lab) == []
