"""Lesson 10: auditing the data lake with CloudTrail.

A trail (``NAME-audit-trail``) logs management events and the S3 data events
of both lake buckets to a log bucket (``NAME-audit-logs``) whose policy lets
only CloudTrail write, as the CloudTrail user guide's "Amazon S3 bucket policy
for CloudTrail" shows. :func:`replay_day` plays a day's work against the lake;
:func:`trail` (``lab.trail()``) gives every recorded request as a pandas
DataFrame with labkit's reason for each decision, so any lesson can show after
the fact why something was denied.

``build(lab)`` is lesson 10's end state; ``teardown(lab)`` stops and deletes
the trail and empties and deletes the log bucket (lesson 99).
"""
from __future__ import annotations

import gzip
import io
import json
import re

from botocore.exceptions import ClientError

from labkit.outcomes import ALLOW, DENY, ERROR
from labkit.topics import access_points
from labkit.topics.analyst import attempt
from labkit.topics import buckets as s3topic

TRAIL_SUFFIX = "-audit-trail"
LOG_BUCKET_SUFFIX = "-audit-logs"
#: Where lesson 10's report of denied calls goes, in the analysis bucket.
REPORT_KEY = "audit/denied_calls.csv"
REPORT_COLUMNS = ["time", "caller", "action", "resource", "error", "reason"]
#: The replay's engineer upload (a new day's orders, encrypted).
UPLOAD_KEY = "raw/incoming/orders_today.csv"
COLUMNS = ["time", "caller", "action", "resource", "outcome", "error", "reason", "message",
           "category", "read_only", "caller_arn", "source_ip", "event_id"]
_LOG_KEY = re.compile(r"^(?:.+/)?AWSLogs/(?P<account>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/"
                      r"(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P=account)_CloudTrail_(?P=region)_"
                      r"(?P=y)(?P=m)(?P=d)T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$")
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


# ----------------------------------------------------------------------------- names

def trail_name(lab) -> str:
    return f"{lab.name}{TRAIL_SUFFIX}"


def log_bucket(lab) -> str:
    return f"{lab.name}{LOG_BUCKET_SUFFIX}"


def trail_arn(lab) -> str:
    return f"arn:aws:cloudtrail:{lab.region}:{lab.account_id}:trail/{trail_name(lab)}"


def is_log_key(key: str) -> bool:
    """True for a key in CloudTrail's layout (AWSLogs/ACCOUNT/CloudTrail/REGION/Y/M/D/...json.gz)."""
    return _LOG_KEY.match(key) is not None


# ----------------------------------------------------------------------------- documents

def log_bucket_policy(lab) -> dict:
    """CloudTrail may read the bucket ACL and write under AWSLogs/ACCOUNT/, for this trail only."""
    bucket, arn = log_bucket(lab), trail_arn(lab)
    only_this_trail = {"StringEquals": {"aws:SourceArn": arn}}
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
         "Resource": f"arn:aws:s3:::{bucket}", "Condition": only_this_trail},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{lab.account_id}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                        "aws:SourceArn": arn}}},
        s3topic.tls_statement(bucket),
    ]}


def event_selectors(lab) -> list[dict]:
    """Basic selectors: all management events, and S3 data events of every object of both buckets."""
    return [{"ReadWriteType": "All", "IncludeManagementEvents": True,
             "DataResources": [{"Type": "AWS::S3::Object",
                                "Values": [f"arn:aws:s3:::{b}/" for b in lab.names.buckets]}]}]


def advanced_event_selectors(lab) -> list[dict]:
    """The same with advanced selectors (what AWS recommends for new trails)."""
    return [{"Name": "Management events", "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]}]},
            {"Name": "Data events of the lake's buckets", "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                {"Field": "resources.ARN",
                 "StartsWith": [f"arn:aws:s3:::{b}/" for b in lab.names.buckets]}]}]


