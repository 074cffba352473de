"""Clients as they are, against the lab: the aws CLI (`aws athena ...`), pyathena's DB-API
cursor and awswrangler's read_sql_query (both its CTAS approach, which reads the Parquet
the CTAS wrote through its manifest, and the plain one) and to_parquet with a catalog."""
from __future__ import annotations

import json

import pytest

from tests.emulator.services.athena.helpers import REGION, build_lake
from tests.emulator.services.kms.helpers import cli
from tests.emulator.support import user_keys
from tests.emulator.services.athena.test_as_caller import analyst_statements


@pytest.fixture(scope="module")
def lake(em):
    build_lake(em)


@pytest.fixture()
def routed(em, monkeypatch):
    """The process environment routing every AWS client here (as `labkit` sets it up)."""
    for name, value in em.client_environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.mark.slow
def test_the_aws_cli(em, lake, tmp_path):
    keys = user_keys(em, "cli-analyst", *analyst_statements())
    started = cli(em, *keys, tmp_path, "athena", "start-query-execution", "--query-string",
                  "SELECT region, count(*) AS n FROM orders GROUP BY region ORDER BY region",
                  "--query-execution-context", "Database=sales",
                  "--result-configuration", "OutputLocation=s3://athena-results/cli/")
    assert started.returncode == 0, started.stderr
    qid = json.loads(started.stdout)["QueryExecutionId"]
    got = cli(em, *keys, tmp_path, "athena", "get-query-execution", "--query-execution-id", qid)
    assert json.loads(got.stdout)["QueryExecution"]["Status"]["State"] == "SUCCEEDED"
    results = cli(em, *keys, tmp_path, "athena", "get-query-results", "--query-execution-id",
                  qid, "--output", "text", "--query", "ResultSet.Rows[].Data[].VarCharValue")
    assert results.stdout.split() == ["region", "n", "ap", "1", "eu", "2", "us", "1"]


def _session(em, name):
    import boto3

    key, secret = user_keys(em, name, *analyst_statements(), {
        "Effect": "Allow", "Action": ["athena:GetWorkGroup", "glue:*", "s3:*"],
        "Resource": "*"})
    return boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                 region_name=REGION)


def test_pyathena_cursor(em, lake, routed):
    from pyathena import connect

    session = _session(em, "pyathena-analyst")
    creds = session.get_credentials()
    cursor = connect(aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
                     s3_staging_dir="s3://athena-results/pyathena/", region_name=REGION,
                     schema_name="sales").cursor()
    cursor.execute("SELECT customer, amount FROM orders WHERE amount > %(low)s ORDER BY 1",
                   {"low": 5})
    assert cursor.fetchall() == [("ana", 10.5), ("di", 7.25)]
    assert [d[0] for d in cursor.description] == ["customer", "amount"]


@pytest.mark.parametrize("ctas", [True, False])
def test_awswrangler_read_sql_query(em, lake, routed, ctas):
    import awswrangler as wr

    frame = wr.athena.read_sql_query(
        "SELECT region, sum(amount) AS total FROM orders GROUP BY region ORDER BY region",
        database="sales", ctas_approach=ctas, s3_output="s3://athena-results/wrangler/",
        boto3_session=_session(em, f"wrangler-{int(ctas)}"))
    assert frame.to_dict("list") == {"region": ["ap", "eu", "us"], "total": [7.25, 10.5, 4.0]}


def test_awswrangler_to_parquet_dataset_then_query(em, lake, routed):
    import awswrangler as wr
    import pandas as pd

    session = _session(em, "wrangler-writer")
    frame = pd.DataFrame({"id": [1, 2, 3], "kind": ["a", "b", "a"], "day": ["d1", "d1", "d2"]})
    wr.s3.to_parquet(frame, path="s3://lake-data/kinds/", dataset=True, database="sales",
                     table="kinds", partition_cols=["day"], boto3_session=session)
    back = wr.athena.read_sql_query("SELECT day, count(*) AS n FROM kinds GROUP BY day "
                                    "ORDER BY day", database="sales", ctas_approach=False,
                                    s3_output="s3://athena-results/wrangler/",
                                    boto3_session=session)
    assert back.to_dict("list") == {"day": ["d1", "d2"], "n": [2, 1]}
