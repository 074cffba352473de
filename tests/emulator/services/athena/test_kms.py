"""SSE-KMS data and results (Athena "Encrypting Athena query results stored in Amazon S3";
S3 "Using server-side encryption with AWS KMS keys"): S3 calls KMS as the caller, so an
analyst needs kms:Decrypt to read SSE-KMS data and kms:GenerateDataKey to write
SSE_KMS results; the key policy and the caller's policies decide."""
from __future__ import annotations

import pytest

from tests.emulator.services.athena.helpers import REGION, build_lake, rows, run
from tests.emulator.services.athena.test_as_caller import analyst_statements
from tests.emulator.support import user_keys


@pytest.fixture(scope="module")
def key_arn(em):
    build_lake(em)
    arn = em.client("kms", region=REGION).create_key()["KeyMetadata"]["Arn"]
    s3 = em.client("s3", region=REGION)
    s3.put_object(Bucket="lake-data", Key="secret/orders.csv", Body=b"1,ana,eu,10.5\n",
                  ServerSideEncryption="aws:kms", SSEKMSKeyId=arn)
    athena = em.client("athena", region=REGION)
    done = run(athena, "CREATE EXTERNAL TABLE secret_orders (order_id bigint, customer string, "
                       "region string, amount double) ROW FORMAT DELIMITED FIELDS TERMINATED "
                       "BY ',' LOCATION 's3://lake-data/secret/'")
    assert done["Status"]["State"] == "SUCCEEDED"
    return arn


def _kms(actions, arn):
    return {"Effect": "Allow", "Action": actions, "Resource": arn}


def _sse_kms(arn):
    return {"OutputLocation": "s3://athena-results/kms/",
            "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": arn}}


def test_sse_kms_results_with_the_key(em, key_arn):
    keys = user_keys(em, "kms-analyst", *analyst_statements(),
                     _kms(["kms:GenerateDataKey", "kms:Decrypt"], key_arn))
    athena = em.client("athena", *keys, region=REGION)
    done = run(athena, "SELECT customer FROM secret_orders", output=None,
               ResultConfiguration=_sse_kms(key_arn))
    assert done["Status"]["State"] == "SUCCEEDED", done["Status"]
    assert done["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    head = em.client("s3", region=REGION).head_object(
        Bucket="athena-results", Key=f"kms/{done['QueryExecutionId']}.csv")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key_arn
    assert rows(athena, done["QueryExecutionId"]) == [["customer"], ["ana"]]


def test_no_generate_data_key_for_the_results(em, key_arn):
    keys = user_keys(em, "kms-nowrite", *analyst_statements(), _kms("kms:Decrypt", key_arn))
    athena = em.client("athena", *keys, region=REGION)
    done = run(athena, "SELECT 1 AS x", output=None, ResultConfiguration=_sse_kms(key_arn))
    assert done["Status"]["State"] == "FAILED"
    assert done["Status"]["StateChangeReason"].startswith(
        f"Access denied when writing output to url: s3://athena-results/kms/"
        f"{done['QueryExecutionId']}.csv . Please ensure you are allowed to access the S3 bucket.")


def test_no_decrypt_for_the_data(em, key_arn):
    keys = user_keys(em, "kms-noread", *analyst_statements())
    athena = em.client("athena", *keys, region=REGION)
    status = run(athena, "SELECT * FROM secret_orders")["Status"]
    assert status["State"] == "FAILED"
    reason = status["StateChangeReason"]
    assert "is not authorized to perform: kms:Decrypt" in reason
    assert reason.endswith("(Path: s3://lake-data/secret/orders.csv)")
