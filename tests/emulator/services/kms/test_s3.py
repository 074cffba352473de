"""S3 SSE-KMS through the emulator: S3 asks KMS for the caller, and KMS decides.

Expectations come from:
- Amazon S3 "Using server-side encryption with AWS KMS keys (SSE-KMS)"
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
  (kms:GenerateDataKey to upload, kms:Decrypt to download; encryption context aws:s3:arn)
- "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys"
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html
  (with a Bucket Key the encryption context is the bucket ARN)
- "Multipart upload API and permissions"
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions
- KMS "kms:ViaService" https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
- KMS "Key states of AWS KMS keys" https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
"""
from __future__ import annotations

import pytest

from tests.emulator.services.kms.helpers import (allow, cli, delegate_to_account, error,
                                                 make_user, policy, unique)

VIA_S3 = "s3.us-east-1.amazonaws.com"


@pytest.fixture
def bucket(em):
    name = unique("sse-kms-bucket")
    em.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def key_arn(em):
    return em.client("kms").create_key()["KeyMetadata"]["Arn"]


def s3_only(em, prefix="s3-user", *more):
    return make_user(em, prefix, allow("s3:*", "*"), *more)


def default_encryption(em, bucket, key_arn, bucket_key=False):
    em.client("s3").put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                          "KMSMasterKeyID": key_arn},
                   "BucketKeyEnabled": bucket_key}]})


def test_upload_with_sse_kms_needs_generate_data_key(em, bucket, key_arn):
    _, arn, *keys = s3_only(em)
    s3 = em.client("s3", *keys)
    code, status, message = error(lambda: s3.put_object(
        Bucket=bucket, Key="a.csv", Body=b"x", ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_arn))
    assert (code, status) == ("AccessDenied", 403)
    assert message == (f"User: {arn} is not authorized to perform: kms:GenerateDataKey on "
                       f"resource: {key_arn} because no identity-based policy allows the "
                       "kms:GenerateDataKey action")
    em.client("iam").put_user_policy(UserName=arn.rsplit("/", 1)[1], PolicyName="kms",
                                     PolicyDocument=policy(allow("kms:GenerateDataKey", key_arn)))
    put = s3.put_object(Bucket=bucket, Key="a.csv", Body=b"x", ServerSideEncryption="aws:kms",
                        SSEKMSKeyId=key_arn)
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == key_arn
    # SSE-S3 needs no KMS permission at all.
    s3.put_object(Bucket=bucket, Key="b.csv", Body=b"x", ServerSideEncryption="AES256")


def test_bucket_default_key_applies_to_plain_uploads_and_reads(em, bucket, key_arn):
    default_encryption(em, bucket, key_arn)
    em.client("s3").put_object(Bucket=bucket, Key="data.csv", Body=b"secret")
    name, arn, *keys = s3_only(em)
    s3 = em.client("s3", *keys)
    assert error(lambda: s3.put_object(Bucket=bucket, Key="n.csv", Body=b"x"))[0] == \
        "AccessDenied"
    code, status, message = error(lambda: s3.get_object(Bucket=bucket, Key="data.csv"))
    assert (code, status) == ("AccessDenied", 403) and "kms:Decrypt" in message
    # HeadObject reads metadata only: no KMS call.
    assert s3.head_object(Bucket=bucket, Key="data.csv")["SSEKMSKeyId"] == key_arn
    em.client("iam").put_user_policy(UserName=name, PolicyName="kms", PolicyDocument=policy(
        allow(["kms:Decrypt", "kms:GenerateDataKey"], key_arn)))
    assert s3.get_object(Bucket=bucket, Key="data.csv")["Body"].read() == b"secret"
    s3.put_object(Bucket=bucket, Key="n.csv", Body=b"x")


def test_key_policy_without_delegation_stops_an_s3_reader(em, bucket):
    # The key policy is the primary control: an IAM allow for kms:Decrypt is not enough.
    kms = em.client("kms")
    key_arn = kms.create_key(Policy=policy(allow("kms:*", Principal={
        "AWS": "arn:aws:iam::123456789012:root"}, Condition={
        "StringEquals": {"aws:PrincipalType": "Account"}})))["KeyMetadata"]["Arn"]
    default_encryption(em, bucket, key_arn)
    em.client("s3").put_object(Bucket=bucket, Key="data.csv", Body=b"x")
    _, _, *keys = s3_only(em, "s3-kms-user", allow("kms:*", "*"))
    code, _, message = error(lambda: em.client("s3", *keys).get_object(Bucket=bucket,
                                                                        Key="data.csv"))
    assert code == "AccessDenied"
    assert message.endswith("because no resource-based policy allows the kms:Decrypt action")


