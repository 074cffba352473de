"""S3 object tags in policies, and operations that need several actions, request by request.

AWS documentation cited per test:
- "Tagging and access control policies", S3 User Guide
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html):
  s3:ExistingObjectTag/<tag-key> on reads of existing objects; s3:RequestObjectTag/<tag-key>
  and s3:RequestObjectTagKeys on PutObject and PutObjectTagging.
- S3 API reference PutObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html):
  "To use tagging ... you must have the s3:PutObjectTagging permission" besides s3:PutObject.
- S3 API reference GetObjectAttributes
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html): needs
  s3:GetObject and s3:GetObjectAttributes; with a version id s3:GetObjectVersion and
  s3:GetObjectVersionAttributes.
- Service Authorization Reference, Amazon S3 (actions table): ListBucketVersions supports
  s3:prefix, s3:delimiter and s3:max-keys.
- S3 API reference DeleteBucketPolicy
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html): the bucket
  owner's root can always get, put and delete the bucket policy.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from tests.emulator.support import policy, user_keys

ACCOUNT = "123456789012"
AWS_CLI = Path(sys.executable).parent / "aws"
_counter = iter(range(1, 10_000))


@pytest.fixture
def names(em):
    n = next(_counter)
    bucket = f"tag-rules-bucket-{n}"
    em.client("s3").create_bucket(Bucket=bucket)
    return bucket, f"-t{n}"


user = user_keys


def error(call):
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"], info.value.response["Error"].get("Message", "")


def cli(em, tmp_path, key, secret, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(em.client_environ())
    env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=str(tmp_path / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"))
    return subprocess.run([str(AWS_CLI), *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)


def tagged_reader(em, bucket, suffix):
    return user(em, "tag-reader" + suffix, {
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/classification": "public"}}})


def test_existing_object_tag_allows_reading_tagged_objects_only(em, names):
    bucket, suffix = names
    root = em.client("s3")
    root.put_object(Bucket=bucket, Key="open.csv", Body=b"1", Tagging="classification=public")
    root.put_object(Bucket=bucket, Key="secret.csv", Body=b"2",
                    Tagging="classification=restricted")
    s3 = em.client("s3", *tagged_reader(em, bucket, suffix))
    assert s3.get_object(Bucket=bucket, Key="open.csv")["Body"].read() == b"1"
    s3.head_object(Bucket=bucket, Key="open.csv")
    assert error(lambda: s3.get_object(Bucket=bucket, Key="secret.csv"))[0] == "AccessDenied"
    # Retagging changes the answer: the tags are read at request time.
    root.put_object_tagging(Bucket=bucket, Key="secret.csv",
                            Tagging={"TagSet": [{"Key": "classification", "Value": "public"}]})
    assert s3.get_object(Bucket=bucket, Key="secret.csv")["Body"].read() == b"2"


def test_existing_object_tag_in_a_bucket_policy_deny(em, names):
    bucket, suffix = names
    root = em.client("s3")
    root.put_object(Bucket=bucket, Key="pii.csv", Body=b"x", Tagging="pii=true")
    root.put_object(Bucket=bucket, Key="ok.csv", Body=b"y")
    root.put_bucket_policy(Bucket=bucket, Policy=policy({
        "Effect": "Deny", "Principal": "*", "Action": ["s3:GetObject", "s3:GetObjectTagging"],
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/pii": "true"}}}))
    s3 = em.client("s3", *user(em, "tag-all" + suffix, {"Effect": "Allow", "Action": "s3:*",
                                                         "Resource": "*"}))
    assert s3.get_object(Bucket=bucket, Key="ok.csv")["Body"].read() == b"y"
    assert error(lambda: s3.get_object(Bucket=bucket, Key="pii.csv"))[0] == "AccessDenied"
    assert error(lambda: s3.get_object_tagging(Bucket=bucket, Key="pii.csv"))[0] == "AccessDenied"


def test_aws_s3_cp_reads_a_tag_allowed_object(em, names, tmp_path):
    """`aws s3 cp` starts with HeadObject: that must see the object's tags too."""
    bucket, suffix = names
    root = em.client("s3")
    root.put_object(Bucket=bucket, Key="open.csv", Body=b"a,b\n", Tagging="classification=public")
    root.put_object(Bucket=bucket, Key="closed.csv", Body=b"c", Tagging="classification=internal")
    key, secret = tagged_reader(em, bucket, suffix)
    got = cli(em, tmp_path, key, secret, "s3", "cp", f"s3://{bucket}/open.csv", "open.csv")
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "open.csv").read_bytes() == b"a,b\n"
    got = cli(em, tmp_path, key, secret, "s3", "cp", f"s3://{bucket}/closed.csv", "closed.csv")
    assert got.returncode != 0 and "403" in got.stderr


