"""Why a query failed, as Athena reports it (Status.StateChangeReason and AthenaError).

Athena "Athena error catalog" (https://docs.aws.amazon.com/athena/latest/ug/error-reference.html):
ErrorCategory 1 SYSTEM, 2 USER, 3 OTHER; ErrorType 1000 user error, 1003 DDL task
failed, 401 failed to write query results to Amazon S3. The engine's messages follow
Athena engine version 3 (Trino): ``TABLE_NOT_FOUND: line 1:15: Table
'awsdatacatalog.sales.x' does not exist``; the S3 refusals follow the Knowledge
Center article "Why do I get Access Denied errors when I run a query in Amazon Athena?"
(https://repost.aws/knowledge-center/access-denied-athena). labkit models only the
error types named here; any other DuckDB failure is reported as user error 1000 with
DuckDB's own text (Athena's DuckDB engine does the same: "Error messages use the
wording from DuckDB").
"""
from __future__ import annotations

from typing import Optional

USER, SYSTEM = 2, 1
USER_ERROR, DDL_FAILED, RESULT_WRITE_FAILED = 1000, 1003, 401


class QueryFailed(Exception):
    """The query ends FAILED with REASON (AWS's wording) and its AthenaError fields."""

    def __init__(self, reason: str, error_type: int = USER_ERROR, category: int = USER,
                 retryable: bool = False, state: str = "FAILED"):
        super().__init__(reason)
        self.reason, self.error_type, self.category = reason, error_type, category
        self.retryable, self.state = retryable, state

    def athena_error(self) -> dict:
        return {"ErrorCategory": self.category, "ErrorType": self.error_type,
                "Retryable": self.retryable, "ErrorMessage": self.reason}


def position(sql: str, meta: Optional[dict]) -> str:
    """Trino's ``line L:C`` for a node sqlglot parsed (C counts from 1 on its line)."""
    if not meta or "start" not in meta:
        return "line 1:1"
    start = int(meta["start"])
    line_start = sql.rfind("\n", 0, start) + 1
    return f"line {sql.count(chr(10), 0, start) + 1}:{start - line_start + 1}"


def table_not_found(where: str, database: str, table: str) -> QueryFailed:
    return QueryFailed(f"TABLE_NOT_FOUND: {where}: Table 'awsdatacatalog.{database}.{table}' "
                       "does not exist")


def schema_not_found(where: str, database: str) -> QueryFailed:
    return QueryFailed(f"SCHEMA_NOT_FOUND: {where}: Schema '{database}' does not exist")


def column_not_found(where: str, column: str) -> QueryFailed:
    return QueryFailed(f"COLUMN_NOT_FOUND: {where}: Column '{column}' cannot be resolved or "
                       "requester is not authorized to access requested resources")


def syntax_error(where: str, token: str) -> QueryFailed:
    return QueryFailed(f"{where}: mismatched input '{token}'")


def s3_read_denied(bucket: str, key: str, request_id: str) -> QueryFailed:
    return QueryFailed(
        "com.amazonaws.services.s3.model.AmazonS3Exception: Access Denied (Service: Amazon S3; "
        f"Status Code: 403; Error Code: AccessDenied; Request ID: {request_id}; Proxy: null), "
        f"S3 Extended Request ID: {request_id} (Path: s3://{bucket}/{key})")


def s3_list_denied(bucket: str, prefix: str) -> QueryFailed:
    return QueryFailed(f"Permission denied on S3 path: s3://{bucket}/{prefix}")


def kms_denied(bucket: str, key: str, message: str) -> QueryFailed:
    return QueryFailed(
        f"com.amazonaws.services.s3.model.AmazonS3Exception: {message} (Service: Amazon S3; "
        f"Status Code: 403; Error Code: AccessDenied; Proxy: null), (Path: s3://{bucket}/{key})")


def result_write_denied(url: str) -> QueryFailed:
    return QueryFailed(
        f"Access denied when writing output to url: {url} . Please ensure you are allowed to "
        "access the S3 bucket. If you are encrypting query results with KMS key, please "
        "ensure you are allowed to access your KMS key", RESULT_WRITE_FAILED)


def glue_denied(message: str, request_id: str) -> QueryFailed:
    return QueryFailed(
        f"Insufficient permissions to execute the query. {message} (Service: AWSGlue; "
        f"Status Code: 400; Error Code: AccessDeniedException; Request ID: {request_id}; "
        "Proxy: null)")


def ddl_failed(message: str) -> QueryFailed:
    return QueryFailed(f"FAILED: {message}", DDL_FAILED)


def bytes_cutoff(limit: int) -> QueryFailed:
    """Athena "Configure per-query and per-workgroup data usage controls": a query that
    scans more than the workgroup's per-query limit is canceled."""
    return QueryFailed(f"Query cancelled! Bytes scanned limit of {limit} bytes was exceeded",
                       USER_ERROR, state="CANCELLED")


def location_write_denied(url: str) -> QueryFailed:
    return QueryFailed(f"Access denied when writing to location: {url}")


def path_exists(database: str, table: str, url: str) -> QueryFailed:
    return QueryFailed(f"HIVE_PATH_ALREADY_EXISTS: Target directory for table "
                       f"'{database}.{table}' already exists: {url}. You may need to manually "
                       "clean the data at location before creating the table")
