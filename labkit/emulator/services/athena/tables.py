"""A Glue table as DuckDB sees it: its definition from Glue and its objects from S3, both
read as the caller (labkit.emulator.authz.on_behalf), each object kept in a local file
for the one query that reads it.

How Athena reads a table (Athena "Creating tables in Athena", "Partitioning data",
"Supported SerDes and data formats"): every object under the table's LOCATION (or its
partitions' locations) whose name does not start with ``_`` or ``.`` is data; a text
table's columns are matched by position, a Parquet or JSON table's by name; a value
that does not fit its column's type reads as NULL (Hive's lazy deserialisation).
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple
from urllib.parse import quote, urlencode

from sqlglot import exp

from labkit.emulator.authz.on_behalf import OnBehalf
from labkit.emulator.services.athena import failures


@dataclass
class Table:
    database: str
    name: str
    location: str
    columns: List[Tuple[str, str]]            # (name, Hive type)
    partition_keys: List[Tuple[str, str]]
    serde: str
    serde_params: Dict[str, str]
    params: Dict[str, str]
    input_format: str = ""

    @property
    def format(self) -> str:
        """parquet | json | csv (OpenCSVSerde) | text (LazySimpleSerDe) | unknown."""
        text = f"{self.serde} {self.input_format} {self.params.get('classification', '')}"
        low = text.lower()
        if "parquet" in low:
            return "parquet"
        if "json" in low:
            return "json"
        if "opencsv" in low:
            return "csv"
        if "lazysimple" in low or "textinputformat" in low or "csv" in low:
            return "text"
        return "unknown"


@dataclass
class Scan:
    """The bytes a query read: whole text objects; of a Parquet object, its footer and the
    column chunks of the columns the query names (Athena "Columnar storage formats": a
    query reads only the columns it needs)."""

    scanned: int = 0

    def add(self, table: "Table", path: str, size: int, needed: Optional[set]) -> None:
        if table.format != "parquet" or needed is None:
            self.scanned += size
            return
        self.scanned += parquet_bytes(path, size, needed)


def parquet_bytes(path: str, size: int, needed: set) -> int:
    """Footer plus the compressed column chunks of the NEEDED top-level columns."""
    import duckdb

    with open(path, "rb") as handle:
        handle.seek(max(0, size - 8))
        tail = handle.read(8)
    footer = int.from_bytes(tail[:4], "little") + 8 if len(tail) == 8 else size
    con = duckdb.connect()
    try:
        rows = con.execute("SELECT path_in_schema, total_compressed_size FROM "
                           "parquet_metadata(?)", [path]).fetchall()
    finally:
        con.close()
    chunks = sum(int(n or 0) for col, n in rows
                 if str(col).split(",")[0].strip().lower() in needed)
    return min(size, footer + chunks)


# ----------------------------------------------------------------------------- Glue

def _glue(lender: OnBehalf, op: str, payload: dict) -> dict:
    status, data = lender.json("glue", f"AWSGlue.{op}", payload)
    if status < 300:
        return data
    code = str(data.get("__type", "")).rsplit("#", 1)[-1]
    message = str(data.get("message") or data.get("Message") or "")
    if code == "AccessDeniedException":
        raise failures.glue_denied(message, data.get("RequestId", "") or "")
    raise _GlueError(code, message)


class _GlueError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def get_table(lender: OnBehalf, database: str, name: str, where: str) -> Table:
    """The table, read with glue:GetTable as the caller (Athena's wording when it is not there)."""
    try:
        data = _glue(lender, "GetTable", {"DatabaseName": database, "Name": name})
    except _GlueError as exc:
        if exc.code == "EntityNotFoundException" and "database" in exc.message.lower() \
                and "table" not in exc.message.lower():
            raise failures.schema_not_found(where, database) from None
        if exc.code == "EntityNotFoundException":
            raise failures.table_not_found(where, database, name) from None
        raise failures.QueryFailed(f"GENERIC_INTERNAL_ERROR: {exc}") from None
    return table_of(data.get("Table") or {})


def table_of(raw: dict) -> Table:
    sd = raw.get("StorageDescriptor") or {}
    serde = sd.get("SerdeInfo") or {}
    return Table(
        database=raw.get("DatabaseName", ""), name=raw.get("Name", ""),
        location=sd.get("Location", ""),
        columns=[(c["Name"].lower(), c.get("Type", "string")) for c in sd.get("Columns") or []],
        partition_keys=[(c["Name"].lower(), c.get("Type", "string"))
                        for c in raw.get("PartitionKeys") or []],
        serde=serde.get("SerializationLibrary", "") or "",
        serde_params=dict(serde.get("Parameters") or {}),
        params=dict(raw.get("Parameters") or {}),
        input_format=sd.get("InputFormat", "") or "")


def partitions(lender: OnBehalf, table: Table) -> List[Tuple[List[str], str]]:
    """(values, location) of each partition Glue holds for TABLE (glue:GetPartitions)."""
    found, token = [], None
    while True:
        payload = {"DatabaseName": table.database, "TableName": table.name}
        if token:
            payload["NextToken"] = token
        data = _glue(lender, "GetPartitions", payload)
        for p in data.get("Partitions") or []:
            found.append((list(p.get("Values") or []),
                          (p.get("StorageDescriptor") or {}).get("Location", "")))
        token = data.get("NextToken")
        if not token:
            return found


def glue(lender: OnBehalf, op: str, payload: dict) -> dict:
    """Any Glue call as the caller; a refusal or failure ends the query (DDL's wording)."""
    try:
        return _glue(lender, op, payload)
    except _GlueError as exc:
        raise failures.ddl_failed(f"Execution Error, return code 1 from "
                                  f"org.apache.hadoop.hive.ql.exec.DDLTask. {exc.message}") \
            from None


# ----------------------------------------------------------------------------- S3

def split_s3(url: str) -> Tuple[str, str]:
    if not url.startswith("s3://"):
        raise failures.QueryFailed(f"Invalid S3 location: {url!r} (an s3://bucket/prefix/ URL "
                                   "is needed)")
    bucket, _, prefix = url[5:].partition("/")
    return bucket, prefix


def list_objects(lender: OnBehalf, url: str) -> List[Tuple[str, int]]:
    """(key, size) of every data object under URL (s3:ListBucket as the caller)."""
    bucket, prefix = split_s3(url)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    found, token = [], None
    while True:
        params = {"list-type": "2", "prefix": prefix}
        if token:
            params["continuation-token"] = token
        status, _, body = lender.s3("GET", bucket, None, urlencode(params, quote_via=quote))
        if status == 403:
            raise failures.s3_list_denied(bucket, prefix)
        if status == 404:
            raise failures.QueryFailed(f"The specified bucket does not exist: s3://{bucket}/")
        root = ET.fromstring(body)
        for item in _children(root, "Contents"):
            key, size = _text(item, "Key"), int(_text(item, "Size") or 0)
            if _is_data(key[len(prefix):]) and not key.endswith("/"):
                found.append((key, size))
        token = _text(root, "NextContinuationToken")
        if _text(root, "IsTruncated") != "true" or not token:
            return found


def _children(node, tag: str):
    return [c for c in node if c.tag.rsplit("}", 1)[-1] == tag]


def _text(node, tag: str) -> str:
    found = _children(node, tag)
    return (found[0].text or "") if found else ""


def _is_data(relative: str) -> bool:
    """Hive skips names starting with _ or . (and Athena the $folder$ markers)."""
    parts = [p for p in relative.split("/") if p]
    return bool(parts) and not any(p.startswith(("_", ".")) for p in parts) \
        and not relative.endswith("_$folder$")


def read_object(lender: OnBehalf, bucket: str, key: str, into: str) -> int:
    """GetObject as the caller, into the file INTO; its size (the bytes Athena reads)."""
    status, headers, body = lender.s3("GET", bucket, key)
    if status == 403:
        text = body.decode("utf-8", "replace")
        if "kms:" in text:
            message = text.split("<Message>", 1)[-1].split("</Message>", 1)[0]
            raise failures.kms_denied(bucket, key, message)
        raise failures.s3_read_denied(bucket, key, headers.get("x-amz-request-id", ""))
    if status >= 300:
        raise failures.QueryFailed(f"HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split "
                                   f"s3://{bucket}/{key}: S3 answered {status}")
    with open(into, "wb") as out:
        out.write(body)
    return len(body)


# ----------------------------------------------------------------------------- DuckDB views

def duck_type(hive_type: str) -> str:
    """A Hive/Glue column type in DuckDB's spelling (sqlglot's type mapping)."""
    try:
        return exp.DataType.build(hive_type, dialect="hive").sql("duckdb")
    except Exception:
        raise failures.QueryFailed(f"HIVE_INVALID_METADATA: unknown column type {hive_type!r}") \
            from None


def fetch(lender: OnBehalf, table: Table, workdir: str, scan: Scan,
          needed: Optional[set] = None, wanted=None) -> List[Tuple[List[str], List[str]]]:
    """Read TABLE's objects into WORKDIR: [(partition values, local paths)]; NEEDED: the
    columns the query names (None: all); WANTED(values by key) -> bool: the partitions the
    query's WHERE can match (None: all; Athena reads only those)."""
    if table.partition_keys:
        places = [(values, loc) for values, loc in partitions(lender, table)
                  if wanted is None or wanted(dict(zip([k for k, _ in table.partition_keys],
                                                       values)))]
    else:
        places = [([], table.location)]
    out = []
    for values, location in places:
        bucket, _ = split_s3(location)
        paths = []
        for key, _size in list_objects(lender, location):
            local = os.path.join(workdir, f"{len(os.listdir(workdir))}.{table.format}")
            scan.add(table, local, read_object(lender, bucket, key, local), needed)
            paths.append(local)
        out.append((values, paths))
    return out


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _reader(table: Table, paths: List[str]) -> str:
    files = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
    fmt = table.format
    if fmt == "parquet":
        return f"read_parquet({files}, union_by_name=true)"
    if fmt == "json":
        cols = ", ".join(f"'{n}': '{duck_type(t)}'" for n, t in table.columns)
        return f"read_json({files}, format='newline_delimited', columns={{{cols}}})"
    if fmt in ("csv", "text"):
        cols = ", ".join(f"'{n}': 'VARCHAR'" for n, _ in table.columns)
        sp = table.serde_params
        if fmt == "csv":
            delim = sp.get("separatorChar", ",")
            quote_char, escape = sp.get("quoteChar", '"'), sp.get("escapeChar", "\\")
        else:
            delim = sp.get("field.delim", sp.get("serialization.format", "\x01"))
            quote_char, escape = "", ""
        skip = int(table.params.get("skip.header.line.count", "0") or 0)
        esc = lambda v: v.replace("'", "''")  # noqa: E731
        return (f"read_csv({files}, columns={{{cols}}}, header=false, skip={skip}, "
                f"delim='{esc(delim)}', quote='{esc(quote_char)}', escape='{esc(escape)}', "
                "auto_detect=false, null_padding=true, strict_mode=false, "
                "nullstr='\\N')")
    raise failures.QueryFailed(
        f"HIVE_UNSUPPORTED_FORMAT: Unable to create input format for table "
        f"{table.database}.{table.name} (SerDe {table.serde!r}: labkit reads CSV, JSON and "
        "Parquet tables)")


def view_sql(table: Table, places: List[Tuple[List[str], List[str]]]) -> str:
    """SELECT giving TABLE's columns (then its partition keys) over the local files."""
    selects = []
    for values, paths in places:
        cols = []
        for name, hive_type in table.columns:
            source = _quote(name)
            kind = duck_type(hive_type)
            cols.append(f"TRY_CAST({source} AS {kind}) AS {source}"
                        if table.format in ("csv", "text") else f"{source}")
        for (name, hive_type), value in zip(table.partition_keys, values):
            literal = "'" + value.replace("'", "''") + "'"
            cols.append(f"TRY_CAST({literal} AS {duck_type(hive_type)}) AS {_quote(name)}")
        if paths:
            selects.append(f"SELECT {', '.join(cols)} FROM {_reader(table, paths)}")
    if not selects:
        cols = [f"CAST(NULL AS {duck_type(t)}) AS {_quote(n)}"
                for n, t in table.columns + table.partition_keys]
        return f"SELECT {', '.join(cols)} WHERE false"
    return " UNION ALL ".join(selects)
