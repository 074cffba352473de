"""DuckDB's result types and values as Athena (Trino) shows them in ColumnInfo and rows."""
from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from typing import List, Optional

#: DuckDB type -> (Athena type, Precision, CaseSensitive)
_TYPES = {
    "BOOLEAN": ("boolean", 0, False), "TINYINT": ("tinyint", 3, False),
    "SMALLINT": ("smallint", 5, False), "INTEGER": ("integer", 10, False),
    "BIGINT": ("bigint", 19, False), "HUGEINT": ("bigint", 19, False),
    "UBIGINT": ("bigint", 19, False), "UINTEGER": ("bigint", 19, False),
    "USMALLINT": ("integer", 10, False), "UTINYINT": ("smallint", 5, False),
    "FLOAT": ("real", 17, False), "DOUBLE": ("double", 17, False),
    "VARCHAR": ("varchar", 2147483647, True), "DATE": ("date", 0, False),
    "TIMESTAMP": ("timestamp", 3, False), "TIMESTAMP WITH TIME ZONE": ("timestamp with time zone", 3, False),
    "TIME": ("time", 3, False), "BLOB": ("varbinary", 2147483647, False),
    "INTERVAL": ("interval day to second", 0, False),
}


def athena_type(duck: str):
    duck = duck.upper().strip('"')
    if duck in ("TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"):
        duck = "TIMESTAMP"
    if duck == "NULL":  # an untyped NULL: Trino calls its type "unknown"
        return "unknown", 0, 0, False
    m = re.match(r"DECIMAL\((\d+),\s*(\d+)\)", duck)
    if m:
        return "decimal", int(m.group(1)), int(m.group(2)), False
    if duck.endswith("[]"):
        return "array", 0, 0, False
    if duck.startswith("MAP"):
        return "map", 0, 0, False
    if duck.startswith("STRUCT"):
        return "row", 0, 0, False
    name, precision, case = _TYPES.get(duck, (duck.lower(), 0, False))
    return name, precision, 0, case


def column_info(description) -> List[dict]:
    out = []
    for col in description or []:
        name, duck = col[0], str(col[1])
        kind, precision, scale, case = athena_type(duck)
        out.append({"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": name,
                    "Label": name, "Type": kind, "Precision": precision, "Scale": scale,
                    "Nullable": "UNKNOWN", "CaseSensitive": case})
    return out


def _double(v: float) -> str:
    """Java's Double.toString, as Trino prints doubles."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if v == 0:
        return "0.0"
    if 1e-3 <= abs(v) < 1e7:
        text = repr(v)
        return text if "." in text or "e" in text else text + ".0"
    mantissa, exponent = f"{v:.17e}".split("e")
    digits = repr(float(mantissa))  # shortest round-trip digits
    mant = float(digits)
    if abs(mant) >= 10:  # rounding carried over
        mant, exponent = mant / 10, str(int(exponent) + 1)
    m = repr(mant)
    return f"{m}E{int(exponent)}"


def text(value) -> Optional[str]:
    """One value as GetQueryResults' VarCharValue (None: NULL, no VarCharValue)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _double(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join("null" if x is None else str(text(x)) for x in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={'null' if v is None else text(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    return str(value)
