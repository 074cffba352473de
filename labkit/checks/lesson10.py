"""Checks for lesson 10: the trail logs the lake's data events, delivers, and the report of denials."""
from __future__ import annotations

import io

from labkit.checks import Fail, check
from labkit.topics import audit
from labkit.topics import buckets as s3topic


def _trail_described(lab) -> dict:
    ct = lab.client("cloudtrail")
    try:
        return ct.get_trail(Name=audit.trail_name(lab))["Trail"]
    except ct.exceptions.TrailNotFoundException:
        raise Fail(f"there is no trail named {audit.trail_name(lab)}",
                   "cloudtrail.create_trail(Name=audit.trail_name(lab), "
                   "S3BucketName=audit.log_bucket(lab))") from None


def _log_keys(lab) -> list[str]:
    """The delivered log files' keys; a clear failure when the log bucket is missing."""
    if not s3topic.bucket_exists(lab.client("s3"), audit.log_bucket(lab)):
        raise Fail(f"there is no log bucket {audit.log_bucket(lab)}",
                   "audit.ensure_log_bucket(lab) creates it with CloudTrail's bucket policy")
    return audit.log_keys(lab)


@check("10.trail", points=3,
       hint="Log data events of both buckets: put_event_selectors with DataResources "
            "AWS::S3::Object arn:aws:s3:::BUCKET/ (or advanced selectors), then start_logging",
       docs='AWS CloudTrail User Guide › Logging data events; Creating a trail; API Reference › PutEventSelectors')
def trail_logging(lab):
    """The trail logs to the log bucket, is logging, and selects S3 data events on both buckets."""
    trail = _trail_described(lab)
    if trail["S3BucketName"] != audit.log_bucket(lab):
        raise Fail(f"the trail delivers to {trail['S3BucketName']}, not {audit.log_bucket(lab)}")
    ct = lab.client("cloudtrail")
    if not ct.get_trail_status(Name=audit.trail_name(lab))["IsLogging"]:
        raise Fail("the trail exists but is not logging", "cloudtrail.start_logging(Name=...)")
    selectors = ct.get_event_selectors(TrailName=audit.trail_name(lab))
    missing = sorted(set(lab.names.buckets) - audit.selected_buckets(selectors))
    if missing:
        raise Fail(f"the trail does not log S3 data events of {missing}")
    return f"{audit.trail_name(lab)} logs management events and both buckets' data events"


@check("10.delivered", points=2,
       hint="the day's calls must be replayed after the trail logs, then its log files delivered",
       docs='AWS CloudTrail User Guide › Finding your CloudTrail log files; CloudTrail log file examples',
       reference='labkit.topics.audit.replay_day(lab), then labkit.topics.audit.deliver(lab)')
def delivered(lab):
    """Log files arrived in CloudTrail's key layout, with the analyst's reads of the personal data."""
    _trail_described(lab)
    if lab.emulator is not None:
        audit.deliver(lab)
    status = lab.client("cloudtrail").get_trail_status(Name=audit.trail_name(lab))
    if status.get("LatestDeliveryError"):
        raise Fail(f"CloudTrail cannot deliver: {status['LatestDeliveryError']}",
                   "the log bucket's policy must let cloudtrail.amazonaws.com s3:GetBucketAcl "
                   "and s3:PutObject (audit.log_bucket_policy(lab))")
    keys = _log_keys(lab)
    if not keys:
        raise Fail(f"no log file in s3://{audit.log_bucket(lab)}/AWSLogs/ yet")
    wrong = [k for k in keys if not audit.is_log_key(k)]
    if wrong:
        raise Fail(f"not CloudTrail's key layout: {wrong[0]}")
    dataset = f"arn:aws:s3:::{lab.names.landing_bucket}/{s3topic.DATASET_KEY}"
    reads = [r for r in audit.delivered_records(lab)
             if r["eventName"] == "GetObject" and r.get("eventCategory") == "Data"
             and r["userIdentity"].get("userName") == lab.names.analyst_user
             and any(x["ARN"] == dataset for x in r.get("resources", []))]
    if not reads:
        raise Fail("no delivered record shows the analyst reading the raw dataset",
                   "the trail must log data events of the landing zone before the analyst reads")
    return f"{len(keys)} log file(s); {len(reads)} read(s) of the personal data by the analyst"


def _report(lab):
    s3, bucket = lab.client("s3"), lab.names.analysis_bucket
    try:
        head = s3.head_object(Bucket=bucket, Key=audit.REPORT_KEY)
    except s3.exceptions.ClientError:
        raise Fail(f"there is no s3://{bucket}/{audit.REPORT_KEY}",
                   "write the denied calls with audit.write_report(lab, report)") from None
    import pandas as pd

    text = s3.get_object(Bucket=bucket, Key=audit.REPORT_KEY)["Body"].read().decode("utf-8")
    return head, pd.read_csv(io.StringIO(text), keep_default_na=False)


@check("10.report", points=3,
       hint='a report of every denied call (who, what, why) built from lab.trail(), written where the lesson says',
       docs='AWS CloudTrail User Guide › CloudTrail record contents (errorCode, errorMessage); IAM User Guide › Troubleshoot access denied error messages',
       reference='report = labkit.topics.audit.denied_report(lab.trail()); labkit.topics.audit.write_report(lab, report)')
def report(lab):
    """The report of denied calls: encrypted, the expected columns, the day's denials with reasons."""
    head, table = _report(lab)
    if head.get("ServerSideEncryption") not in s3topic.ACCEPTED_SSE:
        raise Fail("the report is not encrypted at rest")
    missing = [c for c in audit.REPORT_COLUMNS if c not in table.columns]
    if missing:
        raise Fail(f"the report lacks column(s) {missing}; it has {list(table.columns)}")
    n = lab.names
    wanted = {"the analyst's write to the landing zone": (n.analyst_user, "s3:PutObject"),
              "the engineer's public bucket policy": (n.engineer_user, "s3:PutBucketPolicy"),
              "the admin's public bucket policy": (n.admin_user, "s3:PutBucketPolicy")}
    for what, (who, action) in wanted.items():
        if table[(table["caller"] == who) & (table["action"] == action)].empty:
            raise Fail(f"the report does not list {what} ({who}, {action})")
    if (table["reason"].astype(str).str.strip() == "").any():
        raise Fail("some denied calls have no reason", "keep the trail's reason column")
    return f"{len(table)} denied call(s), each with its reason"