def test_request_object_tag_deny_stops_the_upload(em, names):
    bucket, suffix = names
    s3 = em.client("s3", *user(em, "tag-writer" + suffix, {
        "Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectTagging"],
        "Resource": f"arn:aws:s3:::{bucket}/*"}, {
        "Effect": "Deny", "Action": ["s3:PutObject", "s3:PutObjectTagging"],
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"s3:RequestObjectTag/classification": "public"}}}))
    s3.put_object(Bucket=bucket, Key="a", Body=b"1", Tagging="classification=internal")
    assert error(lambda: s3.put_object(Bucket=bucket, Key="b", Body=b"1",
                                       Tagging="classification=public"))[0] == "AccessDenied"
    # PutObjectTagging: the Tagging body is the request's tags.
    assert error(lambda: s3.put_object_tagging(Bucket=bucket, Key="a", Tagging={"TagSet": [
        {"Key": "classification", "Value": "public"}]}))[0] == "AccessDenied"
    s3.put_object_tagging(Bucket=bucket, Key="a", Tagging={"TagSet": [
        {"Key": "classification", "Value": "restricted"}]})
    # CreateMultipartUpload carries x-amz-tagging too.
    assert error(lambda: s3.create_multipart_upload(
        Bucket=bucket, Key="big", Tagging="classification=public"))[0] == "AccessDenied"


def test_request_object_tag_keys_for_all_values(em, names):
    bucket, suffix = names
    s3 = em.client("s3", *user(em, "tag-keys" + suffix, {
        "Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectTagging"],
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"ForAllValues:StringEquals": {
            "s3:RequestObjectTagKeys": ["project", "classification"]}}}))
    s3.put_object(Bucket=bucket, Key="a", Body=b"1", Tagging="project=x&classification=public")
    code, _ = error(lambda: s3.put_object(Bucket=bucket, Key="b", Body=b"1",
                                          Tagging="project=x&owner=me"))
    assert code == "AccessDenied"
    assert error(lambda: s3.put_object_tagging(Bucket=bucket, Key="a", Tagging={"TagSet": [
        {"Key": "cost-center", "Value": "7"}]}))[0] == "AccessDenied"


