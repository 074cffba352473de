"""A query runs with the caller's own permissions (Athena "Identity and access management
in Athena"; the Knowledge Center's "Why do I get Access Denied errors when I run a query
in Amazon Athena?"): athena:StartQueryExecution on the workgroup, glue:GetTable on the
catalog, database and table, s3:ListBucket / s3:GetObject on the data (bucket policies
apply), s3:PutObject on the result location. A refusal inside the query is a FAILED
query whose StateChangeReason names what was refused. Athena calls S3 on the caller's
behalf: aws:CalledVia is athena.amazonaws.com, and CloudTrail says invokedBy."""
from __future__ import annotations

import json

import botocore.exceptions
import pytest

from labkit.emulator.services.cloudtrail.store import STORE
from tests.emulator.services.athena.helpers import REGION, build_lake, rows, run
from tests.emulator.support import user_keys

ACCOUNT = "123456789012"
GLUE = [f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog",
        f"arn:aws:glue:{REGION}:{ACCOUNT}:database/sales",
        f"arn:aws:glue:{REGION}:{ACCOUNT}:table/sales/*"]
WORKGROUP = f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/primary"


def analyst_statements(read_data=True, list_data=True, write_results=True, glue=True,
                       workgroup=WORKGROUP):
    out = [{"Effect": "Allow", "Action": ["athena:StartQueryExecution",
                                          "athena:GetQueryExecution", "athena:GetQueryResults"],
            "Resource": workgroup},
           {"Effect": "Allow", "Action": ["s3:GetObject"] + (["s3:PutObject"] if write_results
                                                              else []),
            "Resource": "arn:aws:s3:::athena-results/*"}]
    if glue:
        out.append({"Effect": "Allow", "Action": ["glue:GetTable", "glue:GetPartitions"],
                    "Resource": GLUE})
    if read_data:
        out.append({"Effect": "Allow", "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::lake-data/*"})
    if list_data:
        out.append({"Effect": "Allow", "Action": "s3:ListBucket",
                    "Resource": "arn:aws:s3:::lake-data"})
    return out


@pytest.fixture(scope="module")
def lake(em):
    build_lake(em)


def _athena(em, name, *statements):
    return em.client("athena", *user_keys(em, name, *statements), region=REGION)


SQL = "SELECT count(*) AS n FROM orders"


def test_an_analyst_with_every_permission_gets_the_rows(em, lake):
    athena = _athena(em, "analyst-ok", *analyst_statements())
    done = run(athena, SQL)
    assert done["Status"]["State"] == "SUCCEEDED", done["Status"]
    assert rows(athena, done["QueryExecutionId"]) == [["n"], ["4"]]


def test_no_get_object_on_the_data(em, lake):
    athena = _athena(em, "analyst-noread", *analyst_statements(read_data=False))
    status = run(athena, SQL)["Status"]
    assert status["State"] == "FAILED"
    reason = status["StateChangeReason"]
    assert reason.startswith("com.amazonaws.services.s3.model.AmazonS3Exception: Access Denied "
                             "(Service: Amazon S3; Status Code: 403; Error Code: AccessDenied;")
    assert reason.endswith("(Path: s3://lake-data/orders/orders.csv)")
    assert status["AthenaError"]["ErrorCategory"] == 2


def test_no_list_bucket_on_the_data(em, lake):
    athena = _athena(em, "analyst-nolist", *analyst_statements(list_data=False))
    status = run(athena, SQL)["Status"]
    assert status["StateChangeReason"] == "Permission denied on S3 path: s3://lake-data/orders/"


def test_no_put_object_on_the_result_location(em, lake):
    athena = _athena(em, "analyst-nowrite", *analyst_statements(write_results=False))
    done = run(athena, SQL)
    qid = done["QueryExecutionId"]
    assert done["Status"]["State"] == "FAILED"
    assert done["Status"]["StateChangeReason"] == (
        f"Access denied when writing output to url: s3://athena-results/q/{qid}.csv . Please "
        "ensure you are allowed to access the S3 bucket. If you are encrypting query results "
        "with KMS key, please ensure you are allowed to access your KMS key")
    assert done["Status"]["AthenaError"]["ErrorType"] == 401


