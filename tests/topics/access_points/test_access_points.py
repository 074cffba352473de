"""labkit.topics.access_points (lesson 03): access points, their policies, delegation, teardown."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

import labkit
from labkit.topics import access_points as aplib
from labkit import checks
from labkit.topics import buckets as s3lib
from labkit.checks import lesson03  # noqa: F401  (registers the checks)
from labkit.grading import checks as graded
from labkit.policy import lint
from tests.support import failed

graded.load_hidden("03")  # the instructor's hidden checks (instructor/hidden_checks)

NAME = "t-ap"


@pytest.fixture(scope="module")
def lab():
    lab = labkit.start(NAME, lesson="03", verbose=False)  # builds lessons 01 and 02
    aplib.build(lab)
    yield lab
    assert aplib.teardown(lab) == [] and s3lib.teardown(lab) == []


def _run(lab, check_id):
    return checks.run(lab, check_id)


# --------------------------------------------------------------------------- offline
def test_arn_and_object_arn(lab):
    name = lab.names.landing_access_point
    assert aplib.arn(lab, name) == f"arn:aws:s3:{lab.region}:{lab.account_id}:accesspoint/{name}"
    assert aplib.object_arn(lab, name, "raw/x.csv") == aplib.arn(lab, name) + "/object/raw/x.csv"


def test_policies_grant_the_analyst_exactly_the_lesson_s_actions(lab):
    landing = aplib.access_point_policy(lab, lab.names.landing_access_point)
    analysis = aplib.access_point_policy(lab, lab.names.analysis_access_point)
    assert landing["Statement"][1]["Action"] == ["s3:GetObject"]
    assert set(analysis["Statement"][1]["Action"]) == {"s3:GetObject", "s3:PutObject",
                                                       "s3:DeleteObject"}
    for doc in (landing, analysis):
        assert doc["Statement"][1]["Resource"].endswith("/object/*")
        assert lint(doc) == []


def test_unknown_access_point_is_a_clear_error(lab):
    with pytest.raises(ValueError, match="not one of this lab's access points"):
        aplib.access_point_policy(lab, "someone-elses-access")


# --------------------------------------------------------------------------- reference build
def test_build_is_idempotent_and_every_check_passes(lab):
    aplib.build(lab)
    s3lib.build(lab)  # rebuilding lesson 02 keeps lesson 03's delegation
    assert s3lib.has_statement(s3lib.current_policy(lab.client("s3"), lab.names.analysis_bucket),
                               s3lib.SID_DELEGATE)
    results = checks.run_lesson(lab, "03")
    assert {r.id for r in results} >= {"03.access-points", "03.access-point-policies",
                                       "03.delegation", "03.read-through-access-point",
                                       "03.no-public-grants"}
    assert [str(r) for r in results if not r.passed] == []
    # Lesson 02's checks still hold with the delegation statement added.
    assert [str(r) for r in checks.run_lesson(lab, "02") if not r.passed] == []


def test_alias_is_an_s3alias_name(lab):
    alias = aplib.alias(lab, lab.names.landing_access_point)
    assert alias.startswith(lab.names.landing_access_point) and alias.endswith("-s3alias")


def test_analyst_through_access_points_and_nobody_else(lab):
    analyst = lab.client("s3", lab.names.analyst_user)
    engineer = lab.client("s3", lab.names.engineer_user)
    landing = aplib.arn(lab, lab.names.landing_access_point)
    analysis = aplib.arn(lab, lab.names.analysis_access_point)
    analyst.put_object(Bucket=analysis, Key="results/t.txt", Body=b"x", ServerSideEncryption="AES256")
    analyst.delete_object(Bucket=analysis, Key="results/t.txt")
    denied = [
        lambda: analyst.put_object(Bucket=analysis, Key="results/plain.txt", Body=b"x"),
        lambda: analyst.put_object(Bucket=landing, Key="raw/x.csv", Body=b"x",
                                   ServerSideEncryption="AES256"),
        lambda: analyst.delete_object(Bucket=landing, Key=s3lib.DATASET_KEY),
        lambda: analyst.get_object(Bucket=lab.names.landing_bucket, Key=s3lib.DATASET_KEY),
        lambda: engineer.get_object(Bucket=landing, Key=s3lib.DATASET_KEY),
    ]
    for index, call in enumerate(denied):
        with pytest.raises(ClientError) as info:
            call()
        assert info.value.response["Error"]["Code"] == "AccessDenied", index


def test_cli_reads_through_the_access_point_arn(lab, tmp_path):
    landing = aplib.arn(lab, lab.names.landing_access_point)
    listed = lab.aws(f"aws s3 ls s3://{landing}/raw/", profile=lab.names.analyst_user)
    assert listed.outcome == "ALLOW" and s3lib.DATASET_FILE in listed.stdout
    out = tmp_path / "orders.csv"
    got = lab.aws(f"aws s3api get-object --bucket {landing} --key {s3lib.DATASET_KEY} {out}",
                  profile=lab.names.analyst_user)
    assert got.outcome == "ALLOW" and out.read_bytes() == s3lib.dataset_path().read_bytes()


def test_copy_between_access_points(lab):
    analyst = lab.client("s3", lab.names.analyst_user)
    landing = aplib.arn(lab, lab.names.landing_access_point)
    analysis = aplib.arn(lab, lab.names.analysis_access_point)
    analyst.copy_object(Bucket=analysis, Key="results/copy.csv", ServerSideEncryption="AES256",
                        CopySource={"Bucket": landing, "Key": s3lib.DATASET_KEY})
    head = analyst.head_object(Bucket=analysis, Key="results/copy.csv")
    assert head["ContentLength"] == s3lib.dataset_path().stat().st_size


# --------------------------------------------------------------------------- broken states
def test_seed_policy_fails_the_policy_check(lab):
    control, name = lab.client("s3control"), lab.names.landing_access_point
    seed = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{lab.account_id}:user/"
                                                f"{lab.names.analyst_user}"},
        "Action": "s3:*", "Resource": aplib.arn(lab, name),
        "Condition": {"StringEquals": {"s3:DataAccessPointAccount": lab.account_id}}}]}
    control.put_access_point_policy(AccountId=lab.account_id, Name=name, Policy=json.dumps(seed))
    assert "s3:GetObject is not allowed" in failed(lab, "03.access-point-policies")
    assert "cannot read" in failed(lab, "03.read-through-access-point")
    aplib.build(lab)
    assert _run(lab, "03.access-point-policies").passed


def test_policy_granting_too_much_fails(lab):
    control, name = lab.client("s3control"), lab.names.landing_access_point
    doc = aplib.access_point_policy(lab, name)
    doc["Statement"][1]["Action"] = "s3:*"
    control.put_access_point_policy(AccountId=lab.account_id, Name=name, Policy=json.dumps(doc))
    assert "s3:PutObject is allowed" in failed(lab, "03.access-point-policies")
    aplib.build(lab)


def test_missing_delegation_fails_and_denies_the_analyst(lab):
    s3lib.put_policy(lab, lab.names.landing_bucket, with_access_points=False)
    assert "does not delegate" in failed(lab, "03.delegation")
    assert "cannot read" in failed(lab, "03.read-through-access-point")
    aplib.build(lab)
    assert _run(lab, "03.read-through-access-point").passed


def test_delegation_without_the_encryption_guard_fails(lab):
    bucket = lab.names.analysis_bucket
    doc = {"Version": "2012-10-17", "Statement": [s3lib.delegation_statement(lab, bucket)]}
    lab.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    assert "unencrypted upload" in failed(lab, "03.delegation")
    aplib.build(lab)


def test_delegation_to_every_access_point_of_the_account_fails(lab):
    """The AWS guide's account-wide form trusts an access point an engineer makes (issue 28)."""
    bucket = lab.names.landing_bucket
    doc = s3lib.bucket_policy(lab, bucket, with_access_points=True)
    doc["Statement"][-1]["Condition"] = {
        "StringEquals": {"s3:DataAccessPointAccount": lab.account_id}}
    lab.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    message = failed(lab, "03.delegation")
    assert "trusts every access point" in message and "rogue-access" in message
    aplib.build(lab)
    assert _run(lab, "03.delegation").passed