def selected_buckets(selectors: dict) -> set[str]:
    """Buckets whose S3 data events a GetEventSelectors answer logs."""
    found = set()
    for selector in selectors.get("EventSelectors") or []:
        for resource in selector.get("DataResources") or []:
            if resource.get("Type") == "AWS::S3::Object":
                found.update(v[len("arn:aws:s3:::"):].split("/", 1)[0]
                             for v in resource.get("Values", []) if v.startswith("arn:aws:s3:::"))
    for selector in selectors.get("AdvancedEventSelectors") or []:
        fields = {f["Field"]: f for f in selector.get("FieldSelectors", [])}
        if "Data" not in fields.get("eventCategory", {}).get("Equals", []):
            continue
        arn = fields.get("resources.ARN", {})
        for value in arn.get("StartsWith", []) + arn.get("Equals", []):
            if value.startswith("arn:aws:s3:::"):
                found.add(value[len("arn:aws:s3:::"):].split("/", 1)[0])
    return found


# ----------------------------------------------------------------------------- building

def ensure_log_bucket(lab) -> None:
    """The log bucket: locked down like the lake's buckets, CloudTrail allowed to write."""
    s3, bucket = lab.client("s3"), log_bucket(lab)
    s3topic.ensure_bucket(s3, bucket, lab.region)
    s3.put_public_access_block(Bucket=bucket,
                               PublicAccessBlockConfiguration=s3topic.PUBLIC_ACCESS_BLOCK)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": s3topic.SSE}}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(log_bucket_policy(lab)))


def ensure_trail(lab, selectors: list[dict] | None = None, advanced: bool = False) -> str:
    """The trail, logging to the log bucket with data events on both buckets; returns its ARN."""
    ct = lab.client("cloudtrail")
    try:
        ct.get_trail(Name=trail_name(lab))
    except ct.exceptions.TrailNotFoundException:
        ct.create_trail(Name=trail_name(lab), S3BucketName=log_bucket(lab),
                        IncludeGlobalServiceEvents=True)
    if advanced:
        ct.put_event_selectors(TrailName=trail_name(lab),
                               AdvancedEventSelectors=selectors or advanced_event_selectors(lab))
    else:
        ct.put_event_selectors(TrailName=trail_name(lab),
                               EventSelectors=selectors or event_selectors(lab))
    ct.start_logging(Name=trail_name(lab))
    return trail_arn(lab)


def build(lab) -> None:
    """Lesson 10's end state: the log bucket and a logging trail with data events on the lake."""
    ensure_log_bucket(lab)
    ensure_trail(lab)


# ----------------------------------------------------------------------------- delivery

def deliver(lab) -> list[dict]:
    """Deliver the trail's new events now (the emulator; AWS delivers every ~5 minutes).

    Returns one result per logging trail: {"trail", "files", "error"}.
    """
    if lab.emulator is None:
        raise RuntimeError("on a real AWS account CloudTrail delivers log files about every "
                           "5 minutes; nothing can force it. Wait, then list the log bucket.")
    from labkit.emulator.services.cloudtrail import control

    return control.deliver(lab.emulator)


def log_keys(lab) -> list[str]:
    """Every log file key in the log bucket, oldest delivery first."""
    s3, found = lab.client("s3"), []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=log_bucket(lab),
                                                             Prefix="AWSLogs/"):
        found += [o["Key"] for o in page.get("Contents", [])]
    return sorted(found, key=lambda k: k.rsplit("_", 2)[-2])


def read_log_file(lab, key: str) -> list[dict]:
    """The records of one delivered log file (gzipped JSON {"Records": [...]})."""
    body = lab.client("s3").get_object(Bucket=log_bucket(lab), Key=key)["Body"].read()
    return json.loads(gzip.decompress(body))["Records"]


def delivered_records(lab) -> list[dict]:
    """Every record of every delivered log file."""
    return [r for key in log_keys(lab) for r in read_log_file(lab, key)]


# ----------------------------------------------------------------------------- the trail as a table

def caller_name(identity: dict) -> str:
    """A short name for the caller: the user, the role session, root, or anonymous."""
    kind = identity.get("type")
    if kind == "IAMUser":
        return identity.get("userName", "")
    if kind == "AssumedRole":
        return identity.get("arn", "").rsplit("/", 1)[-1]
    if kind == "Root":
        return "root"
    if identity.get("accountId") == "anonymous":
        return "anonymous"
    return identity.get("arn") or identity.get("principalId") or ""


