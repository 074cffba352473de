"""S3's limits on time (S3 user guide, "Sharing objects with presigned URLs": a SigV4
presigned URL is valid for at most seven days and not after it expires; API reference,
"Error responses": RequestTimeTooSkewed beyond 15 minutes of clock difference)."""
import ssl
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

BUCKET = "request-times-bucket"


@pytest.fixture(scope="module")
def s3(em):
    client = em.client("s3")
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="k", Body=b"hello")
    return client


def _get(em, url: str):
    context = ssl.create_default_context(cafile=str(em.ca_bundle))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"https": em.proxy_url}),
                                         urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_a_presigned_url_works_until_it_expires(em, s3):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "k"},
                                    ExpiresIn=2)
    assert _get(em, url) == (200, b"hello")
    time.sleep(3.2)
    status, body = _get(em, url)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    assert b"Request has expired" in body


def test_a_sigv4_presigned_url_works_until_it_expires(em, s3):
    client = _v4_client(em)
    url = client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "k"},
                                        ExpiresIn=2)
    assert "X-Amz-Signature" in url and _get(em, url) == (200, b"hello")
    time.sleep(3.2)
    status, body = _get(em, url)
    assert status == 403 and b"Request has expired" in body


def _v4_client(em):
    import boto3
    from botocore.config import Config

    return boto3.session.Session(
        aws_access_key_id=em.root.access_key_id, aws_secret_access_key=em.root.secret_access_key,
        region_name="us-east-1").client("s3", verify=str(em.ca_bundle), config=Config(
            signature_version="s3v4", proxies={"https": em.proxy_url}))


def test_no_presigned_url_lives_longer_than_a_week(em, s3):
    s3 = _v4_client(em)
    week = 7 * 24 * 3600
    ok = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "k"},
                                   ExpiresIn=week)
    assert _get(em, ok)[0] == 200
    too_long = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "k"},
                                         ExpiresIn=week + 1)
    status, body = _get(em, too_long)
    assert status == 400 and b"AuthorizationQueryParametersError" in body
    assert b"must be less than a week" in body


def test_a_request_signed_with_a_clock_far_off_is_refused(em, s3, monkeypatch):
    import botocore.auth

    real = botocore.auth.datetime.datetime

    class Late(real):
        @classmethod
        def utcnow(cls):
            return real.utcnow() - __import__("datetime").timedelta(minutes=20)

        @classmethod
        def now(cls, tz=None):
            return real.now(tz) - __import__("datetime").timedelta(minutes=20)

    monkeypatch.setattr(botocore.auth.datetime, "datetime", Late)
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket=BUCKET, Key="k")
    assert refused.value.response["Error"]["Code"] == "RequestTimeTooSkewed"
    monkeypatch.undo()
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket=BUCKET, Key="k", IfMatch='"x"')  # the clock is back: S3 answers
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
