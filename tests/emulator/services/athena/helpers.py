"""Builders shared by the Athena request-level tests."""
from __future__ import annotations

import time

REGION = "us-east-1"
ORDERS_CSV = (b"order_id,customer,region,amount\n"
              b"1,ana,eu,10.5\n2,bo,us,4\n3,cy,eu,\n4,di,ap,7.25\n")


def wait(athena, query_id: str, timeout: float = 30.0) -> dict:
    """The QueryExecution once it is in a final state (polls with backoff, as clients do)."""
    deadline, pause = time.time() + timeout, 0.05
    while True:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if execution["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return execution
        if time.time() > deadline:
            raise AssertionError(f"query {query_id} still {execution['Status']['State']}")
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


def run(athena, sql: str, database: str = "sales", output: str = "s3://athena-results/q/",
        **kwargs) -> dict:
    """Start SQL and wait for it; its QueryExecution."""
    if output is not None:
        kwargs.setdefault("ResultConfiguration", {"OutputLocation": output})
    query_id = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": database}, **kwargs
    )["QueryExecutionId"]
    return wait(athena, query_id)


def rows(athena, query_id: str, **kwargs) -> list:
    """Every row of the results, header row included, as lists of strings (None: NULL)."""
    out, token = [], None
    while True:
        page = athena.get_query_results(QueryExecutionId=query_id, **kwargs,
                                        **({"NextToken": token} if token else {}))
        out += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
        token = page.get("NextToken")
        if not token:
            return out


def build_lake(em) -> None:
    """Buckets, the orders CSV, and the sales database with its orders table (as root)."""
    s3 = em.client("s3", region=REGION)
    for bucket in ("lake-data", "athena-results"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="lake-data", Key="orders/orders.csv", Body=ORDERS_CSV)
    athena = em.client("athena", region=REGION)
    assert run(athena, "CREATE DATABASE sales")["Status"]["State"] == "SUCCEEDED"
    created = run(athena, """
        CREATE EXTERNAL TABLE orders (order_id bigint, customer string, region string,
                                      amount double)
        ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
        LOCATION 's3://lake-data/orders/'
        TBLPROPERTIES ('skip.header.line.count'='1')""")
    assert created["Status"]["State"] == "SUCCEEDED", created["Status"]
