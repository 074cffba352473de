"""Lesson 07: working as an analyst, from boto3, within the analyst's permissions.

The analyst reads the raw dataset through the landing zone's access point into
pandas, drops what identifies people, aggregates, and writes the result,
encrypted, to the analysis bucket. ``build(lab)`` is that work done by the
reference solution (lesson 07's end state).
"""
from __future__ import annotations

import hashlib
import io

from labkit.topics import access_points, buckets as s3topic

#: Columns of the dataset that identify (email) or narrow down (postcode) a person.
SENSITIVE_COLUMNS = ("customer_email", "postcode")
#: Where lesson 07's result lives in the analysis bucket.
RESULT_KEY = "results/revenue_by_state_and_category.csv"
SUMMARY_COLUMNS = ["state", "product_category", "orders", "items", "revenue"]


def analyst_session(lab):
    """A boto3 session signed with the analyst's lab-local profile."""
    import boto3

    return boto3.Session(profile_name=lab.names.analyst_user, region_name=lab.region)


def read_dataset(s3, lab):
    """The raw dataset as a DataFrame, read through the landing zone's access point.

    Postcodes stay text: "0800" is a postcode, 800 is not.
    """
    import pandas as pd

    bucket = access_points.arn(lab, lab.names.landing_access_point)
    body = s3.get_object(Bucket=bucket, Key=s3topic.DATASET_KEY)["Body"]
    return pd.read_csv(body, dtype={"postcode": str})


def pseudonym(value: str, salt: str) -> str:
    """A stable, salted SHA-256 pseudonym (16 hex digits) for VALUE.

    Without the salt (kept secret) nobody can recompute it from a guessed
    e-mail address; with it, the same person always gets the same key.
    """
    if not salt:
        raise ValueError("a pseudonym needs a secret salt; an unsalted hash of an e-mail "
                         "address can be reversed by hashing candidate addresses")
    return hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()[:16]


def without_sensitive(df, salt: str | None = None):
    """DF without SENSITIVE_COLUMNS; with SALT, a ``customer_key`` pseudonym replaces the e-mail."""
    out = df.copy()
    if salt is not None and "customer_email" in out:
        out["customer_key"] = [pseudonym(v, salt) for v in out["customer_email"]]
    return out.drop(columns=[c for c in SENSITIVE_COLUMNS if c in out])


def summarize(df):
    """Orders, items and revenue per state and product category, biggest revenue first."""
    grouped = df.groupby(["state", "product_category"], as_index=False).agg(
        orders=("order_id", "count"), items=("quantity", "sum"), revenue=("order_total", "sum"))
    grouped["revenue"] = grouped["revenue"].round(2)
    return grouped.sort_values("revenue", ascending=False, ignore_index=True)


def to_csv_bytes(df) -> bytes:
    buffer = io.StringIO()
    df.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def write_result(s3, lab, df, key: str = RESULT_KEY) -> dict:
    """Write DF as CSV, SSE-S3 encrypted, to KEY in the analysis bucket (via its access point).

    Returns S3's answer (with ServerSideEncryption). Skips the upload when the
    same bytes are there already, so re-running adds no object version.
    """
    body = to_csv_bytes(df)
    bucket = access_points.arn(lab, lab.names.analysis_access_point)
    etag = '"' + hashlib.md5(body).hexdigest() + '"'
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
        if head["ETag"] == etag:
            return head
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise
    return s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/csv",
                         ServerSideEncryption=s3topic.SSE)


def attempt(call, **kwargs) -> tuple[str, str]:
    """Run a boto3 call: ("OK", "") or (error code, error message)."""
    from botocore.exceptions import ClientError

    try:
        call(**kwargs)
        return "OK", ""
    except ClientError as exc:
        err = exc.response["Error"]
        return err.get("Code", "?"), err.get("Message", "")


def build(lab) -> None:
    """Lesson 07's end state: the analyst's summary, without personal data, encrypted."""
    s3 = analyst_session(lab).client("s3")
    write_result(s3, lab, summarize(without_sensitive(read_dataset(s3, lab))))
