"""A workgroup's settings in force for one query (moto keeps the workgroups).

Athena "Override client-side settings" and StartQueryExecution
(https://docs.aws.amazon.com/athena/latest/ug/workgroups-settings-override.html): with
EnforceWorkGroupConfiguration the workgroup's result location and encryption apply
whatever the request says; without it the request's ResultConfiguration wins and the
workgroup's fills what it leaves out. BytesScannedCutoffPerQuery cancels a query that
reads more.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


class WorkgroupError(Exception):
    """StartQueryExecution refused (InvalidRequestException) with AWS's message."""


@dataclass
class Settings:
    output_location: str
    encryption: Optional[dict]
    cutoff: Optional[int]


def find(account: str, region: str, name: str):
    from moto.athena.models import athena_backends

    return athena_backends[account][region].work_groups.get(name)


def settings(account: str, region: str, name: str, requested: dict) -> Settings:
    group = find(account, region, name)
    if group is None:
        raise WorkgroupError(f"WorkGroup {name} is not found.")
    if getattr(group, "state", "ENABLED") != "ENABLED":
        raise WorkgroupError(f"WorkGroup {name} is disabled.")
    conf = group.configuration or {}
    theirs = conf.get("ResultConfiguration") or {}
    enforced = bool(conf.get("EnforceWorkGroupConfiguration")) and bool(theirs)
    mine = {} if enforced else (requested or {})
    location = mine.get("OutputLocation") or theirs.get("OutputLocation")
    if not location:
        raise WorkgroupError("No output location provided. An output location is required "
                             "either through the Workgroup result configuration setting or "
                             "as an API input.")
    encryption = mine.get("EncryptionConfiguration") or theirs.get("EncryptionConfiguration")
    cutoff = conf.get("BytesScannedCutoffPerQuery")
    return Settings(location, encryption, int(cutoff) if cutoff else None)
