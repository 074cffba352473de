"""Query results: written to the output location as the caller, read back in pages.

Athena "Working with query results, recent queries, and output files"
(https://docs.aws.amazon.com/athena/latest/ug/querying.html): a SELECT's results are
``QUERY_ID.csv`` (every value in double quotes, NULL as nothing) beside
``QUERY_ID.csv.metadata``; DDL output (SHOW, DESCRIBE) is ``QUERY_ID.txt``; a CTAS
writes ``QUERY_ID-manifest.csv`` naming its data files. Results are encrypted as the
workgroup or the request says (SSE_S3, SSE_KMS: S3 then calls KMS as the caller).

The ``.metadata`` file AWS writes is a binary format of its own; labkit writes the
ColumnInfo there as JSON (clients read column types from GetQueryResults, not from it).
"""
from __future__ import annotations

import io
import json
from typing import List, Optional, Tuple

from labkit.emulator.authz.on_behalf import OnBehalf
from labkit.emulator.services.athena import failures, tables

#: GetQueryResults: at most this many rows a page (AWS: MaxResults 1..1000).
MAX_PAGE = 1000


def csv_text(columns: List[dict], rows: List[list]) -> str:
    out = io.StringIO()

    def cell(v: Optional[str]) -> str:
        return "" if v is None else '"' + v.replace('"', '""') + '"'

    out.write(",".join(cell(c["Name"]) for c in columns) + "\n")
    for row in rows:
        out.write(",".join(cell(v) for v in row) + "\n")
    return out.getvalue()


def txt_text(rows: List[list]) -> str:
    return "".join("\t".join("" if v is None else v for v in row) + "\n" for row in rows)


def location(output: str, query_id: str, suffix: str) -> Tuple[str, str, str]:
    """(bucket, key, url) of QUERY_ID + SUFFIX under OUTPUT."""
    bucket, prefix = tables.split_s3(output)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    key = f"{prefix}{query_id}{suffix}"
    return bucket, key, f"s3://{bucket}/{key}"


def encryption_headers(encryption: Optional[dict]) -> dict:
    option = (encryption or {}).get("EncryptionOption")
    if option == "SSE_S3":
        return {"x-amz-server-side-encryption": "AES256"}
    if option == "SSE_KMS":
        headers = {"x-amz-server-side-encryption": "aws:kms"}
        if encryption.get("KmsKey"):
            headers["x-amz-server-side-encryption-aws-kms-key-id"] = encryption["KmsKey"]
        return headers
    return {}


def put(lender: OnBehalf, bucket: str, key: str, body: bytes, encryption: Optional[dict]) -> None:
    """PutObject as the caller; a refusal fails the query as Athena words it."""
    status, _, answer = lender.s3("PUT", bucket, key, "", body, encryption_headers(encryption))
    if status == 403:
        raise failures.result_write_denied(f"s3://{bucket}/{key}")
    if status >= 300:
        code = answer.decode("utf-8", "replace").split("<Code>", 1)[-1].split("</Code>", 1)[0]
        if code == "NoSuchBucket":
            raise failures.QueryFailed(f"Unable to verify/create output bucket {bucket}",
                                       failures.RESULT_WRITE_FAILED)
        raise failures.result_write_denied(f"s3://{bucket}/{key}")


def write(lender: OnBehalf, output: str, query_id: str, outcome, encryption) -> str:
    """Write OUTCOME's result files; the URL GetQueryExecution reports as OutputLocation."""
    suffix = ".txt" if outcome.text_result else ".csv"
    bucket, key, url = location(output, query_id, suffix)
    if outcome.statement_type == "DML" or outcome.text_result:
        body = (txt_text(outcome.rows) if outcome.text_result
                else csv_text(outcome.columns, outcome.rows))
        put(lender, bucket, key, body.encode("utf-8"), encryption)
    meta = json.dumps({"ColumnInfo": outcome.columns, "labkit": "JSON, not AWS's binary "
                       "metadata format"}).encode()
    # A CTAS has no .csv: its metadata sits beside its manifest as QUERY_ID.metadata.
    meta_key = key + ".metadata" if outcome.manifest is None else \
        location(output, query_id, ".metadata")[1]
    put(lender, bucket, meta_key, meta, encryption)
    return url


def check_readable(lender: OnBehalf, url: str) -> Optional[str]:
    """GetQueryResults reads the result file as the caller: AWS's message if it may not."""
    bucket, key = tables.split_s3(url)
    status, _, body = lender.s3("GET", bucket, key)
    if status == 403:
        text = body.decode("utf-8", "replace")
        detail = text.split("<Message>", 1)[-1].split("</Message>", 1)[0]
        return (f"Access denied when reading query results from {url}: {detail}")
    return None


def page(columns: List[dict], rows: List[list], header: bool, start: int,
         size: int) -> Tuple[dict, Optional[int]]:
    """(ResultSet, next start or None) for rows START.. (the header row counts as row 0)."""
    shown: List[list] = ([[c["Name"] for c in columns]] if header else []) + rows
    chunk = shown[start:start + size]
    result = {"Rows": [{"Data": [({} if v is None else {"VarCharValue": v}) for v in row]}
                       for row in chunk],
              "ResultSetMetadata": {"ColumnInfo": columns}}
    nxt = start + size
    return result, (nxt if nxt < len(shown) else None)
