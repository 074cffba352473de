"""Athena requests -> athena:* on the workgroup ARN (Service Authorization Reference:
query and named-query actions act on the workgroup; ListWorkGroups and the data
catalog listing have no resource)."""
from __future__ import annotations

from typing import Optional

from labkit.emulator.request import AwsRequest
from labkit.emulator.services.athena import store

#: Operations that name a query execution rather than a workgroup.
_BY_QUERY = ("GetQueryExecution", "GetQueryResults", "StopQueryExecution",
             "GetQueryRuntimeStatistics")
#: Operations whose workgroup is in the body under another name.
_NAME_FIELD = {"CreateWorkGroup": "Name"}


def workgroup_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:athena:{region}:{account}:workgroup/{name}"


def workgroup_of(req: AwsRequest, op: str, account: str) -> Optional[str]:
    body = req.json_body()
    if op in _BY_QUERY:
        found = store.get(account, req.region, str(body.get("QueryExecutionId", "")))
        return found.workgroup if found is not None else None
    name = body.get(_NAME_FIELD.get(op, "WorkGroup"))
    if isinstance(name, str) and name:
        return name
    if op in ("StartQueryExecution", "ListQueryExecutions", "ListNamedQueries",
              "CreateNamedQuery", "ListPreparedStatements"):
        return "primary"  # AWS: the primary workgroup when none is named
    return None


def resource(req: AwsRequest, op: str, account: str, caller_arn: str, path_params: dict):
    if op in ("ListWorkGroups", "ListDataCatalogs", "ListEngineVersions"):
        return None
    name = workgroup_of(req, op, account)
    return workgroup_arn(req.region, account, name) if name else None
