"""Lesson 03: one S3 access point per bucket, and access control delegated to them.

``build(lab)`` is lesson 03's reference end state that later lessons rely on:

- access points ``NAME-landing-zone-access`` (on the landing zone) and
  ``NAME-analysis-access`` (on the analysis bucket), internet origin, with all
  four Block Public Access settings on;
- access point policies for the analyst user: read-only on the landing zone
  (s3:GetObject on ``.../object/*``, s3:ListBucket on the access point),
  read, write and delete on the analysis bucket;
- each bucket's policy delegates to its own access point, named
  (``s3:DataAccessPointArn``), not to any access point of the account, merged with lesson 02's
  encryption and TLS guards by :func:`labkit.topics.buckets.bucket_policy`.
"""
from __future__ import annotations

import json

from botocore.exceptions import ClientError

from labkit.topics import buckets as s3

ALL_PUBLIC_ACCESS_BLOCKED = dict(s3.PUBLIC_ACCESS_BLOCK)
READ_ACTIONS = ["s3:GetObject"]
READ_WRITE_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]


# --------------------------------------------------------------------------- names
def arn(lab, access_point_name: str) -> str:
    """"arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME": use it wherever boto3 or the CLI wants a bucket."""
    return s3.access_point_arn(lab, access_point_name)


def object_arn(lab, access_point_name: str, key: str = "*") -> str:
    """The ARN of objects reached through the access point (object-level actions apply to it)."""
    return f"{arn(lab, access_point_name)}/object/{key}"


def pairs(lab) -> dict[str, str]:
    """Access point name -> the bucket it serves."""
    return {lab.names.access_point_of(bucket): bucket for bucket in lab.names.buckets}


def _check_name(lab, access_point_name: str) -> str:
    if access_point_name not in pairs(lab):
        raise ValueError(f"{access_point_name!r} is not one of this lab's access points "
                         f"{lab.names.access_points}; use lab.names.landing_access_point or "
                         f"lab.names.analysis_access_point")
    return access_point_name


def describe(lab, access_point_name: str) -> dict | None:
    """GetAccessPoint's answer for this access point, or None if it does not exist."""
    control = lab.client("s3control")
    try:
        return control.get_access_point(AccountId=lab.account_id, Name=access_point_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchAccessPoint", "404", "NotFound"):
            return None
        raise


def alias(lab, access_point_name: str) -> str:
    """The access point's alias (NAME-...-s3alias): a bucket-style name for the access point."""
    found = describe(lab, _check_name(lab, access_point_name))
    if found is None:
        raise LookupError(f"access point {access_point_name} does not exist yet: create it "
                          f"first (labkit.topics.access_points.build(lab) is the reference)")
    return found["Alias"]


# --------------------------------------------------------------------------- policies
def access_point_policy(lab, access_point_name: str) -> dict:
    """The analyst's access point policy: read-only (landing zone) or read-write (analysis).

    Object actions (Get/Put/DeleteObject) apply to ``ACCESS_POINT_ARN/object/*``;
    s3:ListBucket applies to the access point ARN itself. Granting "s3:*" on the
    bare access point ARN (the seed's version) matches no object action at all,
    and would have granted far more than reading if it did.
    """
    _check_name(lab, access_point_name)
    analyst = f"arn:aws:iam::{lab.account_id}:user/{lab.names.analyst_user}"
    write = access_point_name == lab.names.analysis_access_point
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "AnalystsListThroughAccessPoint", "Effect": "Allow",
         "Principal": {"AWS": analyst}, "Action": "s3:ListBucket",
         "Resource": arn(lab, access_point_name)},
        {"Sid": "AnalystsReadWriteObjects" if write else "AnalystsReadObjects", "Effect": "Allow",
         "Principal": {"AWS": analyst}, "Action": READ_WRITE_ACTIONS if write else READ_ACTIONS,
         "Resource": object_arn(lab, access_point_name)},
    ]}


def current_policy(lab, access_point_name: str) -> dict | None:
    """The access point policy in force, or None when it has none."""
    control = lab.client("s3control")
    try:
        text = control.get_access_point_policy(AccountId=lab.account_id, Name=access_point_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchAccessPointPolicy", "NoSuchAccessPoint"):
            return None
        raise
    return json.loads(text["Policy"]) if text.get("Policy") else None


# --------------------------------------------------------------------------- build
def ensure_access_point(lab, access_point_name: str, bucket: str) -> bool:
    """Create the access point (internet origin, public access blocked) unless it exists.

    Returns True if created. An existing access point on another bucket is an
    error: access points cannot be moved, only deleted and created again.
    """
    found = describe(lab, access_point_name)
    if found is not None:
        if found["Bucket"] != bucket:
            raise RuntimeError(f"access point {access_point_name} serves bucket {found['Bucket']}, "
                               f"not {bucket}: delete it and create it again")
        return False
    # No VpcConfiguration: the network origin is "Internet".
    lab.client("s3control").create_access_point(
        AccountId=lab.account_id, Name=access_point_name, Bucket=bucket,
        PublicAccessBlockConfiguration=ALL_PUBLIC_ACCESS_BLOCKED)
    return True


def build(lab) -> None:
    """Lesson 03's end state (reference solution); safe to run any number of times."""
    control = lab.client("s3control")
    for name, bucket in pairs(lab).items():
        ensure_access_point(lab, name, bucket)
        control.put_access_point_policy(AccountId=lab.account_id, Name=name,
                                        Policy=json.dumps(access_point_policy(lab, name)))
        s3.put_policy(lab, bucket, with_access_points=True)


# --------------------------------------------------------------------------- teardown
def teardown(lab) -> list[str]:
    """Delete both access points (their policies go with them) and drop the delegation
    statement from the bucket policies that remain. Returns what could not be removed."""
    control, problems = lab.client("s3control"), []
    for name, bucket in pairs(lab).items():
        try:
            if describe(lab, name) is not None:
                control.delete_access_point(AccountId=lab.account_id, Name=name)
            client = lab.client("s3")
            if s3.bucket_exists(client, bucket) and s3.has_statement(
                    s3.current_policy(client, bucket), s3.SID_DELEGATE):
                s3.put_policy(lab, bucket, with_access_points=False)
        except ClientError as exc:
            problems.append(f"access point {name}: {exc}")
    return problems


def leftovers(lab) -> list[str]:
    """This lab's access points that still exist (empty after teardown)."""
    return [f"access point {name}" for name in lab.names.access_points
            if describe(lab, name) is not None]
