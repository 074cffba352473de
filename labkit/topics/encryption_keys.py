"""Lesson 09: a customer managed KMS key for the analysis bucket, and who may use it.

``build(lab)`` is lesson 09's reference end state:

- a symmetric customer managed key, alias ``alias/NAME-analysis``, tagged
  ``labkit=NAME-analysis``, with automatic rotation on;
- its key policy (:func:`key_policy`): the account statement that keeps the key
  manageable and lets IAM policies count (AWS's default), the admin user as the
  only *key administrator* (manage, never encrypt or decrypt), analysts may
  decrypt and engineers may encrypt (GenerateDataKey), both only through S3
  (``kms:ViaService``);
- the analysis bucket's default encryption: SSE-KMS with that key and an S3
  Bucket Key;
- ``curated/customer_orders.csv`` in the analysis bucket, written by the engineer
  with SSE-KMS (the engineer cannot read it back; the analyst can).

``teardown(lab)`` removes the alias, points the bucket back at SSE-S3 and schedules
the key's deletion with KMS's shortest waiting period (7 days: keys are never
deleted at once); ``leftovers(lab)`` lists what is still usable.
"""
from __future__ import annotations

import json

from botocore.exceptions import ClientError

from labkit.topics import buckets as s3topic
from labkit.topics.analyst import attempt  # noqa: F401 - lesson 09 calls encryption_keys.attempt

#: Where the engineer's KMS-encrypted copy of the dataset goes in the analysis bucket.
CURATED_KEY = "curated/customer_orders.csv"
#: KMS's shortest waiting period before a key is deleted (7 to 30 days).
MIN_DELETION_DAYS = 7
#: What key administrators may do: manage the key, never use it on data. The console's
#: default key administrators statement (KMS "Default key policy") also holds kms:Create*
#: (CreateGrant: a grant to oneself is use) and kms:Put* (PutKeyPolicy: a policy naming
#: oneself is use); here only the alias is created and the policy is the root's to change.
ADMIN_ACTIONS = ["kms:CreateAlias", "kms:Describe*", "kms:Enable*", "kms:List*",
                 "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*",
                 "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
                 "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand"]
ANALYST_ACTIONS = ["kms:Decrypt", "kms:DescribeKey"]
ENGINEER_ACTIONS = ["kms:GenerateDataKey", "kms:Encrypt", "kms:DescribeKey"]
#: The cryptographic operations: only the analysts and engineers use the key on data.
USE_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
SID_ACCOUNT = "EnableIAMPoliciesAndKeepTheKeyManageable"
SID_ADMINS = "KeyAdministratorsManageOnly"
SID_ANALYSTS = "AnalystsDecryptThroughS3"
SID_ENGINEERS = "EngineersEncryptThroughS3"
SID_ONLY_USERS = "NobodyElseUsesTheKey"
SID_POLICY = "OnlyTheRootChangesThePolicyOrGrants"


# ----------------------------------------------------------------------------- names

def alias(lab) -> str:
    return f"alias/{lab.name}-analysis"


def tag_value(lab) -> str:
    return f"{lab.name}-analysis"


def user_arn(lab, user: str) -> str:
    return f"arn:aws:iam::{lab.account_id}:user/{user}"