def test_no_glue_get_table(em, lake):
    athena = _athena(em, "analyst-noglue", *analyst_statements(glue=False))
    reason = run(athena, SQL)["Status"]["StateChangeReason"]
    assert reason.startswith(
        f"Insufficient permissions to execute the query. User: arn:aws:iam::{ACCOUNT}:user/"
        "analyst-noglue is not authorized to perform: glue:GetTable on resource: ")
    assert "(Service: AWSGlue; Status Code: 400; Error Code: AccessDeniedException;" in reason


def test_a_workgroup_the_caller_may_not_use(em, lake):
    athena = _athena(em, "analyst-otherwg", *analyst_statements(
        workgroup=f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/analysts"))
    with pytest.raises(botocore.exceptions.ClientError) as info:
        run(athena, SQL)
    err = info.value.response["Error"]
    assert err["Code"] == "AccessDeniedException"
    assert err["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/analyst-otherwg is not authorized to perform: "
        f"athena:StartQueryExecution on resource: \"{WORKGROUP}\" because no identity-based "
        "policy allows the athena:StartQueryExecution action")


def test_a_bucket_policy_deny_applies(em, lake):
    s3 = em.client("s3", region=REGION)
    athena = _athena(em, "analyst-bp", *analyst_statements())
    s3.put_bucket_policy(Bucket="lake-data", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/analyst-bp"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::lake-data/*"}]}))
    try:
        status = run(athena, SQL)["Status"]
    finally:
        s3.delete_bucket_policy(Bucket="lake-data")
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"].endswith("(Path: s3://lake-data/orders/orders.csv)")


def test_data_readable_only_through_athena(em, lake):
    # aws:CalledVia: the analyst may read the data only when Athena reads it for them.
    statements = analyst_statements(read_data=False) + [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::lake-data/*",
        "Condition": {"ForAnyValue:StringEquals": {"aws:CalledVia": "athena.amazonaws.com"}}}]
    keys = user_keys(em, "analyst-via", *statements)
    athena = em.client("athena", *keys, region=REGION)
    done = run(athena, SQL)
    assert done["Status"]["State"] == "SUCCEEDED", done["Status"]
    with pytest.raises(botocore.exceptions.ClientError) as info:
        em.client("s3", *keys, region=REGION).get_object(Bucket="lake-data",
                                                        Key="orders/orders.csv")
    assert info.value.response["Error"]["Code"] == "AccessDenied"


def test_cloudtrail_records_the_query_and_the_reads_made_for_it(em, lake):
    athena = _athena(em, "analyst-trail", *analyst_statements())
    run(athena, SQL)
    mine = [e.record for e in STORE.newest_first()
            if e.record["userIdentity"].get("userName") == "analyst-trail"]
    names = {r["eventName"] for r in mine}
    assert {"StartQueryExecution", "GetTable", "ListObjects", "GetObject",
            "PutObject"} <= names, names
    start = next(r for r in mine if r["eventName"] == "StartQueryExecution")
    assert start["eventSource"] == "athena.amazonaws.com"
    assert "invokedBy" not in start["userIdentity"]
    read = next(r for r in mine if r["eventName"] == "GetObject")
    assert read["userIdentity"]["invokedBy"] == "athena.amazonaws.com"
    assert read["sourceIPAddress"] == "athena.amazonaws.com"
    assert read["requestParameters"]["key"] == "orders/orders.csv"
    table = next(r for r in mine if r["eventName"] == "GetTable")
    assert table["eventSource"] == "glue.amazonaws.com"
    assert table["userIdentity"]["invokedBy"] == "athena.amazonaws.com"
