"""Query executions of one account and Region, kept beside moto's Athena backend.

They live on moto's backend object so that resetting the emulator (moto's reset
makes new backends) forgets them with everything else.
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional

_lock = threading.Lock()


@dataclass
class Execution:
    """One query execution: what was asked, where it stands, what it produced."""

    query_id: str
    query: str
    workgroup: str
    database: Optional[str]
    catalog: str
    output_location: Optional[str]
    encryption: Optional[dict]
    statement_type: str = "DML"
    state: str = "QUEUED"
    reason: Optional[str] = None
    athena_error: Optional[dict] = None
    submitted: float = field(default_factory=time.time)
    completed: Optional[float] = None
    visible_at: float = 0.0          # aws-like mode: when the final state shows (monotonic)
    queued_until: float = 0.0
    scanned: int = 0
    engine_ms: int = 0
    columns: List[dict] = field(default_factory=list)   # ColumnInfo
    rows: List[list] = field(default_factory=list)      # values as strings (None = NULL)
    header: bool = True              # SELECT results start with the header row
    update_count: Optional[int] = None
    result_key: Optional[str] = None  # s3://.../QUERY_ID.csv once written
    substatement: Optional[str] = None
    manifest: Optional[str] = None   # Statistics.DataManifestLocation (CTAS)


def _backend(account: str, region: str):
    from moto.athena.models import athena_backends

    return athena_backends[account][region]


def _executions(account: str, region: str) -> Dict[str, Execution]:
    backend = _backend(account, region)
    found = getattr(backend, "labkit_executions", None)
    if found is None:
        found = backend.labkit_executions = {}
    return found


def new_id() -> str:
    return str(uuid.uuid4())


def add(account: str, region: str, execution: Execution) -> None:
    with _lock:
        _executions(account, region)[execution.query_id] = execution


def get(account: str, region: str, query_id: str) -> Optional[Execution]:
    return _executions(account, region).get(query_id)


def in_workgroup(account: str, region: str, workgroup: str) -> List[Execution]:
    """The workgroup's executions, newest first (ListQueryExecutions' order)."""
    found = [e for e in _executions(account, region).values() if e.workgroup == workgroup]
    return sorted(found, key=lambda e: e.submitted, reverse=True)