def via_s3(lab) -> dict:
    """The condition that limits a statement to calls S3 makes on the caller's behalf,
    for the analysis bucket only: S3 names the bucket (with an S3 Bucket Key) or the object
    in the encryption context ``aws:s3:arn`` (S3 user guide, "Encryption context")."""
    bucket = f"arn:aws:s3:::{lab.names.analysis_bucket}"
    return {"StringEquals": {"kms:ViaService": f"s3.{lab.region}.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket, f"{bucket}/*"]}}


def root_arn(lab) -> str:
    return f"arn:aws:iam::{lab.account_id}:root"


def separation(lab) -> list:
    """The two denials that make the separation of duties hold against the account's own
    administrators (whom the account statement lets IAM policies such as AdministratorAccess
    reach): nobody but the analysts, the engineers and the root uses the key on data, and
    nobody but the root changes the key policy or makes grants (either would let an
    administrator give itself use)."""
    n = lab.names
    users = [user_arn(lab, n.analyst_user), user_arn(lab, n.engineer_user), root_arn(lab)]
    return [
        {"Sid": SID_ONLY_USERS, "Effect": "Deny", "Principal": "*", "Action": USE_ACTIONS,
         "Resource": "*", "Condition": {"ArnNotEquals": {"aws:PrincipalArn": users}}},
        {"Sid": SID_POLICY, "Effect": "Deny", "Principal": "*",
         "Action": ["kms:PutKeyPolicy", "kms:CreateGrant"], "Resource": "*",
         "Condition": {"ArnNotEquals": {"aws:PrincipalArn": root_arn(lab)}}},
    ]


def key_policy(lab) -> dict:
    """Lesson 09's key policy for the analysis key."""
    n = lab.names
    return {"Version": "2012-10-17", "Id": f"{lab.name}-analysis-key", "Statement": [
        {"Sid": SID_ACCOUNT, "Effect": "Allow",
         "Principal": {"AWS": root_arn(lab)},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": SID_ADMINS, "Effect": "Allow",
         "Principal": {"AWS": user_arn(lab, n.admin_user)},
         "Action": ADMIN_ACTIONS, "Resource": "*"},
        {"Sid": SID_ANALYSTS, "Effect": "Allow",
         "Principal": {"AWS": user_arn(lab, n.analyst_user)},
         "Action": ANALYST_ACTIONS, "Resource": "*", "Condition": via_s3(lab)},
        {"Sid": SID_ENGINEERS, "Effect": "Allow",
         "Principal": {"AWS": user_arn(lab, n.engineer_user)},
         "Action": ENGINEER_ACTIONS, "Resource": "*", "Condition": via_s3(lab)},
        *separation(lab),
    ]}


# ----------------------------------------------------------------------------- the key

def find_key(lab) -> dict | None:
    """KeyMetadata of the key behind ``alias(lab)``, or None when the alias does not exist."""
    kms = lab.client("kms")
    try:
        return kms.describe_key(KeyId=alias(lab))["KeyMetadata"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NotFoundException":
            return None
        raise


def ensure_key(lab, policy: dict) -> str:
    """The analysis key's ARN: created with POLICY and the alias if missing, else its
    policy set to POLICY and the key made usable again (enabled, deletion cancelled)."""
    kms, meta = lab.client("kms"), find_key(lab)
    if meta is None:
        meta = kms.create_key(Description=f"labkit {lab.name}: analysis bucket data",
                              Policy=json.dumps(policy),
                              Tags=[{"TagKey": "labkit", "TagValue": tag_value(lab)}])["KeyMetadata"]
        kms.create_alias(AliasName=alias(lab), TargetKeyId=meta["KeyId"])
        return meta["Arn"]
    if meta["KeyState"] == "PendingDeletion":
        kms.cancel_key_deletion(KeyId=meta["Arn"])
    kms.put_key_policy(KeyId=meta["Arn"], PolicyName="default", Policy=json.dumps(policy))
    if kms.describe_key(KeyId=meta["Arn"])["KeyMetadata"]["KeyState"] != "Enabled":
        kms.enable_key(KeyId=meta["Arn"])
    return meta["Arn"]


def default_encryption(key_arn: str) -> dict:
    """SSE-KMS with KEY_ARN and an S3 Bucket Key, as PutBucketEncryption takes it."""
    return {"Rules": [{"ApplyServerSideEncryptionByDefault": {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}, "BucketKeyEnabled": True}]}


def bucket_rule(lab) -> dict:
    """The analysis bucket's first default-encryption rule."""
    answer = lab.client("s3").get_bucket_encryption(Bucket=lab.names.analysis_bucket)
    return answer["ServerSideEncryptionConfiguration"]["Rules"][0]


def write_curated(lab, key_arn: str) -> dict:
    """As the engineer: copy the raw dataset to CURATED_KEY, SSE-KMS with KEY_ARN."""
    s3 = lab.client("s3", lab.names.engineer_user)
    body = s3.get_object(Bucket=lab.names.landing_bucket, Key=s3topic.DATASET_KEY)["Body"].read()
    return s3.put_object(Bucket=lab.names.analysis_bucket, Key=CURATED_KEY, Body=body,
                         ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn,
                         ContentType="text/csv")


def build(lab) -> None:
    """Lesson 09's end state (reference solution); safe to run any number of times."""
    key_arn = ensure_key(lab, key_policy(lab))
    lab.client("kms").enable_key_rotation(KeyId=key_arn)
    lab.client("s3").put_bucket_encryption(Bucket=lab.names.analysis_bucket,
                                           ServerSideEncryptionConfiguration=default_encryption(
                                               key_arn))
    write_curated(lab, key_arn)


# ----------------------------------------------------------------------------- teardown

def _our_keys(lab) -> list[dict]:
    """KeyMetadata of every key tagged as this lab's analysis key."""
    kms, found = lab.client("kms"), []
    for page in kms.get_paginator("list_keys").paginate():
        for entry in page["Keys"]:
            try:
                tags = kms.list_resource_tags(KeyId=entry["KeyId"]).get("Tags", [])
            except ClientError:
                continue  # a key we may not read (another team's): not ours
            if {"TagKey": "labkit", "TagValue": tag_value(lab)} in tags:
                found.append(kms.describe_key(KeyId=entry["KeyId"])["KeyMetadata"])
    return found


def teardown(lab) -> list[str]:
    """Remove the alias, reset the bucket to SSE-S3, schedule the key's deletion (7 days)."""
    kms, s3, problems = lab.client("kms"), lab.client("s3"), []
    try:
        if s3topic.bucket_exists(s3, lab.names.analysis_bucket):
            rule = bucket_rule(lab)["ApplyServerSideEncryptionByDefault"]
            if rule.get("SSEAlgorithm") == "aws:kms":
                s3.put_bucket_encryption(Bucket=lab.names.analysis_bucket,
                                         ServerSideEncryptionConfiguration={"Rules": [{
                                             "ApplyServerSideEncryptionByDefault": {
                                                 "SSEAlgorithm": s3topic.SSE}}]})
    except ClientError as exc:
        problems.append(f"default encryption of {lab.names.analysis_bucket}: {exc}")
    try:
        if find_key(lab) is not None:
            kms.delete_alias(AliasName=alias(lab))
    except ClientError as exc:
        problems.append(f"alias {alias(lab)}: {exc}")
    for meta in _our_keys(lab):
        if meta["KeyState"] == "PendingDeletion":
            continue
        try:
            kms.schedule_key_deletion(KeyId=meta["Arn"], PendingWindowInDays=MIN_DELETION_DAYS)
        except ClientError as exc:
            problems.append(f"KMS key {meta['Arn']}: {exc}")
    return problems


def leftovers(lab) -> list[str]:
    """The alias, and any key of this lab not yet scheduled for deletion."""
    found = [f"KMS alias {alias(lab)}"] if find_key(lab) is not None else []
    found += [f"KMS key {m['Arn']} ({m['KeyState']})" for m in _our_keys(lab)
              if m["KeyState"] != "PendingDeletion"]
    return found
