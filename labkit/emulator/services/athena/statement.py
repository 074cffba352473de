"""What a statement runs with (Context) and what it produced (Outcome)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

from labkit.emulator.authz.on_behalf import OnBehalf


@dataclass
class Outcome:
    """What a statement produced."""

    columns: List[dict] = field(default_factory=list)   # ColumnInfo
    rows: List[list] = field(default_factory=list)      # strings, None for NULL
    scanned: int = 0
    statement_type: str = "DML"
    substatement: Optional[str] = None
    update_count: Optional[int] = None
    header: bool = True
    text_result: bool = False  # DDL output is a .txt, not a .csv
    manifest: Optional[str] = None  # CTAS: s3:// URL of QUERY_ID-manifest.csv


@dataclass
class Context:
    """Who runs the statement, where, and against what."""

    lender: OnBehalf
    database: str
    workdir: str
    cutoff: Optional[int] = None      # workgroup BytesScannedCutoffPerQuery
    output_location: Optional[str] = None
    query_id: str = ""