def outcome(record: dict) -> str:
    code = record.get("errorCode")
    if not code:
        return ALLOW
    return DENY if code in _DENIED else ERROR


def row(record: dict, reason: str = "") -> dict:
    """One row of :func:`trail` from a CloudTrail record."""
    import pandas as pd

    service = record["eventSource"].split(".", 1)[0]
    resources = record.get("resources") or []
    return {"time": pd.Timestamp(record["eventTime"]),
            "caller": caller_name(record["userIdentity"]),
            "action": f"{service}:{record['eventName']}",
            "resource": resources[0]["ARN"] if resources else "",
            "outcome": outcome(record), "error": record.get("errorCode", ""),
            "reason": reason, "message": record.get("errorMessage", ""),
            "category": record.get("eventCategory", ""), "read_only": record.get("readOnly"),
            "caller_arn": record["userIdentity"].get("arn", ""),
            "source_ip": record.get("sourceIPAddress", ""), "event_id": record["eventID"]}


def _emulator_events(lab) -> list[tuple[dict, str]]:
    from labkit.emulator.services.cloudtrail import control

    return [(e["record"], e["reason"]) for e in control.events(lab.emulator)]


def _aws_events(lab) -> list[tuple[dict, str]]:
    """Real AWS: event history (management events of the last 90 days); no labkit reasons."""
    pages = lab.client("cloudtrail").get_paginator("lookup_events").paginate()
    return [(json.loads(e["CloudTrailEvent"]), "") for page in pages for e in page["Events"]]


