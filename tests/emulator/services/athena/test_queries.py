"""Athena queries through boto3: DuckDB runs them over the lab's S3, Glue holds the tables.

Expectations from the Athena API Reference (StartQueryExecution, GetQueryExecution,
GetQueryResults: the first row of a SELECT's results is the header row; ColumnInfo
types as Trino names them) and the user guide ("Working with query results": the
results are QUERY_ID.csv and QUERY_ID.csv.metadata in the output location).
"""
from __future__ import annotations

import pytest

from tests.emulator.services.athena.helpers import ORDERS_CSV, REGION, build_lake, rows, run


@pytest.fixture(scope="module")
def athena(em):
    build_lake(em)
    return em.client("athena", region=REGION)


def test_select_runs_over_the_csv_in_s3(em, athena):
    done = run(athena, "SELECT region, count(*) AS n, sum(amount) AS total FROM orders "
                       "GROUP BY region ORDER BY region")
    assert done["Status"]["State"] == "SUCCEEDED"
    assert rows(athena, done["QueryExecutionId"]) == [
        ["region", "n", "total"], ["ap", "1", "7.25"], ["eu", "2", "10.5"], ["us", "1", "4.0"]]
    # The bytes scanned are the object's bytes (a CSV is read whole).
    assert done["Statistics"]["DataScannedInBytes"] == len(ORDERS_CSV)
    page = athena.get_query_results(QueryExecutionId=done["QueryExecutionId"])
    info = {c["Name"]: c["Type"] for c in page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]}
    assert info == {"region": "varchar", "n": "bigint", "total": "double"}


def test_results_are_written_as_csv_and_metadata(em, athena):
    done = run(athena, "SELECT customer, amount FROM orders WHERE order_id = 3")
    qid = done["QueryExecutionId"]
    assert done["ResultConfiguration"]["OutputLocation"] == f"s3://athena-results/q/{qid}.csv"
    s3 = em.client("s3", region=REGION)
    body = s3.get_object(Bucket="athena-results", Key=f"q/{qid}.csv")["Body"].read()
    assert body == b'"customer","amount"\n"cy",\n'  # NULL is written as nothing
    s3.head_object(Bucket="athena-results", Key=f"q/{qid}.csv.metadata")
    assert rows(athena, qid) == [["customer", "amount"], ["cy", None]]


def test_results_come_in_pages(em, athena):
    qid = run(athena, "SELECT order_id FROM orders ORDER BY order_id")["QueryExecutionId"]
    first = athena.get_query_results(QueryExecutionId=qid, MaxResults=2)
    assert [r["Data"][0]["VarCharValue"] for r in first["ResultSet"]["Rows"]] == ["order_id", "1"]
    assert rows(athena, qid, MaxResults=2) == [["order_id"], ["1"], ["2"], ["3"], ["4"]]


def test_a_missing_table_fails_the_query_as_athena_words_it(em, athena):
    done = run(athena, "SELECT * FROM sales.nope")
    status = done["Status"]
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"] == ("TABLE_NOT_FOUND: line 1:15: Table "
                                           "'awsdatacatalog.sales.nope' does not exist")
    assert status["AthenaError"]["ErrorCategory"] == 2


def test_a_missing_column_and_a_syntax_error(em, athena):
    done = run(athena, "SELECT nope FROM orders")
    assert done["Status"]["StateChangeReason"].startswith(
        "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved")
    bad = run(athena, "SELECT order_id FORM orders")
    assert bad["Status"]["State"] == "FAILED"
    assert bad["Status"]["StateChangeReason"].startswith("line 1:")


def test_list_and_batch_get(em, athena):
    qid = run(athena, "SELECT 1")["QueryExecutionId"]
    listed = athena.list_query_executions(WorkGroup="primary")["QueryExecutionIds"]
    assert listed[0] == qid
    got = athena.batch_get_query_execution(QueryExecutionIds=[qid, "no-such-id"])
    assert [e["QueryExecutionId"] for e in got["QueryExecutions"]] == [qid]
    assert got["UnprocessedQueryExecutionIds"][0]["QueryExecutionId"] == "no-such-id"


def test_no_output_location_is_refused(em, athena):
    import botocore.exceptions

    with pytest.raises(botocore.exceptions.ClientError) as info:
        athena.start_query_execution(QueryString="SELECT 1")
    err = info.value.response["Error"]
    assert err["Code"] == "InvalidRequestException"
    assert err["Message"].startswith("No output location provided.")


def test_an_enforced_workgroup_and_its_bytes_cutoff(em, athena):
    # "Override client-side settings": the workgroup's result location wins when enforced;
    # a query scanning more than BytesScannedCutoffPerQuery is canceled.
    athena.create_work_group(Name="capped", Configuration={
        "ResultConfiguration": {"OutputLocation": "s3://athena-results/capped/"},
        "EnforceWorkGroupConfiguration": True, "BytesScannedCutoffPerQuery": 10_000_000})
    em.client("s3", region=REGION).put_object(Bucket="lake-data", Key="big/rows.csv",
                                              Body=b"1,ana,eu,1.5\n" * 800_000)  # 11.2 MB
    assert run(athena, "CREATE EXTERNAL TABLE big (order_id bigint, customer string, region "
                       "string, amount double) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
                       "LOCATION 's3://lake-data/big/'")["Status"]["State"] == "SUCCEEDED"
    small = run(athena, "SELECT 1 AS one", WorkGroup="capped")
    assert small["Status"]["State"] == "SUCCEEDED"
    assert small["ResultConfiguration"]["OutputLocation"].startswith(
        "s3://athena-results/capped/")
    big = run(athena, "SELECT count(*) FROM big", WorkGroup="capped")
    assert big["Status"]["State"] == "CANCELLED"
    assert "Bytes scanned limit" in big["Status"]["StateChangeReason"]
