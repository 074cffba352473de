"""S3 authorization rules, request by request through the emulator with boto3.

Each test builds the smallest set-up that shows one AWS rule and checks both
sides: the call that must pass and the one that must fail with AWS's error.
"""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError


ACCOUNT = "123456789012"
BUCKET = "authz-rules-bucket"


_counter = iter(range(1, 10_000))


@pytest.fixture(autouse=True)
def fresh_names(em):
    """A new bucket and user-name suffix per test: cheaper than resetting moto each time."""
    global BUCKET, SUFFIX
    n = next(_counter)
    BUCKET, SUFFIX = f"authz-rules-bucket-{n}", f"-{n}"
    em.client("s3").create_bucket(Bucket=BUCKET)
    yield


SUFFIX = ""


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}{SUFFIX}"


def policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource, **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def make_user(em, name: str, *statements):
    """An IAM user with an inline policy of STATEMENTS (none: no identity policy); its s3 client."""
    iam = em.client("iam")
    name += SUFFIX
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy",
                            PolicyDocument=policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def denied(call) -> dict:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]


def put_bucket_policy(em, *statements, bucket=None):
    em.client("s3").put_bucket_policy(Bucket=bucket or BUCKET, Policy=policy(*statements))


def test_bucket_policy_grants_a_user_without_identity_policy(em):
    s3 = em.client("s3", *make_user(em, "reader"))
    em.client("s3").put_object(Bucket=BUCKET, Key="data.csv", Body=b"a,b")
    assert denied(lambda: s3.get_object(Bucket=BUCKET, Key="data.csv"))["Code"] == "AccessDenied"
    put_bucket_policy(em, allow("s3:GetObject", f"arn:aws:s3:::{BUCKET}/*",
                                Principal={"AWS": user_arn("reader")}))
    assert s3.get_object(Bucket=BUCKET, Key="data.csv")["Body"].read() == b"a,b"
    # The grant is for GetObject only.
    assert denied(lambda: s3.put_object(Bucket=BUCKET, Key="x", Body=b"x"))["Code"] == "AccessDenied"


