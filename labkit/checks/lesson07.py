"""Checks for lesson 07: the analyst's encrypted result, without personal data, and the denials."""
from __future__ import annotations

import io
import re

from labkit.topics import analyst
from labkit.topics import buckets as s3topic
from labkit.checks import Fail, check

_EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[a-z]{2,}", re.I)


def _result(lab):
    """(head, text) of the result object, read as the lab's admin identity."""
    s3, bucket = lab.client("s3"), lab.names.analysis_bucket
    try:
        head = s3.head_object(Bucket=bucket, Key=analyst.RESULT_KEY)
    except s3.exceptions.ClientError:
        raise Fail(f"there is no s3://{bucket}/{analyst.RESULT_KEY}",
                   "s3.put_object(Bucket=<analysis access point ARN>, Key=labkit.topics.analyst."
                   "RESULT_KEY, Body=..., ServerSideEncryption='AES256')") from None
    text = s3.get_object(Bucket=bucket, Key=analyst.RESULT_KEY)["Body"].read().decode("utf-8")
    return head, text


@check("07.result-written", points=3,
       hint='the summary as CSV in the analysis bucket, at the key the lesson names, asking for SSE-S3',
       docs='Amazon S3 User Guide › Specifying server-side encryption with Amazon S3 managed keys (SSE-S3) when uploading',
       reference="s3.put_object(..., Key=labkit.topics.analyst.RESULT_KEY, ServerSideEncryption='AES256')")
def result_written(lab):
    """The summary is in the analysis bucket, SSE-S3 encrypted, with the expected columns."""
    import pandas as pd

    head, text = _result(lab)
    if head.get("ServerSideEncryption") not in s3topic.ACCEPTED_SSE:
        raise Fail(f"the result is not encrypted at rest (ServerSideEncryption="
                   f"{head.get('ServerSideEncryption')!r})")
    table = pd.read_csv(io.StringIO(text))
    missing = [c for c in ("state", "product_category", "revenue") if c not in table.columns]
    if missing:
        raise Fail(f"the result lacks column(s) {missing}; it has {list(table.columns)}")
    return f"{len(table)} rows, encrypted with {head['ServerSideEncryption']}"


@check("07.no-personal-data", points=2,
       hint='the result must not hold the personal columns: customer_email and postcode',
       docs='AWS Well-Architected Framework, Security Pillar › Data protection › Data classification',
       reference='labkit.topics.analyst.without_sensitive(frame) drops them')
def no_personal_data(lab):
    """The result holds neither sensitive column nor anything that looks like an e-mail."""
    _, text = _result(lab)
    header = text.splitlines()[0].split(",") if text else []
    leaked = [c for c in analyst.SENSITIVE_COLUMNS if c in header]
    if leaked:
        raise Fail(f"the result still has sensitive column(s) {leaked}")
    if _EMAIL.search(text):
        raise Fail("the result contains an e-mail address")
    return "no e-mail addresses or postcodes in the result"


@check("07.denials", points=2,
       hint="These must fail with AccessDenied; if one succeeds, recheck lessons 02-04's policies",
       docs='IAM User Guide › Troubleshoot access denied error messages; IAM User Guide › Policy evaluation logic')
def denials(lab):
    """As the analyst: writing to the landing zone, unencrypted writes, deleting raw data: denied."""
    s3 = analyst.analyst_session(lab).client("s3")
    n = lab.names
    tries = {
        "write to the landing zone": (s3.put_object, dict(
            Bucket=n.landing_bucket, Key="test/checked-by-07-denials.csv", Body=b"x", ServerSideEncryption="AES256")),
        "unencrypted write to analysis": (s3.put_object, dict(
            Bucket=n.analysis_bucket, Key="results/plain.csv", Body=b"x")),
        # A key that does not exist: the permission is the same, and a broken policy
        # cannot make this check delete the dataset.
        "delete raw data": (s3.delete_object, dict(
            Bucket=n.landing_bucket, Key="raw/checked-by-07-denials.csv")),
    }
    for what, (call, kwargs) in tries.items():
        code, _ = analyst.attempt(call, **kwargs)
        if code != "AccessDenied":
            raise Fail(f"{what}: expected AccessDenied, got {code}")
    return "the analyst is denied all three"
