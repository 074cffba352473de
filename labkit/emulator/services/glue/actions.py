"""Glue Data Catalog requests -> the permissions AWS evaluates.

AWS Glue "Specifying AWS Glue resource ARNs"
(https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html) and Athena
"Configure access to databases and tables in the AWS Glue Data Catalog"
(https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html):
catalog resources form a hierarchy (catalog -> database -> table); an action on a
resource needs the permission on that resource and on each of its ancestors, a
delete also on its descendants (DeleteDatabase: every table of the database), and
a list (GetDatabases, GetTables) on what it lists (``database/*``, ``table/DB/*``).
Operations outside the catalog (jobs, crawlers...) take the generic path.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

from labkit.emulator.request import AwsRequest

Check = Tuple[str, str, dict]

#: Operations on one database: where its name is in the request body.
_DATABASE_OPS = {"CreateDatabase": ("DatabaseInput", "Name"), "GetDatabase": ("Name",),
                 "UpdateDatabase": ("Name",), "DeleteDatabase": ("Name",)}
#: Operations on one table: (path of the database name, path of the table name).
_TABLE_OPS = {
    "CreateTable": (("DatabaseName",), ("TableInput", "Name")),
    "UpdateTable": (("DatabaseName",), ("TableInput", "Name")),
    "GetTable": (("DatabaseName",), ("Name",)),
    "DeleteTable": (("DatabaseName",), ("Name",)),
    "GetTableVersions": (("DatabaseName",), ("TableName",)),
    "GetTableVersion": (("DatabaseName",), ("TableName",)),
    "GetPartitions": (("DatabaseName",), ("TableName",)),
    "GetPartition": (("DatabaseName",), ("TableName",)),
    "BatchGetPartition": (("DatabaseName",), ("TableName",)),
    "CreatePartition": (("DatabaseName",), ("TableName",)),
    "BatchCreatePartition": (("DatabaseName",), ("TableName",)),
    "UpdatePartition": (("DatabaseName",), ("TableName",)),
    "BatchUpdatePartition": (("DatabaseName",), ("TableName",)),
    "DeletePartition": (("DatabaseName",), ("TableName",)),
    "BatchDeletePartition": (("DatabaseName",), ("TableName",)),
}


def catalog_arn(region: str, account: str) -> str:
    return f"arn:aws:glue:{region}:{account}:catalog"


def database_arn(region: str, account: str, database: str) -> str:
    return f"arn:aws:glue:{region}:{account}:database/{database}"


def table_arn(region: str, account: str, database: str, table: str) -> str:
    return f"arn:aws:glue:{region}:{account}:table/{database}/{table}"


def table_checks(action: str, region: str, account: str, database: str,
                 table: str, ctx: Optional[dict] = None) -> List[Check]:
    """ACTION on one table: the catalog, the database and the table (the hierarchy)."""
    ctx = ctx or {}
    return [(action, catalog_arn(region, account), ctx),
            (action, database_arn(region, account, database), ctx),
            (action, table_arn(region, account, database, table), ctx)]


def _at(data: dict, path) -> Optional[str]:
    value = data
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, str) and value else None


def checks(req: AwsRequest, op: str, action: str, account: str,
           ctx: dict) -> Optional[List[Check]]:
    """The catalog hierarchy's checks for OP, or None (generic path: not a catalog operation)."""
    body = req.json_body()
    owner = _at(body, ("CatalogId",)) or account
    region = req.region
    catalog = (action, catalog_arn(region, owner), ctx)
    if op == "GetDatabases":
        return [catalog, (action, database_arn(region, owner, "*"), ctx)]
    if op in _DATABASE_OPS:
        name = _at(body, _DATABASE_OPS[op])
        if name is None:
            return [catalog]  # moto reports the missing parameter
        found = [catalog, (action, database_arn(region, owner, name), ctx)]
        if op == "DeleteDatabase":  # a delete reaches every descendant
            found += [(action, table_arn(region, owner, name, "*"), ctx),
                      (action, f"arn:aws:glue:{region}:{owner}:userDefinedFunction/{name}/*",
                       ctx)]
        return found
    database = _at(body, ("DatabaseName",))
    if op in ("GetTables", "SearchTables") and database is not None:
        return table_checks(action, region, owner, database, "*", ctx)
    if op == "BatchDeleteTable" and database is not None:
        names = [n for n in body.get("TablesToDelete") or [] if isinstance(n, str)]
        return [c for n in names for c in table_checks(action, region, owner, database, n, ctx)]
    if op in _TABLE_OPS:
        db_path, table_path = _TABLE_OPS[op]
        database, table = _at(body, db_path), _at(body, table_path)
        if database is None or table is None:
            return [catalog]
        return table_checks(action, region, owner, database, table, ctx)
    return None
