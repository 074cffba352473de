"""Athena DDL through SQL, kept in Glue: CREATE DATABASE / EXTERNAL TABLE (CSV, JSON,
Parquet SerDes), CTAS to Parquet, partitions found by MSCK REPAIR TABLE, SHOW, DESCRIBE,
DROP (Athena "DDL statements"; "Columnar storage formats": a Parquet query reads only
the columns it needs, so it scans fewer bytes than the CSV of the same rows)."""
from __future__ import annotations

import pytest

from tests.emulator.services.athena.helpers import REGION, build_lake, rows, run


@pytest.fixture(scope="module")
def athena(em):
    build_lake(em)
    return em.client("athena", region=REGION)


def _ok(done):
    assert done["Status"]["State"] == "SUCCEEDED", done["Status"]
    return done


def test_ctas_writes_parquet_that_scans_less(em, athena):
    done = _ok(run(athena, "CREATE TABLE orders_pq WITH (format = 'PARQUET', "
                           "external_location = 's3://lake-data/orders_pq/') AS "
                           "SELECT * FROM orders"))
    assert done["StatementType"] == "DDL"
    assert athena.get_query_results(QueryExecutionId=done["QueryExecutionId"])["UpdateCount"] == 4
    table = em.client("glue", region=REGION).get_table(DatabaseName="sales", Name="orders_pq")
    sd = table["Table"]["StorageDescriptor"]
    assert sd["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert [c["Name"] for c in sd["Columns"]] == ["order_id", "customer", "region", "amount"]
    keys = [o["Key"] for o in em.client("s3", region=REGION).list_objects_v2(
        Bucket="lake-data", Prefix="orders_pq/")["Contents"]]
    assert len(keys) == 1
    one_col = _ok(run(athena, "SELECT sum(amount) AS s FROM orders_pq"))
    every = _ok(run(athena, "SELECT * FROM orders_pq"))
    assert rows(athena, one_col["QueryExecutionId"]) == [["s"], ["21.75"]]
    assert 0 < one_col["Statistics"]["DataScannedInBytes"] < every["Statistics"][
        "DataScannedInBytes"]


def test_ctas_into_a_location_in_use_fails(em, athena):
    status = run(athena, "CREATE TABLE again WITH (external_location = 's3://lake-data/orders/') "
                         "AS SELECT 1 AS x")["Status"]
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"].startswith(
        "HIVE_PATH_ALREADY_EXISTS: Target directory for table 'sales.again' already exists: "
        "s3://lake-data/orders/")


def test_partitions_added_by_msck_repair(em, athena):
    s3 = em.client("s3", region=REGION)
    for day, body in (("2026-01-01", b'{"id": 1, "v": "a"}\n{"id": 2, "v": "b"}\n'),
                      ("2026-01-02", b'{"id": 3, "v": "c"}\n')):
        s3.put_object(Bucket="lake-data", Key=f"events/dt={day}/part-0.json", Body=body)
    _ok(run(athena, "CREATE EXTERNAL TABLE events (id int, v string) PARTITIONED BY (dt string) "
                    "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' "
                    "LOCATION 's3://lake-data/events/'"))
    empty = _ok(run(athena, "SELECT count(*) AS n FROM events"))
    assert rows(athena, empty["QueryExecutionId"]) == [["n"], ["0"]]  # no partitions yet
    _ok(run(athena, "MSCK REPAIR TABLE events"))
    listed = _ok(run(athena, "SHOW PARTITIONS events"))
    assert rows(athena, listed["QueryExecutionId"]) == [["dt=2026-01-01"], ["dt=2026-01-02"]]
    done = _ok(run(athena, "SELECT dt, count(*) AS n FROM events GROUP BY dt ORDER BY dt"))
    assert rows(athena, done["QueryExecutionId"]) == [
        ["dt", "n"], ["2026-01-01", "2"], ["2026-01-02", "1"]]


def test_show_describe_and_drop(em, athena):
    _ok(run(athena, "CREATE EXTERNAL TABLE scratch (a string) STORED AS PARQUET "
                    "LOCATION 's3://lake-data/scratch/'"))
    shown = _ok(run(athena, "SHOW TABLES IN sales 'scr*'"))
    assert rows(athena, shown["QueryExecutionId"]) == [["scratch"]]
    described = _ok(run(athena, "DESCRIBE scratch"))
    assert [r[0].split("\t")[0].strip() for r in rows(athena, described["QueryExecutionId"])] \
        == ["a"]
    _ok(run(athena, "DROP TABLE scratch"))
    gone = run(athena, "SELECT * FROM scratch")["Status"]["StateChangeReason"]
    assert gone == "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.sales.scratch' does not exist"
    missing = run(athena, "DROP TABLE scratch")["Status"]
    assert missing["State"] == "FAILED"
    assert missing["AthenaError"]["ErrorType"] == 1003
    _ok(run(athena, "DROP TABLE IF EXISTS scratch"))


def test_a_partition_filter_reads_only_its_partition(em, athena):
    # Athena "Partitioning data": fixing the partition key scans only that partition.
    every = _ok(run(athena, "SELECT count(*) AS n FROM events"))
    one = _ok(run(athena, "SELECT count(*) AS n FROM events WHERE dt = '2026-01-02'"))
    assert rows(athena, one["QueryExecutionId"]) == [["n"], ["1"]]
    assert one["Statistics"]["DataScannedInBytes"] == len(b'{"id": 3, "v": "c"}\n')
    assert every["Statistics"]["DataScannedInBytes"] > one["Statistics"]["DataScannedInBytes"]
