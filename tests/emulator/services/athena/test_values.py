"""DuckDB's results shown as Athena (Trino) shows them: ColumnInfo types and VarCharValue
text (Java's Double.toString, timestamps to the millisecond, NULL without a value)."""
from __future__ import annotations

import datetime as dt

from labkit.emulator.services.athena import values


def test_doubles_print_as_java_prints_them():
    assert [values.text(x) for x in (1.5e10, 0.1, 2.0, 1e-4, 12345678.0)] == [
        "1.5E10", "0.1", "2.0", "1.0E-4", "1.2345678E7"]


def test_other_values():
    assert values.text(None) is None
    assert values.text(True) == "true"
    assert values.text(dt.datetime(2024, 1, 2, 3, 4, 5, 120000)) == "2024-01-02 03:04:05.120"
    assert values.text([1, None]) == "[1, null]"


def test_types():
    assert values.athena_type("TIMESTAMP_S")[0] == "timestamp"
    assert values.athena_type('"NULL"')[0] == "unknown"
    assert values.athena_type("DECIMAL(10,2)")[:3] == ("decimal", 10, 2)
    assert values.athena_type("HUGEINT")[0] == "bigint"
    assert values.athena_type("VARCHAR") == ("varchar", 2147483647, 0, True)
