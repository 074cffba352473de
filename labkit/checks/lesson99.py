"""Checks for lesson 99: nothing the course created for NAME is left."""
from __future__ import annotations

from labkit import teardown
from labkit.checks import Fail, check


@check("99.nothing-left", points=5,
       hint="Run labkit.teardown.teardown_all(lab) and read its report: each line says what "
            "could not be removed and why")
def nothing_left(lab):
    """Every topic module's leftovers(lab) is empty."""
    found = []
    for topic in teardown.topics():
        if topic.leftovers is not None:
            found += [f"{topic.module}: {item}" for item in topic.leftovers(lab)]
    if found:
        raise Fail(f"{len(found)} resource(s) still exist: " + "; ".join(found))
    return f"nothing is left of NAME={lab.name!r} ({len(teardown.topics())} topic modules asked)"


@check("99.profiles-removed", points=1,
       hint="lab.files.remove_profile(user) for each of lab.names.users")
def profiles_removed(lab):
    """The users' lab-local profiles are gone with their keys."""
    stale = [p for p in lab.names.users if p in lab.files.profiles()]
    if stale:
        raise Fail(f"lab-local profiles of deleted users remain: {', '.join(stale)}")
    return "no lab-local profile of a deleted user remains"


def _named_for(lab, name: str) -> bool:
    return name.startswith(f"{lab.name}-") or name.endswith(f"-{lab.name}")


@check("99.no-stray-resources", points=2, hidden=True,
       hint="Look for users, groups, policies, roles and buckets named after NAME that the "
            "course's modules do not know about, and remove them")
def no_stray_resources(lab):
    """No IAM user, group, role, customer policy or bucket named after NAME exists."""
    iam, s3 = lab.client("iam"), lab.client("s3")
    found = []
    for operation, key, field, kind, kwargs in (
            ("list_users", "Users", "UserName", "user", {}),
            ("list_groups", "Groups", "GroupName", "group", {}),
            ("list_roles", "Roles", "RoleName", "role", {}),
            ("list_policies", "Policies", "PolicyName", "policy", {"Scope": "Local"})):
        for page in iam.get_paginator(operation).paginate(**kwargs):
            found += [f"{kind} {item[field]}" for item in page[key]
                      if _named_for(lab, item[field])]
    found += [f"bucket {b['Name']}" for b in s3.list_buckets().get("Buckets", [])
              if _named_for(lab, b["Name"])]
    if found:
        raise Fail("still there: " + ", ".join(found))
    return "no IAM or S3 resource is named after NAME"
