"""The Athena query API, answered here; workgroups and named queries go on to moto.

Each operation is first decided as athena:<Operation> on the query's workgroup (the
generic path's checks, actions.py). StartQueryExecution then runs the statement at
once, as the caller (engine.py); aws-like mode shows it QUEUED, then RUNNING, for the
mode's delay before its final state (labkit.emulator.aws_like).
"""
from __future__ import annotations

import json
import logging
import tempfile
import time

from labkit.emulator import aws_like
from labkit.emulator.authz import errors
from labkit.emulator.authz.call import Call
from labkit.emulator.authz.on_behalf import OnBehalf
from labkit.emulator.services.athena import engine, failures, results, store, workgroups
from labkit.emulator.services.athena.store import Execution

log = logging.getLogger("labkit.emulator.athena")
VIA = "athena.amazonaws.com"
_ANSWERED = ("StartQueryExecution", "GetQueryExecution", "GetQueryResults",
             "StopQueryExecution", "ListQueryExecutions", "BatchGetQueryExecution")


def handle(call: Call):
    op = call.req.operation
    if op not in _ANSWERED:
        return None
    refusal = call.first_refusal(call.generic_permissions())
    if refusal is not None:
        return refusal
    try:
        return _send(call, globals()["_" + op](call, call.req.json_body()))
    except _Invalid as exc:
        return call.send(errors.error(call.req, 400, "InvalidRequestException", str(exc)))


class _Invalid(Exception):
    """InvalidRequestException with AWS's message."""


def _send(call: Call, data: dict):
    body = json.dumps(data).encode()
    return call.send((200, [("Content-Type", "application/x-amz-json-1.1"),
                            ("x-amzn-RequestId", store.new_id())], body))


def _where(call: Call):
    return call.caller.account_id, call.req.region


# ----------------------------------------------------------------------------- start

def _StartQueryExecution(call: Call, body: dict) -> dict:
    query = body.get("QueryString")
    if not isinstance(query, str) or not query.strip():
        raise _Invalid("QueryString must not be empty.")
    account, region = _where(call)
    name = body.get("WorkGroup") or "primary"
    try:
        wg = workgroups.settings(account, region, name, body.get("ResultConfiguration") or {})
    except workgroups.WorkgroupError as exc:
        raise _Invalid(str(exc)) from None
    context = body.get("QueryExecutionContext") or {}
    execution = Execution(query_id=store.new_id(), query=query, workgroup=name,
                          database=context.get("Database"),
                          catalog=context.get("Catalog") or "AwsDataCatalog",
                          output_location=wg.output_location, encryption=wg.encryption,
                          statement_type=engine.statement_type(query))
    store.add(account, region, execution)
    _run(call, execution, wg)
    return {"QueryExecutionId": execution.query_id}


def _run(call: Call, execution: Execution, wg: workgroups.Settings) -> None:
    lender = OnBehalf.of(call, VIA)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="labkit-athena-") as workdir:
        ctx = engine.Context(lender, (execution.database or "default").lower(), workdir,
                             wg.cutoff, wg.output_location, execution.query_id)
        try:
            outcome = engine.run(execution.query, ctx)
            execution.result_key = results.write(lender, wg.output_location,
                                                 execution.query_id, outcome, wg.encryption)
            _succeeded(execution, outcome)
        except failures.QueryFailed as exc:
            execution.state, execution.reason = exc.state, exc.reason
            execution.athena_error = exc.athena_error()
        except Exception as exc:  # never a traceback to the client: a FAILED query
            log.warning("athena: query %s failed inside the emulator", execution.query_id,
                        exc_info=True)
            execution.state, execution.reason = "FAILED", f"GENERIC_INTERNAL_ERROR: {exc}"
            execution.athena_error = failures.QueryFailed(
                execution.reason, 200, failures.SYSTEM).athena_error()
    execution.engine_ms = int((time.time() - started) * 1000)
    execution.completed = time.time()
    if aws_like.enabled():
        now, delay = aws_like.now(), aws_like.delay()
        execution.queued_until, execution.visible_at = now + delay / 3, now + delay


def _succeeded(execution: Execution, outcome: engine.Outcome) -> None:
    execution.state = "SUCCEEDED"
    execution.columns, execution.rows = outcome.columns, outcome.rows
    execution.scanned, execution.header = outcome.scanned, outcome.header
    execution.update_count = outcome.update_count
    execution.statement_type = outcome.statement_type
    execution.substatement = outcome.substatement
    execution.manifest = outcome.manifest
    if execution.result_key is None and execution.output_location:
        execution.result_key = results.location(execution.output_location,
                                                execution.query_id, ".csv")[2]


# ----------------------------------------------------------------------------- describe

def state_of(execution: Execution) -> str:
    """The state a client sees now (aws-like mode: QUEUED, RUNNING, then the outcome)."""
    if execution.visible_at and execution.state in ("SUCCEEDED", "FAILED", "CANCELLED"):
        now = aws_like.now()
        if now < execution.queued_until:
            return "QUEUED"
        if now < execution.visible_at:
            return "RUNNING"
    return execution.state