def test_bucket_policy_deny_for_another_user_does_not_affect_this_one(em):
    me = em.client("s3", *make_user(em, "me", allow("s3:*", "*")))
    other = em.client("s3", *make_user(em, "other", allow("s3:*", "*")))
    put_bucket_policy(em, {"Effect": "Deny", "Action": "s3:*",
                           "Principal": {"AWS": user_arn("other")},
                           "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]})
    me.put_object(Bucket=BUCKET, Key="mine.txt", Body=b"x")
    err = denied(lambda: other.put_object(Bucket=BUCKET, Key="theirs.txt", Body=b"x"))
    assert err["Code"] == "AccessDenied"
    assert err["Message"].endswith("with an explicit deny in a resource-based policy")


def test_not_resource_in_a_deny_protects_only_what_it_does_not_name(em):
    s3 = em.client("s3", *make_user(
        em, "scoped", allow("s3:*", "*"),
        {"Effect": "Deny", "Action": "s3:PutObject",
         "NotResource": f"arn:aws:s3:::{BUCKET}/public/*"}))
    s3.put_object(Bucket=BUCKET, Key="public/ok.txt", Body=b"x")
    err = denied(lambda: s3.put_object(Bucket=BUCKET, Key="private/no.txt", Body=b"x"))
    assert "explicit deny in an identity-based policy" in err["Message"]


def test_permissions_boundary_limits_a_user(em):
    iam = em.client("iam")
    boundary = iam.create_policy(PolicyName="read-only-boundary" + SUFFIX, PolicyDocument=policy(
        allow(["s3:GetObject", "s3:ListBucket"], "*")))["Policy"]["Arn"]
    s3 = em.client("s3", *make_user(em, "bounded", allow("s3:*", "*")))
    s3.put_object(Bucket=BUCKET, Key="before.txt", Body=b"x")
    iam.put_user_permissions_boundary(UserName="bounded" + SUFFIX, PermissionsBoundary=boundary)
    assert iam.get_user(UserName="bounded" + SUFFIX)["User"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": boundary}
    err = denied(lambda: s3.put_object(Bucket=BUCKET, Key="after.txt", Body=b"x"))
    assert err["Message"].endswith("because no permissions boundary allows the s3:PutObject action")
    assert s3.get_object(Bucket=BUCKET, Key="before.txt")["Body"].read() == b"x"
    iam.delete_user_permissions_boundary(UserName="bounded" + SUFFIX)
    s3.put_object(Bucket=BUCKET, Key="after.txt", Body=b"x")


def test_copy_object_needs_read_on_the_source(em):
    root = em.client("s3")
    SOURCE = BUCKET + "-source"
    root.create_bucket(Bucket=SOURCE)
    root.put_object(Bucket=SOURCE, Key="secret.txt", Body=b"s")
    s3 = em.client("s3", *make_user(em, "copier", allow("s3:PutObject", f"arn:aws:s3:::{BUCKET}/*")))
    err = denied(lambda: s3.copy_object(Bucket=BUCKET, Key="copy.txt",
                                        CopySource={"Bucket": SOURCE,
                                                    "Key": "secret.txt"}))
    assert err["Code"] == "AccessDenied"
    assert f's3:GetObject on resource: "arn:aws:s3:::{SOURCE}/secret.txt"' in err["Message"]
    em.client("iam").put_user_policy(UserName="copier" + SUFFIX, PolicyName="read-source", PolicyDocument=policy(
        allow("s3:GetObject", f"arn:aws:s3:::{SOURCE}/*")))
    s3.copy_object(Bucket=BUCKET, Key="copy.txt",
                   CopySource={"Bucket": SOURCE, "Key": "secret.txt"})
    assert root.get_object(Bucket=BUCKET, Key="copy.txt")["Body"].read() == b"s"


def test_upload_without_sse_denied_with_sse_allowed(em):
    s3 = em.client("s3", *make_user(em, "uploader", allow("s3:PutObject", f"arn:aws:s3:::{BUCKET}/*")))
    put_bucket_policy(em, {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                           "Resource": f"arn:aws:s3:::{BUCKET}/*",
                           "Condition": {"StringNotEquals": {
                               "s3:x-amz-server-side-encryption": ["AES256", "aws:kms"]}}})
    assert denied(lambda: s3.put_object(Bucket=BUCKET, Key="plain", Body=b"x"))["Code"] == "AccessDenied"
    s3.put_object(Bucket=BUCKET, Key="enc", Body=b"x", ServerSideEncryption="AES256")
    # Multipart uploads carry the header on CreateMultipartUpload.
    assert denied(lambda: s3.create_multipart_upload(Bucket=BUCKET, Key="mp"))["Code"] == "AccessDenied"
    s3.create_multipart_upload(Bucket=BUCKET, Key="mp", ServerSideEncryption="AES256")


def test_delete_objects_is_decided_per_key(em):
    root = em.client("s3")
    for key in ("tmp/a", "tmp/b", "keep/c"):
        root.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    s3 = em.client("s3", *make_user(em, "cleaner", allow("s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/tmp/*")))
    result = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [
        {"Key": "tmp/a"}, {"Key": "keep/c"}, {"Key": "tmp/b"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["tmp/a", "tmp/b"]
    assert result["Errors"] == [{"Key": "keep/c", "Code": "AccessDenied", "Message": "Access Denied"}]
    left = [o["Key"] for o in root.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert left == ["keep/c"]
    all_denied = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "keep/c"}]})
    assert all_denied.get("Deleted", []) == [] and all_denied["Errors"][0]["Key"] == "keep/c"


def test_access_point_policy_with_bucket_delegation(em):
    root, control = em.client("s3"), em.client("s3control")
    root.put_object(Bucket=BUCKET, Key="raw/data.csv", Body=b"a,b")
    control.create_access_point(AccountId=ACCOUNT, Name="authz-ap" + SUFFIX, Bucket=BUCKET)
    ap_arn = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/authz-ap{SUFFIX}"
    s3 = em.client("s3", *make_user(em, "ap-reader"))
    control.put_access_point_policy(AccountId=ACCOUNT, Name="authz-ap" + SUFFIX, Policy=policy(
        allow("s3:GetObject", f"{ap_arn}/object/raw/*",
              Principal={"AWS": user_arn("ap-reader")})))
    # The access point grants, but the bucket has not delegated: denied.
    assert denied(lambda: s3.get_object(Bucket=ap_arn, Key="raw/data.csv"))["Code"] == "AccessDenied"
    put_bucket_policy(em, {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*",
                           "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                           "Condition": {"StringEquals": {"s3:DataAccessPointAccount": ACCOUNT}}})
    assert s3.get_object(Bucket=ap_arn, Key="raw/data.csv")["Body"].read() == b"a,b"
    # Delegation covers access point requests only, and the AP policy only raw/ reads.
    assert denied(lambda: s3.get_object(Bucket=BUCKET, Key="raw/data.csv"))["Code"] == "AccessDenied"
    err = denied(lambda: s3.put_object(Bucket=ap_arn, Key="raw/new.csv", Body=b"x"))
    assert f'on resource: "{ap_arn}/object/raw/new.csv"' in err["Message"]


def test_get_through_access_point_honours_explicit_bucket_deny(em):
    root, control = em.client("s3"), em.client("s3control")
    root.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    control.create_access_point(AccountId=ACCOUNT, Name="authz-ap2" + SUFFIX, Bucket=BUCKET)
    ap_arn = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/authz-ap2{SUFFIX}"
    s3 = em.client("s3", *make_user(em, "ap-user", allow("s3:*", "*")))
    assert s3.get_object(Bucket=ap_arn, Key="k")["Body"].read() == b"x"
    put_bucket_policy(em, {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": f"arn:aws:s3:::{BUCKET}/*",
                           "Condition": {"StringEquals": {"s3:DataAccessPointArn": ap_arn}}})
    assert denied(lambda: s3.get_object(Bucket=ap_arn, Key="k"))["Code"] == "AccessDenied"
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"x"


def test_root_is_subject_to_explicit_bucket_policy_deny(em):
    root = em.client("s3")
    put_bucket_policy(em, {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                           "Resource": f"arn:aws:s3:::{BUCKET}/*"})
    assert denied(lambda: root.put_object(Bucket=BUCKET, Key="k", Body=b"x"))["Code"] == "AccessDenied"
    root.delete_bucket_policy(Bucket=BUCKET)
    root.put_object(Bucket=BUCKET, Key="k", Body=b"x")


def test_list_bucket_needs_list_bucket_on_the_bucket_arn_and_sees_the_prefix(em):
    s3 = em.client("s3", *make_user(em, "lister", allow(
        "s3:ListBucket", f"arn:aws:s3:::{BUCKET}",
        Condition={"StringLike": {"s3:prefix": "home/${aws:username}/*"}})))
    s3.list_objects_v2(Bucket=BUCKET, Prefix=f"home/lister{SUFFIX}/")
    assert denied(lambda: s3.list_objects_v2(Bucket=BUCKET, Prefix="home/other/"))["Code"] == "AccessDenied"
    assert denied(lambda: s3.list_objects_v2(Bucket=BUCKET))["Code"] == "AccessDenied"
    assert denied(lambda: s3.list_buckets())["Code"] == "AccessDenied"


def test_missing_key_is_403_without_list_bucket_and_404_with_it(em):
    s3 = em.client("s3", *make_user(em, "getter", allow("s3:GetObject", f"arn:aws:s3:::{BUCKET}/*")))
    assert denied(lambda: s3.get_object(Bucket=BUCKET, Key="nope"))["Code"] == "AccessDenied"
    em.client("iam").put_user_policy(UserName="getter" + SUFFIX, PolicyName="list", PolicyDocument=policy(
        allow("s3:ListBucket", f"arn:aws:s3:::{BUCKET}")))
    assert denied(lambda: s3.get_object(Bucket=BUCKET, Key="nope"))["Code"] == "NoSuchKey"


def test_bucket_configuration_calls_map_to_their_own_actions(em):
    s3 = em.client("s3", *make_user(em, "configurer", allow(
        ["s3:PutEncryptionConfiguration", "s3:GetBucketPolicyStatus"], f"arn:aws:s3:::{BUCKET}")))
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    err = denied(lambda: s3.get_bucket_encryption(Bucket=BUCKET))
    assert "s3:GetEncryptionConfiguration" in err["Message"]
    err = denied(lambda: s3.put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"}))
    assert "s3:PutBucketVersioning" in err["Message"]
    err = denied(lambda: s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True}))
    assert "s3:PutBucketPublicAccessBlock" in err["Message"]


def test_anonymous_request_needs_a_public_grant(em):
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    root = em.client("s3")
    root.put_object(Bucket=BUCKET, Key="pub.txt", Body=b"p")
    # New buckets block public access (AWS default since 2023): open it for this test.
    root.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    anon = boto3.session.Session(region_name="us-east-1").client(
        "s3", verify=str(em.ca_bundle),
        config=Config(signature_version=UNSIGNED, proxies={"https": em.proxy_url}))
    err = denied(lambda: anon.get_object(Bucket=BUCKET, Key="pub.txt"))
    assert err["Code"] == "AccessDenied" and err["Message"] == "Access Denied"
    # A policy naming the account is not public: still denied.
    put_bucket_policy(em, allow("s3:GetObject", f"arn:aws:s3:::{BUCKET}/*",
                                Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    assert denied(lambda: anon.get_object(Bucket=BUCKET, Key="pub.txt"))["Code"] == "AccessDenied"
    put_bucket_policy(em, allow("s3:GetObject", f"arn:aws:s3:::{BUCKET}/*", Principal="*"))
    assert anon.get_object(Bucket=BUCKET, Key="pub.txt")["Body"].read() == b"p"
    # Anonymous callers never reach other services.
    sts = boto3.session.Session(region_name="us-east-1").client(
        "sts", verify=str(em.ca_bundle),
        config=Config(signature_version=UNSIGNED, proxies={"https": em.proxy_url}))
    with pytest.raises(ClientError) as info:
        sts.get_caller_identity()
    assert info.value.response["Error"]["Code"] == "MissingAuthenticationToken"


def test_restrict_public_buckets_blocks_anonymous_access(em):
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    root = em.client("s3")
    root.put_object(Bucket=BUCKET, Key="pub.txt", Body=b"p")
    root.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    put_bucket_policy(em, allow("s3:GetObject", f"arn:aws:s3:::{BUCKET}/*", Principal="*"))
    anon = boto3.session.Session(region_name="us-east-1").client(
        "s3", verify=str(em.ca_bundle),
        config=Config(signature_version=UNSIGNED, proxies={"https": em.proxy_url}))
    assert anon.get_object(Bucket=BUCKET, Key="pub.txt")["Body"].read() == b"p"
    root.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True})
    assert denied(lambda: anon.get_object(Bucket=BUCKET, Key="pub.txt"))["Code"] == "AccessDenied"


def test_multipart_parts_inherit_the_uploads_encryption(em):
    """UploadPart/Complete send no SSE header; the upload's SSE is what the policy sees."""
    s3 = em.client("s3", *make_user(em, "multipart", allow(
        ["s3:PutObject", "s3:AbortMultipartUpload"], f"arn:aws:s3:::{BUCKET}/*")))
    put_bucket_policy(em, {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                           "Resource": f"arn:aws:s3:::{BUCKET}/*",
                           "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}})
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="big.bin", ServerSideEncryption="AES256")
    part = s3.upload_part(Bucket=BUCKET, Key="big.bin", UploadId=upload["UploadId"], PartNumber=1,
                          Body=b"x" * 1024)
    s3.complete_multipart_upload(Bucket=BUCKET, Key="big.bin", UploadId=upload["UploadId"],
                                 MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
    head = em.client("s3").head_object(Bucket=BUCKET, Key="big.bin")
    assert head["ServerSideEncryption"] == "AES256"


def test_access_point_alias_is_decided_as_the_access_point(em):
    root, control = em.client("s3"), em.client("s3control")
    root.put_object(Bucket=BUCKET, Key="raw/a.txt", Body=b"a")
    alias = control.create_access_point(AccountId=ACCOUNT, Name="authz-alias" + SUFFIX,
                                        Bucket=BUCKET)["Alias"]
    ap_arn = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/authz-alias{SUFFIX}"
    s3 = em.client("s3", *make_user(em, "alias-user", allow("s3:GetObject", f"{ap_arn}/object/*")))
    err = denied(lambda: s3.get_object(Bucket=alias, Key="raw/a.txt"))
    # The identity policy passes the access point; the bucket has not delegated.
    assert err["Message"].endswith("because no resource-based policy allows the s3:GetObject action")
    assert f'on resource: "{ap_arn}/object/raw/a.txt"' in err["Message"]
    put_bucket_policy(em, {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*",
                           "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                           "Condition": {"StringEquals": {"s3:DataAccessPointAccount": ACCOUNT}}})
    assert s3.get_object(Bucket=alias, Key="raw/a.txt")["Body"].read() == b"a"


def _copy_source_ap(em, name: str) -> str:
    """A source bucket with one object and an access point NAME on it; the AP's ARN."""
    root, control = em.client("s3"), em.client("s3control")
    root.create_bucket(Bucket=BUCKET + "-src")
    root.put_object(Bucket=BUCKET + "-src", Key="raw/a.txt", Body=b"source")
    control.create_access_point(AccountId=ACCOUNT, Name=name + SUFFIX, Bucket=BUCKET + "-src")
    return f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/{name}{SUFFIX}"


def _delegate(em, bucket):
    put_bucket_policy(em, {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*",
                           "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                           "Condition": {"StringEquals": {"s3:DataAccessPointAccount": ACCOUNT}}},
                      bucket=bucket)


def test_copy_source_access_point_is_read_through_the_access_point(em):
    ap_arn = _copy_source_ap(em, "authz-copy-ap")
    s3 = em.client("s3", *make_user(em, "ap-copier",
                                    allow("s3:PutObject", f"arn:aws:s3:::{BUCKET}/*"),
                                    allow("s3:GetObject", f"{ap_arn}/object/*")))
    copy = lambda: s3.copy_object(Bucket=BUCKET, Key="copy.txt",  # noqa: E731
                                  CopySource={"Bucket": ap_arn, "Key": "raw/a.txt"})
    # Identity policy allows the access point, but the source bucket has not delegated.
    err = denied(copy)
    assert err["Code"] == "AccessDenied"
    assert f's3:GetObject on resource: "{ap_arn}/object/raw/a.txt"' in err["Message"]
    _delegate(em, BUCKET + "-src")
    copy()
    assert em.client("s3").get_object(Bucket=BUCKET, Key="copy.txt")["Body"].read() == b"source"


def test_copy_source_access_point_policy_can_deny(em):
    ap_arn = _copy_source_ap(em, "authz-copy-ap2")
    _delegate(em, BUCKET + "-src")
    em.client("s3control").put_access_point_policy(
        AccountId=ACCOUNT, Name="authz-copy-ap2" + SUFFIX, Policy=policy(
            {"Effect": "Deny", "Principal": {"AWS": user_arn("ap-copier2")},
             "Action": "s3:GetObject", "Resource": f"{ap_arn}/object/raw/*"}))
    s3 = em.client("s3", *make_user(em, "ap-copier2", allow("s3:*", "*")))
    err = denied(lambda: s3.copy_object(Bucket=BUCKET, Key="copy.txt",
                                        CopySource={"Bucket": ap_arn, "Key": "raw/a.txt"}))
    assert "explicit deny in a resource-based policy" in err["Message"]
    # The same object copied straight from the bucket is not behind the access point policy.
    s3.copy_object(Bucket=BUCKET, Key="copy.txt",
                   CopySource={"Bucket": BUCKET + "-src", "Key": "raw/a.txt"})


def test_copy_source_access_point_alias_reaches_the_bucket(em):
    ap_arn = _copy_source_ap(em, "authz-copy-alias")
    alias = em.client("s3control").get_access_point(
        AccountId=ACCOUNT, Name="authz-copy-alias" + SUFFIX)["Alias"]
    _delegate(em, BUCKET + "-src")
    s3 = em.client("s3", *make_user(em, "alias-copier",
                                    allow("s3:PutObject", f"arn:aws:s3:::{BUCKET}/*"),
                                    allow("s3:GetObject", f"{ap_arn}/object/*")))
    s3.copy_object(Bucket=BUCKET, Key="copy.txt", CopySource={"Bucket": alias, "Key": "raw/a.txt"})
    assert em.client("s3").get_object(Bucket=BUCKET, Key="copy.txt")["Body"].read() == b"source"