def trail(lab, caller: str | None = None, action: str | None = None,
          outcome: str | None = None, resource: str | None = None, since=None,
          category: str | None = None):
    """Every recorded request as a DataFrame, oldest first.

    Columns: time, caller, action (service:API), resource (first resource ARN),
    outcome (ALLOW / DENY / ERROR), error (AWS's code), reason (labkit's deciding
    statements), message, category (Management / Data), read_only, caller_arn,
    source_ip, event_id. Filters: ``caller`` (exact name), ``action`` (exact, or
    without the service: "GetObject"), ``outcome``, ``resource`` (ARN prefix),
    ``since`` (a time; naive means UTC), ``category``.
    On a real account this is CloudTrail's event history: management events only, no reasons.
    """
    import pandas as pd

    pairs = _emulator_events(lab) if lab.emulator is not None else _aws_events(lab)
    table = pd.DataFrame([row(r, why) for r, why in pairs], columns=COLUMNS)
    table["time"] = pd.to_datetime(table["time"], utc=True)
    if caller is not None:
        table = table[table["caller"] == caller]
    if action is not None:
        table = table[(table["action"] == action) | (table["action"].str.split(":").str[1] == action)]
    if outcome is not None:
        table = table[table["outcome"] == outcome.upper()]
    if resource is not None:
        table = table[table["resource"].str.startswith(resource)]
    if category is not None:
        table = table[table["category"] == category]
    if since is not None:
        start = pd.Timestamp(since)
        table = table[table["time"] >= (start.tz_localize("UTC") if start.tzinfo is None else start)]
    return table.sort_values("time", kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------- a day's work

def public_policy(bucket: str) -> dict:
    """A bucket policy that would let anyone read every object (Block Public Access refuses it)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]}


def replay_day(lab) -> dict[str, tuple[str, str]]:
    """A day's work on the lake, as the people who do it; returns {what: (code, message)}.

    The engineer uploads the day's orders (encrypted); the analyst reads the raw
    dataset, personal data included, through the access point, twice; the analyst
    tries to write to the landing zone (denied); the engineer uploads without
    encryption (refused by the bucket policy) and tries to make the analysis bucket
    public (refused by the engineer's own guardrail deny, lesson 04); the admin, whom
    AdministratorAccess allows everything, tries the same (refused by Block Public
    Access). Anything that unexpectedly succeeds is undone at once, and shows up as
    "OK" in the answer.
    """
    n = lab.names
    eng = lab.client("s3", n.engineer_user)
    ana = lab.client("s3", n.analyst_user)
    landing_ap = access_points.arn(lab, n.landing_access_point)
    body = s3topic.dataset_path().read_bytes()
    done = {"engineer uploads the day's orders": attempt(
        eng.put_object, Bucket=n.landing_bucket, Key=UPLOAD_KEY, Body=body[:2000],
        ServerSideEncryption=s3topic.SSE)}
    for i in (1, 2):
        done[f"analyst reads the raw dataset ({i})"] = attempt(
            lambda **kw: ana.get_object(**kw)["Body"].read(), Bucket=landing_ap,
            Key=s3topic.DATASET_KEY)
    done["analyst writes to the landing zone"] = attempt(
        ana.put_object, Bucket=n.landing_bucket, Key="raw/analyst_notes.csv", Body=b"x",
        ServerSideEncryption=s3topic.SSE)
    done["engineer uploads without encryption"] = code = attempt(
        eng.put_object, Bucket=n.landing_bucket, Key="raw/incoming/plain.csv", Body=b"x")
    if code[0] == "OK":
        eng.delete_object(Bucket=n.landing_bucket, Key="raw/incoming/plain.csv")
    before = s3topic.current_policy(lab.client("s3"), n.analysis_bucket)
    admin = lab.client("s3", n.admin_user)
    for who, client in (("engineer", eng), ("admin", admin)):
        done[f"{who} makes the analysis bucket public"] = code = attempt(
            client.put_bucket_policy, Bucket=n.analysis_bucket,
            Policy=json.dumps(public_policy(n.analysis_bucket)))
        if code[0] == "OK" and before is not None:
            lab.client("s3").put_bucket_policy(Bucket=n.analysis_bucket, Policy=json.dumps(before))
    return done


# ----------------------------------------------------------------------------- the report

def denied_report(table):
    """The denied calls of a :func:`trail` table, with REPORT_COLUMNS."""
    denied = table[table["outcome"] == "DENY"]
    return denied[REPORT_COLUMNS].reset_index(drop=True)


def write_report(lab, report, key: str = REPORT_KEY) -> dict:
    """Write REPORT as CSV, SSE-S3 encrypted, to KEY in the analysis bucket (as the lab admin)."""
    buffer = io.StringIO()
    report.to_csv(buffer, index=False)
    return lab.client("s3").put_object(Bucket=lab.names.analysis_bucket, Key=key,
                                       Body=buffer.getvalue().encode(), ContentType="text/csv",
                                       ServerSideEncryption=s3topic.SSE)


# ----------------------------------------------------------------------------- teardown

def teardown(lab) -> list[str]:
    """Stop and delete the trail, then empty and delete the log bucket; return what could not go."""
    ct, s3, problems = lab.client("cloudtrail"), lab.client("s3"), []
    try:
        ct.stop_logging(Name=trail_name(lab))
        ct.delete_trail(Name=trail_name(lab))
    except ct.exceptions.TrailNotFoundException:
        pass  # already gone
    except ClientError as exc:
        problems.append(f"trail {trail_name(lab)}: {exc}")
    bucket = log_bucket(lab)
    try:
        if s3topic.bucket_exists(s3, bucket):
            s3.delete_bucket_policy(Bucket=bucket)
            s3topic.empty_bucket(s3, bucket)
            s3.delete_bucket(Bucket=bucket)
    except (ClientError, RuntimeError) as exc:
        problems.append(f"bucket {bucket}: {exc}")
    return problems


def leftovers(lab) -> list[str]:
    """The trail and log bucket, if they still exist."""
    ct, found = lab.client("cloudtrail"), []
    try:
        ct.get_trail(Name=trail_name(lab))
        found.append(f"trail {trail_name(lab)}")
    except ct.exceptions.TrailNotFoundException:
        pass
    if s3topic.bucket_exists(lab.client("s3"), log_bucket(lab)):
        found.append(f"bucket {log_bucket(lab)}")
    return found
