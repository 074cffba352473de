"""One Athena statement: parsed as Athena's SQL (Trino for queries, Hive for DDL, as
Athena engine version 3 does), its tables read as the caller, run by DuckDB.

sqlglot reads the Trino SQL, names the tables and columns a query uses, and writes
it in DuckDB's dialect; each table becomes a DuckDB view over the objects read for
this query alone (tables.py), so nothing the caller may not read reaches DuckDB.
"""
from __future__ import annotations

import re
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from labkit.emulator.services.athena import ctas, ddl, failures, select
from labkit.emulator.services.athena.statement import Context, Outcome

__all__ = ["Context", "Outcome", "run", "statement_type"]


_DDL_START = re.compile(r"^\s*(SHOW|MSCK|DESCRIBE|DESC|CREATE|DROP|ALTER)\b", re.I)


def strip(sql: str) -> str:
    text = sql.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def statement_type(sql: str) -> str:
    """DDL or DML, as StartQueryExecution's answer reports it before the query runs."""
    text = strip(sql)
    if re.match(r"^\s*CREATE\s+TABLE\b.*\bAS\b", text, re.I | re.S):
        return "DDL"  # Athena counts CTAS as DDL
    return "DDL" if _DDL_START.match(text) else "DML"


def run(sql: str, ctx: Context) -> Outcome:
    """Run one statement; raises failures.QueryFailed as Athena would fail it."""
    text = strip(sql)
    if not text:
        raise failures.syntax_error("line 1:1", "<EOF>")
    answered = ddl.run_text(text, ctx)
    if answered is not None:
        return answered
    tree = parse(text, "hive" if re.match(r"^\s*CREATE\s+EXTERNAL", text, re.I) else "trino")
    if isinstance(tree, exp.Create) and tree.expression is not None:
        return ctas.run(tree, text, ctx)
    answered = ddl.run_tree(tree, text, ctx)
    if answered is not None:
        return answered
    if not isinstance(tree, exp.Query):
        raise failures.QueryFailed(
            f"NOT_SUPPORTED: labkit's Athena runs SELECT and the DDL statements "
            f"(CREATE DATABASE/EXTERNAL TABLE, CTAS, DROP, SHOW, DESCRIBE, MSCK REPAIR TABLE), "
            f"not {type(tree).__name__.upper()}")
    return select.select(tree, text, ctx)


def parse(text: str, dialect: str) -> exp.Expression:
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except ParseError as exc:
        err = (exc.errors or [{}])[0]
        line, col = err.get("line", 1), err.get("col", 1)
        token = err.get("highlight") or "<EOF>"
        start = max(1, col - len(token) + 1)
        raise failures.syntax_error(f"line {line}:{start}", token) from None
    if tree is None:
        raise failures.syntax_error("line 1:1", "<EOF>")
    return tree


