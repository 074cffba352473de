"""Benchmark (not a test): Athena in the lab against bare DuckDB over the same files.

Run: .venv/bin/python benchmarks/bench_athena.py [--rows 2000000] [--rounds 3]

A generated table of ROWS order rows, as CSV and as Parquet, is put in the lab's S3 and
declared in Glue (CREATE EXTERNAL TABLE through Athena). The same aggregate query runs
(a) through start_query_execution, waiting for SUCCEEDED and reading every result page
with get_query_results, as an IAM user, CloudTrail recording on; and (b) in bare DuckDB
over the same files on local disk, with the same column types. Prints the medians, the
ratio and the lab's overhead per query, and whether the lab stays within 1.5x of bare
DuckDB plus 150 ms. Then a small query on the course dataset (data/customer_orders.csv,
revenue per state) end to end, aim: under 300 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labkit.emulator import ensure_running  # noqa: E402

REGION = "us-east-1"
COLUMNS = "(order_id bigint, region string, category string, quantity int, amount double)"
AGGREGATE = ("SELECT region, category, count(*) AS orders, sum(amount) AS revenue, "
             "avg(quantity) AS mean_quantity FROM {table} GROUP BY region, category "
             "ORDER BY region, category")
BARE_COLUMNS = ("{'order_id': 'BIGINT', 'region': 'VARCHAR', 'category': 'VARCHAR', "
                "'quantity': 'INTEGER', 'amount': 'DOUBLE'}")


def generate(rows: int, workdir: Path):
    """(csv path, parquet path) of ROWS generated orders."""
    import duckdb

    csv, parquet = workdir / "orders.csv", workdir / "orders.parquet"
    con = duckdb.connect()
    con.execute(f"""CREATE TABLE o AS SELECT i AS order_id,
        (['NSW','VIC','QLD','WA','SA','TAS','ACT'])[1 + i % 7] AS region,
        (['books','electronics','garden','groceries','clothing','toys'])[1 + (i * 7) % 6]
            AS category,
        1 + (i * 13) % 5 AS quantity, round(((i * 37) % 10000) / 100.0, 2) AS amount
        FROM range({rows}) t(i)""")
    con.execute(f"COPY o TO '{csv}' (HEADER false)")
    con.execute(f"COPY o TO '{parquet}' (FORMAT parquet)")
    con.close()
    return csv, parquet


def analyst(em):
    iam = em.client("iam")
    iam.create_user(UserName="bench-analyst")
    iam.put_user_policy(UserName="bench-analyst", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "athena:*", "glue:GetTable", "glue:GetPartitions", "s3:GetObject", "s3:ListBucket",
            "s3:PutObject"], "Resource": "*"}]}))
    key = iam.create_access_key(UserName="bench-analyst")["AccessKey"]
    return em.client("athena", key["AccessKeyId"], key["SecretAccessKey"], region=REGION)


def query(athena, sql: str) -> float:
    """Seconds from StartQueryExecution to the last result page read."""
    start = time.perf_counter()
    qid = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": "bench"},
        ResultConfiguration={"OutputLocation": "s3://bench-results/q/"})["QueryExecutionId"]
    pause = 0.01
    while True:
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(pause)
        pause = min(pause * 2, 0.2)
    if status["State"] != "SUCCEEDED":
        raise SystemExit(f"query failed: {status}")
    token = None
    while True:
        page = athena.get_query_results(QueryExecutionId=qid, **(
            {"NextToken": token} if token else {}))
        token = page.get("NextToken")
        if not token:
            return time.perf_counter() - start


def bare(source: str) -> float:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect()
    con.execute(AGGREGATE.format(table=source)).fetchall()
    con.close()
    return time.perf_counter() - start


def setup(em, csv: Path, parquet: Path):
    s3 = em.client("s3", region=REGION)
    for bucket in ("bench-lake", "bench-results"):
        s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(csv), "bench-lake", "csv/orders.csv")
    s3.upload_file(str(parquet), "bench-lake", "parquet/orders.parquet")
    course = Path(__file__).resolve().parent.parent / "data" / "customer_orders.csv"
    s3.upload_file(str(course), "bench-lake", "course/customer_orders.csv")
    root = em.client("athena", region=REGION)
    for sql in ("CREATE DATABASE bench",
                f"CREATE EXTERNAL TABLE orders_csv {COLUMNS} ROW FORMAT DELIMITED FIELDS "
                "TERMINATED BY ',' LOCATION 's3://bench-lake/csv/'",
                f"CREATE EXTERNAL TABLE orders_parquet {COLUMNS} STORED AS PARQUET "
                "LOCATION 's3://bench-lake/parquet/'",
                "CREATE EXTERNAL TABLE course_orders (order_id string, order_date date, "
                "customer_id string, customer_email string, postcode string, state string, "
                "product_category string, quantity int, unit_price decimal(10,2), "
                "order_total decimal(10,2), payment_method string) ROW FORMAT DELIMITED "
                "FIELDS TERMINATED BY ',' LOCATION 's3://bench-lake/course/' "
                "TBLPROPERTIES ('skip.header.line.count'='1')"):
        query(root, sql)


def median_ms(times) -> float:
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        csv, parquet = generate(args.rows, workdir)
        print(f"{args.rows} rows: CSV {csv.stat().st_size / 1e6:.1f} MB, "
              f"Parquet {parquet.stat().st_size / 1e6:.1f} MB")
        em = ensure_running(home=workdir / "home")
        em.reset()
        setup(em, csv, parquet)
        athena = analyst(em)
        sources = {"csv": (f"read_csv('{csv}', header=false, columns={BARE_COLUMNS})",
                           "orders_csv"),
                   "parquet": (f"read_parquet('{parquet}')", "orders_parquet")}
        ok = True
        for name, (local, table) in sources.items():
            lab_t, bare_t = [], []
            for _ in range(args.rounds):  # interleaved: both see the same machine load
                lab_t.append(query(athena, AGGREGATE.format(table=table)))
                bare_t.append(bare(local))
            lab_ms, bare_ms = median_ms(lab_t), median_ms(bare_t)
            within = lab_ms <= 1.5 * bare_ms + 150
            ok &= within
            print(f"{name:8s} lab {lab_ms:8.1f} ms  bare DuckDB {bare_ms:8.1f} ms  "
                  f"ratio {lab_ms / bare_ms:5.2f}  overhead {lab_ms - bare_ms:7.1f} ms  "
                  f"{'within' if within else 'OUTSIDE'} 1.5x + 150 ms")
        small = [query(athena, "SELECT state, sum(order_total) AS revenue FROM course_orders "
                               "GROUP BY state ORDER BY revenue DESC")
                 for _ in range(max(5, args.rounds))]
        small_ms = median_ms(small)
        ok &= small_ms < 300
        print(f"course dataset, revenue per state: {small_ms:.1f} ms end to end "
              f"({'under' if small_ms < 300 else 'OVER'} 300 ms)")
        em.reset()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
