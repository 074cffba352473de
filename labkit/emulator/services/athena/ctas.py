"""CREATE TABLE AS SELECT: the query's rows written as Parquet where the table will live,
then the table (and its partitions) created in Glue, all as the caller.

Athena "CREATE TABLE AS" and "CTAS table properties"
(https://docs.aws.amazon.com/athena/latest/ug/create-table-as.html): ``format``
(PARQUET by default; labkit writes PARQUET only), ``external_location`` (default
``QUERY_RESULT_LOCATION/tables/QUERY_ID/``; it must be empty, else
HIVE_PATH_ALREADY_EXISTS), ``partitioned_by`` (the last columns of the SELECT, written
as ``key=value/`` prefixes). The answer's UpdateCount is the rows written; the data files
are listed in ``QUERY_ID-manifest.csv`` in the result location.
"""
from __future__ import annotations

import os
from typing import List

from sqlglot import exp

from labkit.emulator.services.athena import failures, results, tables
from labkit.emulator.services.athena.ddl import PARQUET, raise_glue, upload_dir
from labkit.emulator.services.athena.select import query_relation
from labkit.emulator.services.athena.statement import Context, Outcome


def _properties(tree: exp.Create) -> dict:
    found = {}
    for prop in (tree.args.get("properties") or exp.Properties()).expressions:
        if isinstance(prop, exp.FileFormatProperty):
            found["format"] = prop.this.name
        elif type(prop) is exp.Property:
            key = prop.this.name.lower() if isinstance(prop.this, exp.Expression) \
                else str(prop.this).lower()
            value = prop.args.get("value")
            if isinstance(value, exp.Array):
                found[key] = [v.name.lower() for v in value.expressions]
            elif isinstance(value, exp.Expression):
                found[key] = value.name
        elif isinstance(prop, exp.LocationProperty):
            found["external_location"] = prop.this.name
        elif isinstance(prop, exp.PartitionedByProperty):
            target = prop.this
            items = target.expressions if isinstance(target, (exp.Array, exp.Schema, exp.Tuple)) \
                else [target]
            found["partitioned_by"] = [i.name.lower() for i in items]
    return found


def _duck_to_hive(duck: str) -> str:
    duck = duck.upper()
    if duck in ("HUGEINT", "UBIGINT"):
        return "bigint"
    return exp.DataType.build(duck, dialect="duckdb").sql(dialect="hive").lower()


def run(tree: exp.Create, text: str, ctx: Context) -> Outcome:
    node = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    database, name = (node.db or ctx.database).lower(), node.name.lower()
    props = _properties(tree)
    fmt = str(props.get("format", "PARQUET")).upper()
    if fmt != "PARQUET":
        raise failures.QueryFailed(f"NOT_SUPPORTED: CTAS format {fmt!r}: labkit writes PARQUET")
    location = props.get("external_location") or (
        ctx.output_location.rstrip("/") + f"/tables/{ctx.query_id}/")
    if not location.endswith("/"):
        location += "/"
    if tables.list_objects(ctx.lender, location):
        raise failures.path_exists(database, name, location)
    status, _ = ctx.lender.json("glue", "AWSGlue.GetTable", {"DatabaseName": database,
                                                              "Name": name})
    if status < 300:
        raise failures.QueryFailed(f"TABLE_ALREADY_EXISTS: line 1:1: Table "
                                   f"'awsdatacatalog.{database}.{name}' already exists")
    con, sql, scanned = query_relation(tree.expression, text, ctx)
    try:
        described = con.execute(f"DESCRIBE {sql}").fetchall()
        columns = [(row[0].lower(), _duck_to_hive(str(row[1]))) for row in described]
        count = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
        keys = list(props.get("partitioned_by") or [])
        casts = ", ".join(f'CAST("{n}" AS BIGINT) AS "{n}"' if t == "bigint" else f'"{n}"'
                          for n, t in columns)
        out = os.path.join(ctx.workdir, "ctas")
        os.makedirs(out, exist_ok=True)
        if keys:
            con.execute(f"COPY (SELECT {casts} FROM ({sql})) TO '{out}' (FORMAT parquet, "
                        f"PARTITION_BY ({', '.join(chr(34) + k + chr(34) for k in keys)}))")
        else:
            con.execute(f"COPY (SELECT {casts} FROM ({sql})) TO "
                        f"'{os.path.join(out, ctx.query_id + '_00000')}' (FORMAT parquet)")
    finally:
        con.close()
    written = upload_dir(ctx, out, location)
    data_cols = [c for c in columns if c[0] not in keys]
    part_cols = [c for c in columns if c[0] in keys]
    sd = dict(PARQUET, Columns=[{"Name": n, "Type": t} for n, t in data_cols], Location=location)
    table_input = {"Name": name, "TableType": "EXTERNAL_TABLE",
                   "Parameters": {"EXTERNAL": "TRUE", "has_encrypted_data": "false",
                                  "parquet.compression": "SNAPPY"},
                   "StorageDescriptor": sd,
                   "PartitionKeys": [{"Name": n, "Type": t} for n, t in part_cols]}
    status, data = ctx.lender.json("glue", "AWSGlue.CreateTable",
                                   {"DatabaseName": database, "TableInput": table_input})
    raise_glue(status, data, missing_text=f"[Error 10072]: Database does not exist: {database}")
    if keys:
        _add_partitions(ctx, database, name, location, keys, written, sd)
    return Outcome(statement_type="DDL", substatement="CREATE_TABLE_AS_SELECT",
                   update_count=int(count), scanned=scanned, header=False,
                   manifest=_manifest(ctx, written))


def _add_partitions(ctx, database, name, location, keys, written: List[str], sd) -> None:
    prefixes = sorted({url[len(location):].rsplit("/", 1)[0] for url in written})
    inputs = []
    for rel in prefixes:
        values = [part.split("=", 1)[1] for part in rel.split("/")[:len(keys)]]
        inputs.append({"Values": values,
                       "StorageDescriptor": dict(sd, Location=location + rel + "/")})
    for start in range(0, len(inputs), 100):
        tables.glue(ctx.lender, "BatchCreatePartition", {
            "DatabaseName": database, "TableName": name,
            "PartitionInputList": inputs[start:start + 100]})


def _manifest(ctx: Context, written: List[str]) -> str:
    """QUERY_ID-manifest.csv: the data files written (Statistics.DataManifestLocation)."""
    bucket, key, url = results.location(ctx.output_location, ctx.query_id, "-manifest.csv")
    results.put(ctx.lender, bucket, key, "".join(w + "\n" for w in written).encode(), None)
    return url
