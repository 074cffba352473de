"""A SELECT: the tables it reads loaded as DuckDB views (as the caller), then run by DuckDB
in DuckDB's dialect (sqlglot writes it)."""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

from sqlglot import exp

from labkit.emulator.services.athena import failures, tables, values
from labkit.emulator.services.athena.statement import Context, Outcome


def referenced_tables(tree: exp.Expression, default_db: str) -> List[Tuple[exp.Table, str, str]]:
    """(node, database, table) of every catalog table TREE reads (CTEs are not tables)."""
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    found = []
    for node in tree.find_all(exp.Table):
        if not node.name or (not node.db and node.name.lower() in ctes):
            continue
        if isinstance(node.this, exp.Func):  # a table function (UNNEST...) is not a table
            continue
        found.append((node, (node.db or default_db).lower(), node.name.lower()))
    return found


def _first(node: exp.Table) -> dict:
    """The meta of a table reference's first part (Trino points at catalog/schema/table)."""
    parts = [node.args.get(k) for k in ("catalog", "db", "this")]
    metas = [p.meta for p in parts if isinstance(p, exp.Identifier) and "start" in p.meta]
    return min(metas, key=lambda m: m["start"]) if metas else {}


def _conjuncts(node) -> list:
    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    return [node]


def pruning(tree: exp.Expression, table: tables.Table):
    """Athena "Partitioning data": a WHERE that fixes partition keys reads only the
    partitions that match. labkit prunes on `key = 'literal'` and `key IN (...)` ANDed at
    the top of a single-table query's WHERE; any other filter reads every partition."""
    keys = {k for k, _ in table.partition_keys}
    where = tree.args.get("where") if isinstance(tree, exp.Select) else None
    if not keys or where is None or len(list(tree.find_all(exp.Table))) != 1:
        return None
    allowed = {}
    for cond in _conjuncts(where.this):
        if isinstance(cond, exp.EQ) and isinstance(cond.left, exp.Column) \
                and isinstance(cond.right, exp.Literal) and cond.left.name.lower() in keys:
            allowed.setdefault(cond.left.name.lower(), []).append({cond.right.name})
        elif isinstance(cond, exp.In) and isinstance(cond.this, exp.Column) \
                and cond.this.name.lower() in keys \
                and all(isinstance(e, exp.Literal) for e in cond.expressions):
            allowed.setdefault(cond.this.name.lower(), []).append(
                {e.name for e in cond.expressions})
    if not allowed:
        return None
    return lambda values: all(values.get(k) in s for k, sets in allowed.items() for s in sets)


def needed_columns(tree: exp.Expression) -> Optional[set]:
    """The column names TREE names; None when it reads every column (``*``)."""
    if any(True for _ in tree.find_all(exp.Star)):
        return None
    return {c.name.lower() for c in tree.find_all(exp.Column) if c.name}


def load_tables(con, tree: exp.Expression, text: str, ctx: Context, scan: tables.Scan) -> None:
    """Each table TREE reads becomes a view DATABASE.TABLE in CON over its objects."""
    seen = set()
    needed = needed_columns(tree)
    for node, database, name in referenced_tables(tree, ctx.database):
        where = failures.position(text, _first(node))
        node.set("catalog", None)
        node.set("db", exp.to_identifier(database, quoted=True))
        node.set("this", exp.to_identifier(name, quoted=True))
        if (database, name) in seen:
            continue
        seen.add((database, name))
        table = tables.get_table(ctx.lender, database, name, where)
        places = tables.fetch(ctx.lender, table, ctx.workdir, scan, needed,
                              pruning(tree, table))
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{database}"')
        con.execute(f'CREATE OR REPLACE VIEW "{database}"."{name}" AS '
                    f'{tables.view_sql(table, places)}')
        if ctx.cutoff is not None and scan.scanned > ctx.cutoff:
            raise failures.bytes_cutoff(ctx.cutoff)


def execute(con, tree: exp.Expression, text: str):
    """Run TREE in DuckDB; DuckDB's refusals worded as Athena's."""
    import duckdb

    try:
        return con.execute(tree.sql(dialect="duckdb"))
    except duckdb.BinderException as exc:
        m = re.search(r'Referenced column "([^"]+)" not found', str(exc))
        if m:
            column = m.group(1)
            node = next((c for c in tree.find_all(exp.Column)
                         if c.name.lower() == column.lower()), None)
            raise failures.column_not_found(
                failures.position(text, node.this.meta if node is not None else None),
                column) from None
        raise failures.QueryFailed(f"SYNTAX_ERROR: {exc}") from None
    except duckdb.Error as exc:
        raise failures.QueryFailed(f"GENERIC_USER_ERROR: {exc}") from None


def connect():
    """A DuckDB connection for one query. DuckDB's type_pushdown would turn a text table's
    TRY_CAST (a value that does not fit reads as NULL, as Hive reads it) into the CSV
    reader's strict conversion, which fails the query: it is off."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET disabled_optimizers = 'type_pushdown'")
    return con


def select(tree: exp.Expression, text: str, ctx: Context) -> Outcome:
    scan = tables.Scan()
    con = connect()
    try:
        load_tables(con, tree, text, ctx, scan)
        result = execute(con, tree, text)
        columns = values.column_info(result.description)
        rows = [[values.text(v) for v in row] for row in result.fetchall()]
    finally:
        con.close()
    return Outcome(columns=columns, rows=rows, scanned=scan.scanned, statement_type="DML",
                   substatement="SELECT")


def query_relation(tree: exp.Expression, text: str, ctx: Context):
    """(connection, DuckDB SQL, bytes scanned) for CTAS: the SELECT ready to COPY."""
    scan = tables.Scan()
    con = connect()
    try:
        load_tables(con, tree, text, ctx, scan)
    except Exception:
        con.close()
        raise
    return con, tree.sql(dialect="duckdb"), scan.scanned
