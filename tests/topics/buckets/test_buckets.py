"""labkit.topics.buckets (lesson 02): the reference build, its checks, its policy, its teardown."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

import labkit
import labkit.config
from labkit import checks
from labkit.topics import users_and_groups as iam
from labkit.topics import buckets as s3lib
from labkit.checks import lesson02  # noqa: F401  (registers the checks)
from labkit.grading import checks as graded
from labkit.policy import lint

graded.load_hidden("02")  # the instructor's hidden checks (instructor/hidden_checks)

NAME = "t-s3"


@pytest.fixture(scope="module")
def lab():
    lab = labkit.start(NAME, lesson="01", verbose=False)
    iam.build(lab)
    s3lib.build(lab)
    yield lab
    assert s3lib.teardown(lab) == []


@pytest.fixture
def s3(lab):
    return lab.client("s3")


def _run(lab, check_id):
    return checks.run(lab, check_id)


# --------------------------------------------------------------------------- offline
def test_policy_has_the_encryption_and_tls_guards(lab):
    doc = s3lib.bucket_policy(lab, lab.names.landing_bucket)
    sids = [s["Sid"] for s in doc["Statement"]]
    assert sids == [s3lib.SID_WRONG_SSE, s3lib.SID_NO_SSE, s3lib.SID_TLS]
    assert not [f for f in lint(doc) if f.level in ("error", "advice")]


def test_policy_with_access_points_adds_the_delegation(lab):
    doc = s3lib.bucket_policy(lab, lab.names.analysis_bucket, with_access_points=True)
    last = doc["Statement"][-1]
    assert last["Sid"] == s3lib.SID_DELEGATE
    own = s3lib.access_point_arn(lab, lab.names.analysis_access_point)
    assert own.endswith(f":{lab.account_id}:accesspoint/{lab.names.analysis_access_point}")
    assert last["Condition"] == {"StringEquals": {"s3:DataAccessPointArn": own}}
    assert f"arn:aws:s3:::{lab.names.analysis_bucket}/*" in last["Resource"]


def test_policy_for_a_foreign_bucket_is_a_clear_error(lab):
    with pytest.raises(ValueError, match="not one of this lab's buckets"):
        s3lib.bucket_policy(lab, "someone-elses-bucket")


# --------------------------------------------------------------------------- reference build
def test_build_is_idempotent_and_keeps_one_dataset_version(lab, s3):
    s3lib.build(lab)
    assert s3lib.upload_dataset(lab) is False  # same bytes: nothing uploaded
    versions = s3.list_object_versions(Bucket=lab.names.landing_bucket,
                                       Prefix=s3lib.DATASET_KEY)["Versions"]
    assert len(versions) == 1


def test_every_check_passes_on_the_reference_build(lab):
    results = checks.run_lesson(lab, "02")
    assert {r.id for r in results} >= {"02.buckets", "02.block-public-access", "02.encryption",
                                       "02.bucket-policy", "02.versioning", "02.dataset",
                                       "02.acls-disabled", "02.tls-only", "02.not-public"}
    assert [str(r) for r in results if not r.passed] == []


def test_upload_without_sse_is_denied_with_sse_allowed(lab, s3):
    bucket = lab.names.analysis_bucket
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=bucket, Key="test/plain.txt", Body=b"hi")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert "explicit deny in a resource-based policy" in str(denied.value)
    put = s3.put_object(Bucket=bucket, Key="test/sse.txt", Body=b"hi", ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256"


def test_wrong_sse_value_is_denied(lab, s3):
    # DSSE-KMS (aws:kms:dsse) is a real S3 value, but not one this policy accepts.
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=lab.names.analysis_bucket, Key="test/x.txt", Body=b"x",
                      ServerSideEncryption="aws:kms:dsse")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_cli_upload_without_sse_is_denied(lab):
    target = f"s3://{lab.names.analysis_bucket}/test/cli.txt"
    assert lab.aws(f"echo hi | aws s3 cp - {target}").outcome == "DENY"
    assert lab.aws(f"echo hi | aws s3 cp - {target} --sse AES256").outcome == "ALLOW"


# --------------------------------------------------------------------------- broken states
PUT_ALL = s3lib.PUBLIC_ACCESS_BLOCK


def _policy_without(lab, bucket, sid):
    doc = s3lib.bucket_policy(lab, bucket)
    doc["Statement"] = [s for s in doc["Statement"] if s["Sid"] != sid]
    return json.dumps(doc)


BREAKS = {
    # Not delete_bucket_encryption: since 2023 S3 falls back to SSE-S3, which is what we want.
    "02.encryption": lambda lab, s3, b: s3.put_bucket_encryption(
        Bucket=b, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]}),
    "02.block-public-access": lambda lab, s3, b: s3.put_public_access_block(
        Bucket=b, PublicAccessBlockConfiguration={**PUT_ALL, "RestrictPublicBuckets": False}),
    "02.acls-disabled": lambda lab, s3, b: s3.put_bucket_ownership_controls(
        Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}),
    "02.versioning": lambda lab, s3, b: s3.put_bucket_versioning(
        Bucket=b, VersioningConfiguration={"Status": "Suspended"}),
    "02.bucket-policy": lambda lab, s3, b: s3.put_bucket_policy(
        Bucket=b, Policy=_policy_without(lab, b, s3lib.SID_WRONG_SSE)),
    "02.tls-only": lambda lab, s3, b: s3.put_bucket_policy(
        Bucket=b, Policy=_policy_without(lab, b, s3lib.SID_TLS)),
}


def test_each_check_fails_on_its_broken_setting_and_build_repairs_them():
    # A lab of its own: breaking settings one per bucket keeps the module's lab intact.
    lab = labkit.start("t-s3-broken", lesson="00", rebuild=False, verbose=False)
    s3lib.build(lab)
    s3 = lab.client("s3")
    broken = {}
    # The two policy breaks rewrite the policy, so they go to different buckets.
    landing = {"02.acls-disabled", "02.bucket-policy", "02.versioning"}
    for check_id, breaker in BREAKS.items():
        bucket = lab.names.buckets[0 if check_id in landing else 1]
        breaker(lab, s3, bucket)
        broken[check_id] = bucket
    for check_id, bucket in broken.items():
        result = _run(lab, check_id)
        assert not result.passed and bucket in result.message and not result.error, str(result)
    s3lib.build(lab)
    assert [str(r) for r in checks.run_lesson(lab, "02") if not r.passed] == []
    assert s3lib.teardown(lab) == []


def test_bucket_policy_check_judges_behaviour_not_text(lab, s3):
    bucket = lab.names.landing_bucket
    # StringNotEquals also matches a request without the header (negated operators match
    # absent keys), so the Null statement is a belt to those braces: without it the
    # policy still denies every upload the check probes, and the check rightly passes.
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy_without(lab, bucket, s3lib.SID_NO_SSE))
    assert _run(lab, "02.bucket-policy").passed
    only_null = s3lib.bucket_policy(lab, bucket)
    only_null["Statement"] = [s for s in only_null["Statement"] if s["Sid"] == s3lib.SID_NO_SSE]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(only_null))
    assert "with an unknown encryption value" in _run(lab, "02.bucket-policy").message
    s3.delete_bucket_policy(Bucket=bucket)
    assert "has no bucket policy" in _run(lab, "02.bucket-policy").message
    s3lib.build(lab)
    assert _run(lab, "02.bucket-policy").passed


def test_bucket_policy_check_fails_when_encrypted_uploads_are_denied_too(lab, s3):
    bucket = lab.names.landing_bucket
    doc = s3lib.bucket_policy(lab, bucket)
    doc["Statement"].append({"Sid": "DenyAllPuts", "Effect": "Deny", "Principal": "*",
                             "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    assert "denies uploads encrypted with AES256" in _run(lab, "02.bucket-policy").message
    s3lib.build(lab)


def test_dataset_check_fails_for_a_changed_or_missing_file(lab, s3):
    bucket = lab.names.landing_bucket
    s3.put_object(Bucket=bucket, Key=s3lib.DATASET_KEY, Body=b"order_id\n1\n",
                  ServerSideEncryption="AES256")
    assert "is not the file" in _run(lab, "02.dataset").message
    s3.delete_object(Bucket=bucket, Key=s3lib.DATASET_KEY)
    assert "does not exist" in _run(lab, "02.dataset").message
    assert s3lib.upload_dataset(lab) is True
    assert _run(lab, "02.dataset").passed


def test_checks_fail_clearly_when_the_buckets_do_not_exist():
    other = labkit.start("t-s3-none", lesson="00", rebuild=False, verbose=False)
    for check_id in ("02.buckets", "02.encryption", "02.bucket-policy", "02.dataset"):
        result = _run(other, check_id)
        assert not result.passed and not result.error, str(result)
        assert "not exist" in result.message


# --------------------------------------------------------------------------- teardown
def test_teardown_removes_versions_delete_markers_and_buckets():
    lab = labkit.start("t-s3-down", lesson="00", rebuild=False, verbose=False)
    s3lib.build(lab)
    s3 = lab.client("s3")
    bucket = lab.names.analysis_bucket
    for body in (b"one", b"two"):
        s3.put_object(Bucket=bucket, Key="test/v.txt", Body=body, ServerSideEncryption="AES256")
    s3.delete_object(Bucket=bucket, Key="test/v.txt")  # leaves a delete marker
    assert s3lib.leftovers(lab) == [f"bucket {b}" for b in lab.names.buckets]
    assert s3lib.teardown(lab) == []
    assert s3lib.leftovers(lab) == []
    assert s3lib.teardown(lab) == []  # nothing left to do is not an error


def test_teardown_reports_what_it_could_not_remove(monkeypatch):
    lab = labkit.start("t-s3-stuck", lesson="00", rebuild=False, verbose=False)
    s3lib.build(lab)

    def refuse(s3, bucket):
        raise RuntimeError("1 object version(s) could not be deleted, e.g. raw/x: AccessDenied")

    monkeypatch.setattr(s3lib, "empty_bucket", refuse)
    problems = s3lib.teardown(lab)
    assert len(problems) == 2 and all("could not be deleted" in p for p in problems)
    monkeypatch.undo()
    assert s3lib.teardown(lab) == [] and s3lib.leftovers(lab) == []


# --------------------------------------------------------------------------- create_bucket
def _stubbed_s3():
    import boto3
    from botocore.stub import Stubber

    client = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="y").client(
        "s3", region_name=labkit.config.region())
    return client, Stubber(client)


def test_create_bucket_names_the_region():
    client, stub = _stubbed_s3()
    stub.add_response("create_bucket", {}, {"Bucket": "b-x", "CreateBucketConfiguration":
                                            {"LocationConstraint": "some-region-1"}})
    with stub:
        s3lib.create_bucket(client, "b-x", "some-region-1")
    stub.assert_no_pending_responses()


def test_create_bucket_retries_without_a_constraint_where_s3_refuses_one():
    client, stub = _stubbed_s3()
    stub.add_client_error("create_bucket", "InvalidLocationConstraint", http_status_code=400)
    stub.add_response("create_bucket", {}, {"Bucket": "b-x"})
    with stub:
        s3lib.create_bucket(client, "b-x", "legacy-region-1")
    stub.assert_no_pending_responses()


def test_create_bucket_passes_other_errors_on():
    client, stub = _stubbed_s3()
    stub.add_client_error("create_bucket", "BucketAlreadyExists", http_status_code=409)
    with stub, pytest.raises(ClientError, match="BucketAlreadyExists"):
        s3lib.create_bucket(client, "b-x", "some-region-1")