def test_via_service_condition_allows_only_through_s3(em, bucket, key_arn):
    default_encryption(em, bucket, key_arn)
    _, _, *keys = s3_only(em, "s3-via", allow(["kms:Decrypt", "kms:GenerateDataKey"], key_arn,
                                              Condition={"StringEquals": {
                                                  "kms:ViaService": VIA_S3}}))
    s3 = em.client("s3", *keys)
    s3.put_object(Bucket=bucket, Key="v.csv", Body=b"x")
    assert s3.get_object(Bucket=bucket, Key="v.csv")["Body"].read() == b"x"
    blob = em.client("kms").encrypt(KeyId=key_arn, Plaintext=b"x")["CiphertextBlob"]
    assert error(lambda: em.client("kms", *keys).decrypt(CiphertextBlob=blob))[0] == \
        "AccessDeniedException"


@pytest.mark.parametrize("bucket_key", [False, True])
def test_encryption_context_is_the_object_or_bucket_arn(em, bucket, key_arn, bucket_key):
    default_encryption(em, bucket, key_arn, bucket_key=bucket_key)
    context_arn = f"arn:aws:s3:::{bucket}" if bucket_key else f"arn:aws:s3:::{bucket}/shared/*"
    _, _, *keys = s3_only(em, "s3-ctx", allow(["kms:Decrypt", "kms:GenerateDataKey"], key_arn,
                                              Condition={"StringLike": {
                                                  "kms:EncryptionContext:aws:s3:arn":
                                                      context_arn}}))
    s3 = em.client("s3", *keys)
    put = s3.put_object(Bucket=bucket, Key="shared/a.csv", Body=b"x")
    assert put.get("BucketKeyEnabled", False) is bucket_key
    assert s3.get_object(Bucket=bucket, Key="shared/a.csv")["Body"].read() == b"x"
    outside = lambda: s3.put_object(Bucket=bucket, Key="private/a.csv", Body=b"x")  # noqa: E731
    if bucket_key:
        outside()  # the context is the bucket ARN whatever the key
    else:
        assert error(outside)[0] == "AccessDenied"


def test_disabled_or_pending_deletion_key_makes_objects_unreadable(em, bucket, key_arn):
    default_encryption(em, bucket, key_arn)
    root_s3, kms = em.client("s3"), em.client("kms")
    root_s3.put_object(Bucket=bucket, Key="d.csv", Body=b"data")
    kms.disable_key(KeyId=key_arn)
    assert error(lambda: root_s3.get_object(Bucket=bucket, Key="d.csv")) == (
        "KMS.DisabledException", 400, f"{key_arn} is disabled.")
    assert error(lambda: root_s3.put_object(Bucket=bucket, Key="e.csv", Body=b"x"))[0] == \
        "KMS.DisabledException"
    kms.enable_key(KeyId=key_arn)
    assert root_s3.get_object(Bucket=bucket, Key="d.csv")["Body"].read() == b"data"
    kms.schedule_key_deletion(KeyId=key_arn, PendingWindowInDays=7)
    assert error(lambda: root_s3.get_object(Bucket=bucket, Key="d.csv")) == (
        "KMS.KMSInvalidStateException", 400, f"{key_arn} is pending deletion.")
    kms.cancel_key_deletion(KeyId=key_arn)
    kms.enable_key(KeyId=key_arn)
    assert root_s3.get_object(Bucket=bucket, Key="d.csv")["Body"].read() == b"data"


def test_multipart_upload_needs_generate_data_key_then_decrypt(em, bucket, key_arn):
    default_encryption(em, bucket, key_arn)
    name, _, *keys = s3_only(em, "s3-mpu", allow("kms:GenerateDataKey", key_arn))
    s3 = em.client("s3", *keys)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
    code, _, message = error(lambda: s3.upload_part(Bucket=bucket, Key="big.bin", PartNumber=1,
                                                    UploadId=upload, Body=b"x" * 10))
    assert code == "AccessDenied" and "kms:Decrypt" in message
    em.client("iam").put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=policy(
        allow("s3:*", "*"), allow(["kms:GenerateDataKey", "kms:Decrypt"], key_arn)))
    etag = s3.upload_part(Bucket=bucket, Key="big.bin", PartNumber=1, UploadId=upload,
                          Body=b"x" * 10)["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="big.bin", UploadId=upload,
                                 MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]})
    assert s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == b"x" * 10


def test_copy_needs_decrypt_on_the_source_key(em, bucket, key_arn):
    default_encryption(em, bucket, key_arn)
    em.client("s3").put_object(Bucket=bucket, Key="src.csv", Body=b"x")
    _, _, *keys = s3_only(em, "s3-copy", allow("kms:GenerateDataKey", key_arn))
    s3 = em.client("s3", *keys)
    code, _, message = error(lambda: s3.copy_object(
        Bucket=bucket, Key="dst.csv", CopySource={"Bucket": bucket, "Key": "src.csv"}))
    assert code == "AccessDenied" and "kms:Decrypt" in message