def describe(execution: Execution) -> dict:
    state = state_of(execution)
    status = {"State": state, "SubmissionDateTime": execution.submitted}
    final = state in ("SUCCEEDED", "FAILED", "CANCELLED")
    if final:
        status["CompletionDateTime"] = execution.completed or time.time()
    if state == "FAILED":
        status["StateChangeReason"] = execution.reason
        status["AthenaError"] = execution.athena_error
    elif state == "CANCELLED" and execution.reason:
        status["StateChangeReason"] = execution.reason
    output = execution.result_key or (execution.output_location or "")
    result_conf = {"OutputLocation": output}
    if execution.encryption:
        result_conf["EncryptionConfiguration"] = execution.encryption
    engine_ms = execution.engine_ms if final else 0
    out = {
        "QueryExecutionId": execution.query_id, "Query": execution.query,
        "StatementType": execution.statement_type, "ResultConfiguration": result_conf,
        "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
        "QueryExecutionContext": {k: v for k, v in (("Database", execution.database),
                                                    ("Catalog", execution.catalog)) if v},
        "Status": status,
        "Statistics": {"EngineExecutionTimeInMillis": engine_ms,
                       "DataScannedInBytes": execution.scanned if final else 0,
                       "TotalExecutionTimeInMillis": engine_ms,
                       "QueryQueueTimeInMillis": 0, "ServicePreProcessingTimeInMillis": 0,
                       "QueryPlanningTimeInMillis": 0, "ServiceProcessingTimeInMillis": 0,
                       "ResultReuseInformation": {"ReusedPreviousResult": False}},
        "WorkGroup": execution.workgroup,
        "EngineVersion": {"SelectedEngineVersion": "AUTO",
                          "EffectiveEngineVersion": "Athena engine version 3"},
    }
    if execution.substatement and final:
        out["SubstatementType"] = execution.substatement
    if execution.manifest and state == "SUCCEEDED":
        out["Statistics"]["DataManifestLocation"] = execution.manifest
    return out


def _find(call: Call, query_id) -> Execution:
    account, region = _where(call)
    found = store.get(account, region, str(query_id or ""))
    if found is None:
        raise _Invalid(f"QueryExecution {query_id} was not found")
    return found


def _GetQueryExecution(call: Call, body: dict) -> dict:
    return {"QueryExecution": describe(_find(call, body.get("QueryExecutionId")))}


def _BatchGetQueryExecution(call: Call, body: dict) -> dict:
    ids = body.get("QueryExecutionIds") or []
    if not isinstance(ids, list) or not 1 <= len(ids) <= 50:
        raise _Invalid("QueryExecutionIds must hold between 1 and 50 ids.")
    account, region = _where(call)
    found, missing = [], []
    for query_id in ids:
        execution = store.get(account, region, str(query_id))
        if execution is None:
            missing.append({"QueryExecutionId": query_id, "ErrorCode": "INVALID_INPUT",
                            "ErrorMessage": f"QueryExecution {query_id} was not found"})
        else:
            found.append(describe(execution))
    return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}


def _ListQueryExecutions(call: Call, body: dict) -> dict:
    account, region = _where(call)
    size = _page_size(body, 50)
    start = _token(body)
    ids = [e.query_id for e in store.in_workgroup(account, region,
                                                  body.get("WorkGroup") or "primary")]
    out = {"QueryExecutionIds": ids[start:start + size]}
    if start + size < len(ids):
        out["NextToken"] = str(start + size)
    return out


def _StopQueryExecution(call: Call, body: dict) -> dict:
    execution = _find(call, body.get("QueryExecutionId"))
    if state_of(execution) in ("QUEUED", "RUNNING"):
        execution.state, execution.visible_at = "CANCELLED", 0.0
        execution.reason = "Query cancelled by user"
        execution.completed = time.time()
    return {}


# ----------------------------------------------------------------------------- results

def _page_size(body: dict, most: int) -> int:
    size = body.get("MaxResults", most)
    if not isinstance(size, int) or not 1 <= size <= most:
        raise _Invalid(f"MaxResults must be between 1 and {most}.")
    return size


def _token(body: dict) -> int:
    token = body.get("NextToken")
    if token is None:
        return 0
    try:
        return int(token)
    except (TypeError, ValueError):
        raise _Invalid("The NextToken is not valid.") from None


def _GetQueryResults(call: Call, body: dict) -> dict:
    execution = _find(call, body.get("QueryExecutionId"))
    state = state_of(execution)
    if state in ("QUEUED", "RUNNING"):
        raise _Invalid(f"Query has not yet finished. Current state: {state}")
    if state != "SUCCEEDED":
        raise _Invalid(f"Query did not finish successfully. Final query state: {state}"
                       + (f"\n{execution.reason}" if execution.reason else ""))
    if execution.statement_type == "DML" and execution.result_key:
        problem = results.check_readable(OnBehalf.of(call, VIA), execution.result_key)
        if problem is not None:
            raise _Invalid(problem)
    rows, token = results.page(execution.columns, execution.rows, execution.header,
                               _token(body), _page_size(body, results.MAX_PAGE))
    out = {"ResultSet": rows}
    if execution.update_count is not None:
        out["UpdateCount"] = execution.update_count
    if token is not None:
        out["NextToken"] = str(token)
    return out