def test_put_object_with_tags_needs_put_object_tagging(em, names):
    bucket, suffix = names
    s3 = em.client("s3", *user(em, "tag-no-tagging" + suffix, {
        "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    s3.put_object(Bucket=bucket, Key="plain", Body=b"1")
    code, message = error(lambda: s3.put_object(Bucket=bucket, Key="tagged", Body=b"1",
                                                Tagging="project=x"))
    assert code == "AccessDenied" and "s3:PutObjectTagging" in message


def test_put_object_with_tags_needs_put_object_tagging_cli(em, names, tmp_path):
    bucket, suffix = names
    key, secret = user(em, "tag-cli-writer" + suffix, {
        "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    (tmp_path / "f.txt").write_text("hello")
    args = ("s3api", "put-object", "--bucket", bucket, "--key", "f.txt", "--body", "f.txt")
    assert cli(em, tmp_path, key, secret, *args).returncode == 0
    got = cli(em, tmp_path, key, secret, *args, "--tagging", "project=x")
    assert got.returncode != 0 and "AccessDenied" in got.stderr


def test_get_object_attributes_needs_get_object_too(em, names):
    bucket, suffix = names
    em.client("s3").put_object(Bucket=bucket, Key="k", Body=b"1")
    s3 = em.client("s3", *user(em, "attrs-only" + suffix, {
        "Effect": "Allow", "Action": "s3:GetObjectAttributes",
        "Resource": f"arn:aws:s3:::{bucket}/*"}))
    code, message = error(lambda: s3.get_object_attributes(
        Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"]))
    assert code == "AccessDenied" and "s3:GetObject " in message
    both = em.client("s3", *user(em, "attrs-both" + suffix, {
        "Effect": "Allow", "Action": ["s3:GetObjectAttributes", "s3:GetObject"],
        "Resource": f"arn:aws:s3:::{bucket}/*"}))
    assert both.get_object_attributes(Bucket=bucket, Key="k",
                                      ObjectAttributes=["ObjectSize"])["ObjectSize"] == 1
    only_get = em.client("s3", *user(em, "attrs-get" + suffix, {
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    code, message = error(lambda: only_get.get_object_attributes(
        Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"]))
    assert code == "AccessDenied" and "s3:GetObjectAttributes" in message


def test_get_object_attributes_of_a_version_needs_the_version_actions(em, names):
    bucket, suffix = names
    root = em.client("s3")
    root.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    version = root.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    plain = em.client("s3", *user(em, "attrs-plain" + suffix, {
        "Effect": "Allow", "Action": ["s3:GetObjectAttributes", "s3:GetObject"],
        "Resource": f"arn:aws:s3:::{bucket}/*"}))
    code, message = error(lambda: plain.get_object_attributes(
        Bucket=bucket, Key="k", VersionId=version, ObjectAttributes=["ObjectSize"]))
    assert code == "AccessDenied" and "s3:GetObjectVersion" in message
    versioned = em.client("s3", *user(em, "attrs-version" + suffix, {
        "Effect": "Allow", "Action": ["s3:GetObjectVersionAttributes", "s3:GetObjectVersion"],
        "Resource": f"arn:aws:s3:::{bucket}/*"}))
    assert versioned.get_object_attributes(Bucket=bucket, Key="k", VersionId=version,
                                           ObjectAttributes=["ObjectSize"])["ObjectSize"] == 1


def test_list_object_versions_honours_prefix(em, names):
    bucket, suffix = names
    s3 = em.client("s3", *user(em, "versions-lister" + suffix, {
        "Effect": "Allow", "Action": "s3:ListBucketVersions",
        "Resource": f"arn:aws:s3:::{bucket}",
        "Condition": {"StringEquals": {"s3:prefix": "team/"},
                      "NumericLessThanEquals": {"s3:max-keys": "100"}}}))
    s3.list_object_versions(Bucket=bucket, Prefix="team/", MaxKeys=50)
    assert error(lambda: s3.list_object_versions(Bucket=bucket, Prefix="other/",
                                                 MaxKeys=50))[0] == "AccessDenied"
    assert error(lambda: s3.list_object_versions(Bucket=bucket, Prefix="team/",
                                                 MaxKeys=500))[0] == "AccessDenied"


def test_root_recovers_from_a_bucket_policy_that_denies_everyone(em, names):
    bucket, _ = names
    root = em.client("s3")
    lockout = policy({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                      "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]})
    root.put_bucket_policy(Bucket=bucket, Policy=lockout)
    assert error(lambda: root.list_objects_v2(Bucket=bucket))[0] == "AccessDenied"
    assert json.loads(root.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    root.put_bucket_policy(Bucket=bucket, Policy=lockout)
    root.delete_bucket_policy(Bucket=bucket)
    root.list_objects_v2(Bucket=bucket)  # unlocked again


def test_root_deletes_a_lockout_policy_with_the_cli(em, names, tmp_path):
    bucket, _ = names
    em.client("s3").put_bucket_policy(Bucket=bucket, Policy=policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}))
    key, secret = em.root.access_key_id, em.root.secret_access_key
    assert cli(em, tmp_path, key, secret, "s3", "ls", f"s3://{bucket}").returncode != 0
    got = cli(em, tmp_path, key, secret, "s3api", "delete-bucket-policy", "--bucket", bucket)
    assert got.returncode == 0, got.stderr
    assert cli(em, tmp_path, key, secret, "s3", "ls", f"s3://{bucket}").returncode == 0


def test_copy_object_reads_the_source_with_its_tags(em, names):
    """CopyObject needs s3:GetObject on the source: s3:ExistingObjectTag is the source's tags."""
    bucket, suffix = names
    root = em.client("s3")
    root.put_object(Bucket=bucket, Key="src-open", Body=b"1", Tagging="classification=public")
    root.put_object(Bucket=bucket, Key="src-closed", Body=b"2", Tagging="classification=secret")
    s3 = em.client("s3", *user(em, "tag-copier" + suffix, {
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/classification": "public"}}}, {
        "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    s3.copy_object(Bucket=bucket, Key="dst-1", CopySource={"Bucket": bucket, "Key": "src-open"})
    code, message = error(lambda: s3.copy_object(
        Bucket=bucket, Key="dst-2", CopySource={"Bucket": bucket, "Key": "src-closed"}))
    assert code == "AccessDenied" and "src-closed" in message
    # Replacing the tags on copy needs s3:PutObjectTagging as well.
    code, message = error(lambda: s3.copy_object(
        Bucket=bucket, Key="dst-3", CopySource={"Bucket": bucket, "Key": "src-open"},
        TaggingDirective="REPLACE", Tagging="classification=public"))
    assert code == "AccessDenied" and "s3:PutObjectTagging" in message
