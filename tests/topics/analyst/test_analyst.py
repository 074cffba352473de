"""labkit.topics.analyst (lesson 07): reading through the access point, pseudonymising, checks."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from labkit import checks
from labkit.topics import analyst
from labkit.topics import buckets as s3lib
from labkit.checks import lesson07  # noqa: F401  (registers the checks)
from labkit.grading import checks as graded
from tests.topics.iam_policies.helpers import build_through_04

graded.load_hidden("07")  # the instructor's hidden checks (instructor/hidden_checks)

NAME = "t-ana"
CHECKS = ["07.result-written", "07.no-personal-data", "07.totals", "07.denials"]


@pytest.fixture(scope="module")
def lab():
    lab = build_through_04(NAME)
    analyst.build(lab)
    return lab


def _put_result(lab, body: bytes, **extra):
    lab.client("s3").put_object(Bucket=lab.names.analysis_bucket, Key=analyst.RESULT_KEY,
                                Body=body, ServerSideEncryption="AES256", **extra)


# --------------------------------------------------------------------------- offline
def test_pseudonym_is_stable_salted_and_needs_a_salt():
    assert analyst.pseudonym("a@example.com", "s1") == analyst.pseudonym("a@example.com", "s1")
    assert analyst.pseudonym("a@example.com", "s1") != analyst.pseudonym("a@example.com", "s2")
    with pytest.raises(ValueError, match="secret salt"):
        analyst.pseudonym("a@example.com", "")


def test_without_sensitive_drops_both_columns_and_can_keep_a_key():
    df = pd.DataFrame({"customer_email": ["a@example.com", "a@example.com"],
                       "postcode": ["0800", "2000"], "order_total": [1.0, 2.0]})
    plain = analyst.without_sensitive(df)
    assert list(plain.columns) == ["order_total"]
    keyed = analyst.without_sensitive(df, salt="s")
    assert list(keyed.columns) == ["order_total", "customer_key"]
    assert keyed["customer_key"].nunique() == 1
    assert list(df.columns) == ["customer_email", "postcode", "order_total"]  # input untouched


def test_summarize_adds_up():
    df = pd.DataFrame({"order_id": ["1", "2", "3"], "state": ["NSW", "NSW", "VIC"],
                       "product_category": ["toys", "toys", "toys"], "quantity": [1, 2, 3],
                       "order_total": [10.0, 5.5, 1.25]})
    out = analyst.summarize(df)
    assert list(out.columns) == analyst.SUMMARY_COLUMNS
    assert out.iloc[0].to_dict() == {"state": "NSW", "product_category": "toys", "orders": 2,
                                     "items": 3, "revenue": 15.5}


# --------------------------------------------------------------------------- against the lab
def test_analyst_reads_through_the_access_point(lab):
    s3 = analyst.analyst_session(lab).client("s3")
    df = analyst.read_dataset(s3, lab)
    assert len(df) == 400 and df["postcode"].str.len().eq(4).all()


def test_build_is_idempotent_no_new_version(lab):
    s3 = lab.client("s3")
    versions = lambda: len(s3.list_object_versions(Bucket=lab.names.analysis_bucket,  # noqa: E731
                                                   Prefix=analyst.RESULT_KEY)["Versions"])
    before = versions()
    analyst.build(lab)
    assert versions() == before


@pytest.mark.parametrize("check_id", CHECKS)
def test_checks_pass_on_the_reference(lab, check_id):
    result = checks.run(lab, check_id)
    assert result.passed, str(result) + result.error


def test_checks_fail_on_a_result_with_personal_data(lab):
    raw = lab.client("s3").get_object(Bucket=lab.names.landing_bucket, Key=s3lib.DATASET_KEY)
    _put_result(lab, raw["Body"].read())
    try:
        result = checks.run(lab, "07.no-personal-data")
        assert not result.passed and "customer_email" in result.message
    finally:
        analyst.build(lab)


def test_checks_fail_on_wrong_totals_or_missing_result(lab):
    _put_result(lab, b"state,product_category,revenue\nNSW,toys,1.00\n")
    try:
        assert not checks.run(lab, "07.totals").passed
    finally:
        analyst.build(lab)
    lab.client("s3").delete_object(Bucket=lab.names.analysis_bucket, Key=analyst.RESULT_KEY)
    try:
        result = checks.run(lab, "07.result-written")
        assert not result.passed and "there is no" in result.message
    finally:
        analyst.build(lab)


def test_denials_check_fails_when_the_analyst_may_write_the_landing_zone(lab):
    iam = lab.client("iam")
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                                                   "Resource": f"arn:aws:s3:::{lab.names.landing_bucket}/*"}]}
    iam.put_user_policy(UserName=lab.names.analyst_user, PolicyName="too-much",
                        PolicyDocument=json.dumps(doc))
    try:
        result = checks.run(lab, "07.denials")
        assert not result.passed and "write to the landing zone" in result.message
    finally:
        iam.delete_user_policy(UserName=lab.names.analyst_user, PolicyName="too-much")
