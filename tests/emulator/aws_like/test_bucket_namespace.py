"""aws-like mode: bucket names are global; demo-, test- and example- names are taken.

S3 user guide, "General purpose bucket naming rules": names are unique across
all accounts in a partition. S3 API reference, Error responses:
BucketAlreadyExists (409) "The requested bucket name is not available...";
HeadBucket on a bucket the caller may not access: 403 with no body.
"""
import pytest
from botocore.exceptions import ClientError

from labkit import config


@pytest.mark.parametrize("bucket", ["demo-landing-zone", "test-analysis", "example-data"])
def test_create_of_a_taken_name_is_bucket_already_exists(aws_like_em, bucket):
    s3 = aws_like_em.client("s3")
    with pytest.raises(ClientError) as refused:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    error = refused.value.response
    assert error["Error"]["Code"] == "BucketAlreadyExists"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert "not available" in error["Error"]["Message"]


def test_head_of_a_taken_bucket_is_403_and_reads_are_access_denied(aws_like_em):
    s3 = aws_like_em.client("s3")
    with pytest.raises(ClientError) as head:
        s3.head_bucket(Bucket="demo-analysis")
    assert head.value.response["Error"]["Code"] == "403"
    with pytest.raises(ClientError) as listing:
        s3.list_objects_v2(Bucket="demo-analysis")
    assert listing.value.response["Error"]["Code"] == "AccessDenied"


def test_other_names_are_free_and_ours_once_created(aws_like_em):
    s3 = aws_like_em.client("s3", region=config.region())
    s3.create_bucket(Bucket="ada-landing-zone",
                     CreateBucketConfiguration={"LocationConstraint": config.region()}) \
        if config.region() != "us-east-1" else s3.create_bucket(Bucket="ada-landing-zone")
    assert s3.head_bucket(Bucket="ada-landing-zone")["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_the_namespace_is_open_when_the_mode_is_off(em):
    from labkit.emulator import aws_like

    aws_like.enable(False)
    try:
        s3 = em.client("s3")
        s3.create_bucket(Bucket="demo-free-when-off")
        assert s3.head_bucket(Bucket="demo-free-when-off")["ResponseMetadata"]["HTTPStatusCode"] == 200
    finally:
        aws_like.enable(None)