def test_aws_managed_key_works_through_s3_only(em, bucket):
    # AWS managed key aws/s3: its policy allows the account's principals via S3 only.
    _, _, *keys = s3_only(em, "s3-managed")
    s3 = em.client("s3", *keys)
    put = s3.put_object(Bucket=bucket, Key="m.csv", Body=b"x", ServerSideEncryption="aws:kms")
    assert s3.get_object(Bucket=bucket, Key="m.csv")["Body"].read() == b"x"
    managed = em.client("kms").describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert managed["KeyManager"] == "AWS" and put["SSEKMSKeyId"] == managed["Arn"]
    assert error(lambda: em.client("kms", *keys).encrypt(KeyId="alias/aws/s3",
                                                          Plaintext=b"x"))[0] == \
        "AccessDeniedException"


def test_key_policy_grant_lets_s3_read(em, bucket, key_arn):
    # Grants work for the calls S3 makes on the caller's behalf too.
    default_encryption(em, bucket, key_arn)
    em.client("s3").put_object(Bucket=bucket, Key="g.csv", Body=b"x")
    _, arn, *keys = s3_only(em, "s3-grantee")
    s3 = em.client("s3", *keys)
    assert error(lambda: s3.get_object(Bucket=bucket, Key="g.csv"))[0] == "AccessDenied"
    em.client("kms").create_grant(KeyId=key_arn, GranteePrincipal=arn, Operations=["Decrypt"])
    assert s3.get_object(Bucket=bucket, Key="g.csv")["Body"].read() == b"x"


def test_cli_cp_of_an_sse_kms_object_needs_decrypt(em, bucket, key_arn, tmp_path):
    default_encryption(em, bucket, key_arn, bucket_key=True)
    em.client("s3").put_object(Bucket=bucket, Key="cli.csv", Body=b"cli-data")
    name, _, key_id, secret = s3_only(em, "s3-cli")
    out = tmp_path / "cli.csv"
    result = cli(em, key_id, secret, tmp_path, "s3", "cp", f"s3://{bucket}/cli.csv", str(out))
    assert result.returncode != 0 and "AccessDenied" in result.stderr
    em.client("iam").put_user_policy(UserName=name, PolicyName="kms", PolicyDocument=policy(
        allow("kms:Decrypt", key_arn)))
    result = cli(em, key_id, secret, tmp_path, "s3", "cp", f"s3://{bucket}/cli.csv", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == b"cli-data"


def test_default_key_policy_alone_admits_iam_users(em, bucket):
    # Sanity check of delegation: a key policy with only the account statement still
    # lets an IAM policy grant S3 reads.
    key_arn = em.client("kms").create_key(Policy=policy(delegate_to_account()))[
        "KeyMetadata"]["Arn"]
    default_encryption(em, bucket, key_arn)
    em.client("s3").put_object(Bucket=bucket, Key="ok.csv", Body=b"x")
    _, _, *keys = s3_only(em, "s3-delegated", allow("kms:Decrypt", key_arn))
    assert em.client("s3", *keys).get_object(Bucket=bucket, Key="ok.csv")["Body"].read() == b"x"


def test_writer_supplied_encryption_context_is_checked(em, bucket, key_arn):
    # PutObject x-amz-server-side-encryption-context: extra pairs S3 passes to KMS.
    import base64
    import json

    _, _, *keys = s3_only(em, "s3-extra-ctx", allow("kms:GenerateDataKey", key_arn, Condition={
        "StringEquals": {"kms:EncryptionContext:project": "lake"}}))
    s3 = em.client("s3", *keys)
    context = base64.b64encode(json.dumps({"project": "lake"}).encode()).decode()
    s3.put_object(Bucket=bucket, Key="c.csv", Body=b"x", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=key_arn, SSEKMSEncryptionContext=context)
    other = base64.b64encode(json.dumps({"project": "other"}).encode()).decode()
    assert error(lambda: s3.put_object(Bucket=bucket, Key="d.csv", Body=b"x",
                                       ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn,
                                       SSEKMSEncryptionContext=other))[0] == "AccessDenied"


def test_copy_into_an_sse_kms_bucket_needs_generate_data_key(em, bucket, key_arn):
    source = unique("sse-kms-source")
    em.client("s3").create_bucket(Bucket=source)
    em.client("s3").put_object(Bucket=source, Key="plain.csv", Body=b"x")  # SSE-S3
    default_encryption(em, bucket, key_arn)
    name, _, *keys = s3_only(em, "s3-copy-in")
    s3 = em.client("s3", *keys)
    code, _, message = error(lambda: s3.copy_object(
        Bucket=bucket, Key="copied.csv", CopySource={"Bucket": source, "Key": "plain.csv"}))
    assert code == "AccessDenied" and "kms:GenerateDataKey" in message
    em.client("iam").put_user_policy(UserName=name, PolicyName="kms", PolicyDocument=policy(
        allow("kms:GenerateDataKey", key_arn)))
    copied = s3.copy_object(Bucket=bucket, Key="copied.csv",
                            CopySource={"Bucket": source, "Key": "plain.csv"})
    assert copied["ServerSideEncryption"] == "aws:kms"
