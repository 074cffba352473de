"""The course's own policies (NAME=demo), as test and benchmark fixtures.

engineer_access: full S3 on both buckets and their access points (plus
CloudShell); analyst_access: landing zone read-only, analysis read/write/delete;
each bucket's policy denies uploads without server-side encryption.
"""
from __future__ import annotations

from labkit.config import DEFAULT_REGION, EMULATOR_ACCOUNT_ID

ACCOUNT = EMULATOR_ACCOUNT_ID
NAME = "demo"
LANDING = f"{NAME}-landing-zone"
ANALYSIS = f"{NAME}-analysis"
ENGINEER = f"arn:aws:iam::{ACCOUNT}:user/engineer-{NAME}"
ANALYST = f"arn:aws:iam::{ACCOUNT}:user/analyst-{NAME}"


def access_point_arn(bucket: str) -> str:
    return f"arn:aws:s3:{DEFAULT_REGION}:{ACCOUNT}:accesspoint/{bucket}-access"


ENGINEER_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "EngineerBuckets", "Effect": "Allow", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{LANDING}", f"arn:aws:s3:::{LANDING}/*",
                      f"arn:aws:s3:::{ANALYSIS}", f"arn:aws:s3:::{ANALYSIS}/*"]},
        {"Sid": "EngineerAccessPoints", "Effect": "Allow", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:*:{ACCOUNT}:accesspoint/{NAME}-*"]},
        {"Sid": "ListBuckets", "Effect": "Allow",
         "Action": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], "Resource": "*"},
        {"Sid": "CloudShell", "Effect": "Allow", "Action": "cloudshell:*", "Resource": "*"},
    ],
}

ANALYST_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "LandingZoneList", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": f"arn:aws:s3:::{LANDING}"},
        {"Sid": "LandingZoneRead", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{LANDING}/*"},
        {"Sid": "AnalysisList", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": f"arn:aws:s3:::{ANALYSIS}"},
        {"Sid": "AnalysisReadWrite", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": f"arn:aws:s3:::{ANALYSIS}/*"},
    ],
}


def bucket_policy(bucket: str) -> dict:
    """Deny uploads whose encryption header is missing or not AES256/aws:kms."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "DenyWrongEncryption", "Effect": "Deny", "Principal": "*",
             "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*",
             "Condition": {"StringNotEquals": {
                 "s3:x-amz-server-side-encryption": ["AES256", "aws:kms"]}}},
            {"Sid": "DenyMissingEncryption", "Effect": "Deny", "Principal": "*",
             "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*",
             "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}},
        ],
    }


def access_point_policy(bucket: str, user_arn: str) -> dict:
    """The seed's access point policy: the analyst may use the access point."""
    ap = access_point_arn(bucket)
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "AnalystThroughAccessPoint", "Effect": "Allow", "Principal": {"AWS": user_arn},
        "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [ap, f"{ap}/object/*"]}]}


def delegating_bucket_policy(bucket: str) -> dict:
    """Bucket policy delegating access control to the account's access points."""
    doc = bucket_policy(bucket)
    doc["Statement"].append({
        "Sid": "DelegateToAccessPoints", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": "*", "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"StringEquals": {"s3:DataAccessPointAccount": ACCOUNT}}})
    return doc


IDENTITY = {
    ENGINEER: [("engineer_access", ENGINEER_ACCESS)],
    ANALYST: [("group analysts/analyst_access", ANALYST_ACCESS)],
}
BUCKET_POLICIES = {b: (f"bucket policy {b}", bucket_policy(b)) for b in (LANDING, ANALYSIS)}


def s3_uri(uri: str):
    """(bucket, key) of s3://bucket/key."""
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def steps(command: str):
    """The S3 requests one CLI row makes: [(action, bucket, key_or_prefix, context)]."""
    words = command.split("|")[-1].split()
    sse = {"s3:x-amz-server-side-encryption": "AES256"} if "--sse" in words else {}
    uris = [w for w in words if w.startswith("s3://")]
    if words[2] == "ls":
        b, prefix = s3_uri(uris[0])
        return [("s3:ListBucket", b, None, {"s3:prefix": prefix, "s3:delimiter": "/"})]
    if words[2] == "rm":
        b, k = s3_uri(uris[0])
        return [("s3:DeleteObject", b, k, {})]
    if words[2] == "cp" and len(uris) == 1:
        b, k = s3_uri(uris[0])
        return [("s3:PutObject", b, k, sse)]
    (sb, sk), (db, dk) = s3_uri(uris[0]), s3_uri(uris[1])
    return [("s3:GetObject", sb, sk, {}), ("s3:PutObject", db, dk, sse)]


# The outline's matrix: (command, engineer, analyst).
MATRIX = [
    ("echo hi | aws s3 cp - s3://demo-landing-zone/test/hw.txt --sse AES256", "ALLOW", "DENY"),
    ("aws s3 ls s3://demo-landing-zone/test/", "ALLOW", "ALLOW"),
    ("echo hi | aws s3 cp - s3://demo-analysis/test/hw.txt --sse AES256", "ALLOW", "ALLOW"),
    ("aws s3 ls s3://demo-analysis/test/", "ALLOW", "ALLOW"),
    ("aws s3 cp s3://demo-landing-zone/test/hw.txt s3://demo-analysis/test/hw_copy.txt --sse AES256",
     "ALLOW", "ALLOW"),
    ("aws s3 cp s3://demo-analysis/test/hw.txt s3://demo-landing-zone/test/hw_copy.txt --sse AES256",
     "ALLOW", "DENY"),
    ("aws s3 cp s3://demo-analysis/test/hw.txt s3://demo-analysis/test_copy/hw_copy.txt --sse AES256",
     "ALLOW", "ALLOW"),
    ("aws s3 rm s3://demo-landing-zone/test/hw_copy.txt", "ALLOW", "DENY"),
    ("aws s3 rm s3://demo-analysis/test/hw_copy.txt", "ALLOW", "ALLOW"),
    ("aws s3 cp s3://demo-landing-zone/test/hw.txt s3://demo-analysis/test/hw.txt", "DENY", "DENY"),
]
