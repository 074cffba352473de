"""Athena's DDL, kept in the Glue Data Catalog as the caller (glue:* decided for them).

Athena "DDL statements" (https://docs.aws.amazon.com/athena/latest/ug/ddl-reference.html):
CREATE DATABASE, CREATE EXTERNAL TABLE (Hive DDL: ROW FORMAT / STORED AS / LOCATION /
TBLPROPERTIES), CREATE TABLE AS (CTAS; Parquet by default, ``external_location`` or
``QUERY_RESULT_LOCATION/tables/QUERY_ID/``, ``partitioned_by``), DROP TABLE / DATABASE
(the data stays in S3), SHOW TABLES / DATABASES / PARTITIONS, DESCRIBE, MSCK REPAIR
TABLE (adds the Hive-style ``key=value/`` prefixes found under the location).
DDL results have no header row and are written as ``QUERY_ID.txt``.
"""
from __future__ import annotations

import fnmatch
import os
import re
from typing import List, Optional

from sqlglot import exp

from labkit.emulator.services.athena import failures, tables
from labkit.emulator.services.athena.statement import Context, Outcome

PARQUET = {"InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
           "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
           "SerdeInfo": {"SerializationLibrary":
                         "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                         "Parameters": {"serialization.format": "1"}}}
TEXT_FORMATS = {"InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"}
LAZY_SIMPLE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"


def _text_outcome(name: str, rows: List[List[str]]) -> Outcome:
    return Outcome(columns=[{"CatalogName": "hive", "SchemaName": "", "TableName": "",
                             "Name": name, "Label": name, "Type": "string", "Precision": 0,
                             "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": False}],
                   rows=rows, statement_type="UTILITY", header=False, text_result=True)


def _name(ref: str, ctx: Context):
    parts = [p.strip('`"').lower() for p in ref.split(".")]
    return (parts[-2] if len(parts) > 1 else ctx.database), parts[-1]


# ----------------------------------------------------------------------------- by text

_SHOW_TABLES = re.compile(r"^SHOW\s+TABLES(?:\s+(?:IN|FROM)\s+([`\"\w.]+))?(?:\s+(?:LIKE\s+)?'([^']*)')?$", re.I)
_SHOW_DATABASES = re.compile(r"^SHOW\s+(?:DATABASES|SCHEMAS)(?:\s+(?:LIKE\s+)?'([^']*)')?$", re.I)
_SHOW_PARTITIONS = re.compile(r"^SHOW\s+PARTITIONS\s+([`\"\w.]+)$", re.I)
_MSCK = re.compile(r"^MSCK\s+REPAIR\s+TABLE\s+([`\"\w.]+)$", re.I)


def run_text(text: str, ctx: Context) -> Optional[Outcome]:
    """The statements sqlglot does not parse (SHOW..., MSCK); None for any other."""
    m = _SHOW_TABLES.match(text)
    if m:
        database = (m.group(1) or ctx.database).strip('`"').lower()
        data = tables.glue(ctx.lender, "GetTables", {"DatabaseName": database})
        names = sorted(t["Name"] for t in data.get("TableList") or [])
        return _text_outcome("tab_name", [[n] for n in _like(names, m.group(2))])
    m = _SHOW_DATABASES.match(text)
    if m:
        data = tables.glue(ctx.lender, "GetDatabases", {})
        names = sorted(d["Name"] for d in data.get("DatabaseList") or [])
        return _text_outcome("database_name", [[n] for n in _like(names, m.group(1))])
    m = _SHOW_PARTITIONS.match(text)
    if m:
        database, name = _name(m.group(1), ctx)
        table = tables.get_table(ctx.lender, database, name, "line 1:1")
        rows = ["/".join(f"{k}={v}" for (k, _), v in zip(table.partition_keys, values))
                for values, _ in tables.partitions(ctx.lender, table)]
        return _text_outcome("partition", [[r] for r in sorted(rows)])
    m = _MSCK.match(text)
    if m:
        return repair(ctx, *_name(m.group(1), ctx))
    return None


def _like(names: List[str], pattern: Optional[str]) -> List[str]:
    """Athena's SHOW patterns: * any characters, | alternatives."""
    if not pattern:
        return names
    options = [p.strip().lower() for p in pattern.split("|")]
    return [n for n in names if any(fnmatch.fnmatchcase(n.lower(), p) for p in options)]


def repair(ctx: Context, database: str, name: str) -> Outcome:
    table = tables.get_table(ctx.lender, database, name, "line 1:1")
    if not table.partition_keys:
        raise failures.ddl_failed(f"Table {name} is not partitioned")
    known = {tuple(v) for v, _ in tables.partitions(ctx.lender, table)}
    base = table.location if table.location.endswith("/") else table.location + "/"
    bucket, prefix = tables.split_s3(base)
    keys = [k for k, _ in table.partition_keys]
    found = {}
    for key, _size in tables.list_objects(ctx.lender, base):
        parts = key[len(prefix):].split("/")[:len(keys)]
        pairs = [p.split("=", 1) for p in parts]
        if len(pairs) == len(keys) and all(len(p) == 2 and p[0].lower() == k
                                           for p, k in zip(pairs, keys)):
            values = tuple(p[1] for p in pairs)
            found[values] = base + "/".join(parts) + "/"
    new = [v for v in sorted(found) if v not in known]
    rows = []
    if new:
        sd = _storage_of(ctx, table)
        inputs = [{"Values": list(v), "StorageDescriptor": dict(sd, Location=found[v])}
                  for v in new]
        for start in range(0, len(inputs), 100):  # BatchCreatePartition takes 100 at most
            tables.glue(ctx.lender, "BatchCreatePartition", {
                "DatabaseName": database, "TableName": name,
                "PartitionInputList": inputs[start:start + 100]})
        label = lambda v: name + ":" + "/".join(f"{k}={x}" for k, x in zip(keys, v))  # noqa: E731
        rows = [["Partitions not in metastore:\t" + "\t".join(label(v) for v in new)]]
        rows += [[f"Repair: Added partition to metastore {label(v)}"] for v in new]
    return _text_outcome("result", rows)


def _storage_of(ctx: Context, table: tables.Table) -> dict:
    data = tables.glue(ctx.lender, "GetTable", {"DatabaseName": table.database,
                                                "Name": table.name})
    sd = dict((data.get("Table") or {}).get("StorageDescriptor") or {})
    sd.pop("Location", None)
    return sd


# ----------------------------------------------------------------------------- by tree

def run_tree(tree: exp.Expression, text: str, ctx: Context) -> Optional[Outcome]:
    if isinstance(tree, exp.Create):
        kind = str(tree.args.get("kind") or "").upper()
        if kind in ("DATABASE", "SCHEMA"):
            return create_database(tree, ctx)
        if kind == "TABLE":
            return create_table(tree, ctx)
        raise failures.QueryFailed(f"NOT_SUPPORTED: CREATE {kind} is not modelled by labkit")
    if isinstance(tree, exp.Drop):
        return drop(tree, ctx)
    if isinstance(tree, exp.Describe):
        return describe(tree, ctx)
    return None


def _ddl_outcome(substatement: str) -> Outcome:
    return Outcome(statement_type="DDL", substatement=substatement, header=False)


def create_database(tree: exp.Create, ctx: Context) -> Outcome:
    name = tree.this.name.lower()
    db_input = {"Name": name}
    for prop in (tree.args.get("properties") or exp.Properties()).expressions:
        if isinstance(prop, exp.LocationProperty):
            db_input["LocationUri"] = prop.this.name
    status, data = ctx.lender.json("glue", "AWSGlue.CreateDatabase", {"DatabaseInput": db_input})
    raise_glue(status, data, exists_ok=bool(tree.args.get("exists")),
                exists_text=f"Database {name} already exists")
    return _ddl_outcome("CREATE_DATABASE")


def raise_glue(status: int, data: dict, exists_ok: bool = False, exists_text: str = "",
                missing_text: str = "", missing_ok: bool = False) -> None:
    if status < 300:
        return
    code = str(data.get("__type", "")).rsplit("#", 1)[-1]
    message = str(data.get("message") or data.get("Message") or "")
    if code == "AccessDeniedException":
        raise failures.glue_denied(message, "")
    if code == "AlreadyExistsException":
        if exists_ok:
            return
        raise failures.ddl_failed(f"AlreadyExistsException: {exists_text or message}")
    if code == "EntityNotFoundException":
        if missing_ok:
            return
        raise failures.ddl_failed(f"SemanticException {missing_text or message}")
    raise failures.ddl_failed(f"{code}: {message}")


def hive_type(kind: exp.Expression) -> str:
    return kind.sql(dialect="hive").lower()


def _columns(schema: exp.Expression):
    return [{"Name": c.name.lower(), "Type": hive_type(c.args["kind"])}
            for c in schema.expressions if isinstance(c, exp.ColumnDef)]


def create_table(tree: exp.Create, ctx: Context) -> Outcome:
    schema = tree.this
    table_node = schema.this if isinstance(schema, exp.Schema) else schema
    database = (table_node.db or ctx.database).lower()
    name = table_node.name.lower()
    columns = _columns(schema) if isinstance(schema, exp.Schema) else []
    sd = {"Columns": columns, **TEXT_FORMATS,
          "SerdeInfo": {"SerializationLibrary": LAZY_SIMPLE,
                        "Parameters": {"field.delim": "\x01", "serialization.format": "\x01"}}}
    params, partitions, external = {"EXTERNAL": "TRUE"}, [], False
    for prop in (tree.args.get("properties") or exp.Properties()).expressions:
        external |= isinstance(prop, exp.ExternalProperty)
        _apply(prop, sd, params, partitions)
    if "Location" not in sd:
        raise failures.ddl_failed("SemanticException [Error 10000]: LOCATION is required "
                                  "for an external table in Athena")
    if not external:
        raise failures.ddl_failed("Only EXTERNAL table creation is supported. "
                                  "Use CREATE EXTERNAL TABLE")
    table_input = {"Name": name, "TableType": "EXTERNAL_TABLE", "Parameters": params,
                   "StorageDescriptor": sd, "PartitionKeys": partitions}
    status, data = ctx.lender.json("glue", "AWSGlue.CreateTable",
                                   {"DatabaseName": database, "TableInput": table_input})
    raise_glue(status, data, exists_ok=bool(tree.args.get("exists")),
                exists_text=f"Table {name} already exists",
                missing_text=f"[Error 10072]: Database does not exist: {database}")
    return _ddl_outcome("CREATE_TABLE")


def _apply(prop, sd: dict, params: dict, partitions: list) -> None:
    """One Hive DDL property into the Glue StorageDescriptor / Parameters / PartitionKeys."""
    if isinstance(prop, exp.LocationProperty):
        sd["Location"] = prop.this.name
    elif isinstance(prop, exp.PartitionedByProperty):
        partitions.extend(_columns(prop.this))
    elif isinstance(prop, exp.RowFormatSerdeProperty):
        serde = {"SerializationLibrary": prop.this.name, "Parameters": {}}
        for p in (prop.args.get("serde_properties") or exp.SerdeProperties()).expressions:
            serde["Parameters"][p.this.name] = p.args["value"].name
        sd["SerdeInfo"] = serde
    elif isinstance(prop, exp.RowFormatDelimitedProperty):
        fields = prop.args.get("fields")
        if fields is not None:
            delim = fields.name.encode().decode("unicode_escape")
            sd["SerdeInfo"] = {"SerializationLibrary": LAZY_SIMPLE, "Parameters": {
                "field.delim": delim, "serialization.format": delim}}
    elif isinstance(prop, exp.FileFormatProperty):
        fmt = prop.this.name.upper()
        if fmt == "PARQUET":
            sd.update({k: v for k, v in PARQUET.items()})
        elif fmt not in ("TEXTFILE", "INPUTFORMAT"):
            raise failures.ddl_failed(f"STORED AS {fmt} is not modelled by labkit "
                                      "(TEXTFILE and PARQUET are)")
    elif type(prop) is exp.Property and prop.args.get("value") is not None:
        params[prop.this.name] = prop.args["value"].name


def drop(tree: exp.Drop, ctx: Context) -> Outcome:
    kind = str(tree.args.get("kind") or "").upper()
    node = tree.this if tree.this is not None else (tree.args.get("tables") or [None])[0]
    if node is None:
        raise failures.syntax_error("line 1:1", "<EOF>")
    exists_ok = bool(tree.args.get("exists"))
    if kind == "TABLE":
        database, name = (node.db or ctx.database).lower(), node.name.lower()
        status, data = ctx.lender.json("glue", "AWSGlue.DeleteTable",
                                       {"DatabaseName": database, "Name": name})
        raise_glue(status, data, missing_ok=exists_ok,
                    missing_text=f"[Error 10001]: Table not found {database}.{name}")
        return _ddl_outcome("DROP_TABLE")
    if kind in ("DATABASE", "SCHEMA"):
        name = node.name.lower()
        if not tree.args.get("cascade"):
            listed = tables.glue(ctx.lender, "GetTables", {"DatabaseName": name}) \
                if _database_exists(ctx, name) else {}
            if listed.get("TableList"):
                raise failures.ddl_failed(
                    f"InvalidOperationException(message:Database {name} is not empty. "
                    "One or more tables exist.)")
        status, data = ctx.lender.json("glue", "AWSGlue.DeleteDatabase", {"Name": name})
        raise_glue(status, data, missing_ok=exists_ok,
                    missing_text=f"[Error 10072]: Database does not exist: {name}")
        return _ddl_outcome("DROP_DATABASE")
    raise failures.QueryFailed(f"NOT_SUPPORTED: DROP {kind} is not modelled by labkit")


def _database_exists(ctx: Context, name: str) -> bool:
    status, _ = ctx.lender.json("glue", "AWSGlue.GetDatabase", {"Name": name})
    return status < 300


def describe(tree: exp.Describe, ctx: Context) -> Outcome:
    node = tree.this
    database, name = (node.db or ctx.database).lower(), node.name.lower()
    table = tables.get_table(ctx.lender, database, name, "line 1:1")
    line = lambda n, t: [f"{n:<20s}\t{t:<20s}\t"]  # noqa: E731 (Hive's padded columns)
    rows = [line(n, t) for n, t in table.columns + table.partition_keys]
    if table.partition_keys:
        rows += [[""], ["# Partition Information"], line("# col_name", "data_type")]
        rows += [[""]] + [line(n, t) for n, t in table.partition_keys]
    return _text_outcome("col_name", rows)


def upload_dir(ctx: Context, local: str, location: str, encryption=None) -> List[str]:
    """Put every file under LOCAL to LOCATION as the caller; the S3 URLs written."""
    from labkit.emulator.services.athena import results

    bucket, prefix = tables.split_s3(location)
    written = []
    for root, _dirs, files in os.walk(local):
        for fname in sorted(files):
            path = os.path.join(root, fname)
            rel = os.path.relpath(path, local).replace(os.sep, "/")
            with open(path, "rb") as handle:
                try:
                    results.put(ctx.lender, bucket, prefix + rel, handle.read(), encryption)
                except failures.QueryFailed:
                    raise failures.location_write_denied(f"s3://{bucket}/{prefix}{rel}") \
                        from None
            written.append(f"s3://{bucket}/{prefix}{rel}")
    return written
