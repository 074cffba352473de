"""labkit.topics.audit (lesson 10): the trail, the day's replay, lab.trail(), checks, teardown.

Bucket policy for CloudTrail: CloudTrail user guide, "Amazon S3 bucket policy for CloudTrail"
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html);
key layout: "CloudTrail log file examples" (.../cloudtrail-log-file-examples.html).
"""
from __future__ import annotations

import json

import pytest

from labkit import checks
from labkit.checks import lesson10  # noqa: F401  (registers the checks)
from labkit.grading import checks as graded
from labkit.topics import audit, teardown
from labkit.topics.buckets import DATASET_KEY
from tests.topics.iam_policies.helpers import build_through_04

graded.load_hidden("10")  # the instructor's hidden checks (instructor/hidden_checks)

NAME = "t-audit"
CHECKS = ["10.trail", "10.delivered", "10.report", "10.denials-really-made", "10.no-secrets"]


@pytest.fixture(scope="module")
def lab():
    lab = build_through_04(NAME)
    audit.build(lab)
    day = audit.replay_day(lab)
    audit.write_report(lab, audit.denied_report(lab.trail()))
    lab.day = day
    return lab


def test_the_day_has_four_refusals_by_four_rules(lab):
    codes = {what: code for what, (code, _) in lab.day.items()}
    assert codes["engineer uploads the day's orders"] == "OK"
    assert codes["analyst reads the raw dataset (1)"] == "OK"
    for what in ("analyst writes to the landing zone", "engineer uploads without encryption",
                 "engineer makes the analysis bucket public", "admin makes the analysis bucket public"):
        assert codes[what] == "AccessDenied", what


def test_trail_table_columns_and_the_reasons_of_each_denial(lab):
    table = lab.trail()
    assert list(table.columns) == audit.COLUMNS
    assert str(table["time"].dtype).startswith("datetime64") and table["time"].is_monotonic_increasing
    denied = lab.trail(outcome="DENY")
    n = lab.names
    analyst = denied[denied["caller"] == n.analyst_user].iloc[-1]
    assert analyst["action"] == "s3:PutObject" and analyst["error"] == "AccessDenied"
    assert "no identity-based policy allows" in analyst["reason"]
    plain = denied[(denied["caller"] == n.engineer_user) & (denied["action"] == "s3:PutObject")]
    assert "DenyUnencryptedObjectUploads (Deny)" in plain.iloc[-1]["reason"]
    public = denied[denied["action"] == "s3:PutBucketPolicy"]
    by_engineer = public[public["caller"] == n.engineer_user].iloc[-1]
    assert "DenyChangingTheLakesGuardrails (Deny)" in by_engineer["reason"]
    by_admin = public[public["caller"] == n.admin_user].iloc[-1]
    assert "BlockPublicPolicy" in by_admin["reason"] and "(Allow)" in by_admin["reason"]


def test_trail_filters(lab):
    n = lab.names
    reads = lab.trail(action="GetObject", caller=n.analyst_user,
                      resource=f"arn:aws:s3:::{n.landing_bucket}/{DATASET_KEY}")
    assert len(reads) >= 2 and set(reads["outcome"]) == {"ALLOW"}
    assert set(lab.trail(category="Data")["category"]) == {"Data"}
    later = lab.trail(since=reads["time"].iloc[-1])
    assert later["time"].min() >= reads["time"].iloc[-1]


def test_reference_solution_passes_every_check(lab):
    results = [checks.run(lab, check_id) for check_id in CHECKS]
    failed = [str(r) for r in results if not r.passed]
    assert not failed, failed


def test_delivered_files_have_the_layout_and_records(lab):
    audit.deliver(lab)
    keys = audit.log_keys(lab)
    assert keys and all(audit.is_log_key(k) for k in keys)
    assert not audit.is_log_key("AWSLogs/x/CloudTrail/us-east-1/2026/01/01/file.json.gz")
    records = audit.delivered_records(lab)
    assert {r["eventCategory"] for r in records} == {"Management", "Data"}
    assert all(r["eventVersion"] and r["eventID"] for r in records)


def test_trail_check_fails_when_one_bucket_is_not_logged(lab):
    ct = lab.client("cloudtrail")
    one = [{"ReadWriteType": "All", "DataResources": [
        {"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{lab.names.landing_bucket}/"]}]}]
    ct.put_event_selectors(TrailName=audit.trail_name(lab), EventSelectors=one)
    try:
        result = checks.run(lab, "10.trail")
        assert not result.passed and lab.names.analysis_bucket in result.message
        audit.ensure_trail(lab, advanced=True)  # the advanced form passes too
        assert checks.run(lab, "10.trail").passed
    finally:
        audit.ensure_trail(lab)


def test_delivered_check_reports_a_policy_that_locks_cloudtrail_out(lab):
    s3 = lab.client("s3")
    good = audit.log_bucket_policy(lab)
    broken = dict(good, Statement=[s for s in good["Statement"] if s["Sid"] != "AWSCloudTrailWrite"])
    s3.put_bucket_policy(Bucket=audit.log_bucket(lab), Policy=json.dumps(broken))
    try:
        s3.list_buckets()
        result = checks.run(lab, "10.delivered")
        assert not result.passed and "AccessDenied" in result.message
    finally:
        s3.put_bucket_policy(Bucket=audit.log_bucket(lab), Policy=json.dumps(good))
    assert checks.run(lab, "10.delivered").passed


def test_report_checks_catch_a_made_up_report(lab):
    import pandas as pd

    fake = pd.DataFrame([{"time": "2026-01-01", "caller": lab.names.analyst_user,
                          "action": "s3:PutObject", "resource": "arn:aws:s3:::nowhere/x",
                          "error": "AccessDenied", "reason": "made up"},
                         {"time": "2026-01-01", "caller": lab.names.engineer_user,
                          "action": "s3:PutBucketPolicy", "resource": "arn:aws:s3:::nowhere",
                          "error": "AccessDenied", "reason": "made up"},
                         {"time": "2026-01-01", "caller": lab.names.admin_user,
                          "action": "s3:PutBucketPolicy", "resource": "arn:aws:s3:::nowhere",
                          "error": "AccessDenied", "reason": "made up"}])
    try:
        audit.write_report(lab, fake)
        assert checks.run(lab, "10.report").passed  # the shape is right...
        hidden = checks.run(lab, "10.denials-really-made")
        assert not hidden.passed and "never saw" in hidden.message  # ...but nobody made them
        audit.write_report(lab, fake.iloc[:1])
        assert not checks.run(lab, "10.report").passed
    finally:
        audit.write_report(lab, audit.denied_report(lab.trail()))


def test_checks_fail_cleanly_without_a_trail(lab):
    audit.teardown(lab)
    try:
        for check_id in CHECKS[:2] + ["10.no-secrets"]:
            result = checks.run(lab, check_id)
            assert not result.passed and not result.error, (check_id, result.message)
    finally:
        audit.build(lab)


def test_teardown_removes_trail_and_log_bucket_and_is_safe_twice(lab):
    modules = [t.module for t in teardown.topics()]
    assert modules.index("labkit.topics.audit") < modules.index("labkit.topics.buckets")
    assert audit.leftovers(lab) == [f"trail {audit.trail_name(lab)}", f"bucket {audit.log_bucket(lab)}"]
    assert audit.teardown(lab) == []
    assert audit.leftovers(lab) == []
    assert audit.teardown(lab) == []
    audit.build(lab)  # later tests in this module may still need it