def test_unconditioned_delegation_is_refused_by_block_public_access(lab):
    bucket = lab.names.landing_bucket
    doc = s3lib.bucket_policy(lab, bucket, with_access_points=True)
    del doc["Statement"][-1]["Condition"]
    with pytest.raises(ClientError) as info:
        lab.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    assert info.value.response["Error"]["Code"] == "AccessDenied"
    assert _run(lab, "03.delegation").passed  # the refused policy changed nothing


def test_access_point_without_public_access_block_fails(lab):
    control, name = lab.client("s3control"), lab.names.analysis_access_point
    control.delete_access_point(AccountId=lab.account_id, Name=name)
    control.create_access_point(AccountId=lab.account_id, Name=name,
                                Bucket=lab.names.analysis_bucket,
                                PublicAccessBlockConfiguration={**s3lib.PUBLIC_ACCESS_BLOCK,
                                                                "BlockPublicPolicy": False})
    assert "BlockPublicPolicy" in failed(lab, "03.access-points")
    with pytest.raises(RuntimeError, match="serves bucket"):
        aplib.ensure_access_point(lab, name, lab.names.landing_bucket)
    control.delete_access_point(AccountId=lab.account_id, Name=name)
    assert "does not exist" in failed(lab, "03.access-points")
    with pytest.raises(LookupError, match="does not exist yet"):
        aplib.alias(lab, name)
    aplib.build(lab)
    assert _run(lab, "03.access-points").passed


# --------------------------------------------------------------------------- teardown
def test_teardown_removes_access_points_and_the_delegation(lab):
    assert aplib.leftovers(lab) == [f"access point {n}" for n in lab.names.access_points]
    assert aplib.teardown(lab) == []
    assert aplib.leftovers(lab) == []
    assert aplib.teardown(lab) == []
    for bucket in lab.names.buckets:
        policy = s3lib.current_policy(lab.client("s3"), bucket)
        assert not s3lib.has_statement(policy, s3lib.SID_DELEGATE)
        assert s3lib.has_statement(policy, s3lib.SID_NO_SSE)
    aplib.build(lab)  # leave the module's lab as built for any later test
