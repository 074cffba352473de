"""Hidden checks for lesson 99 (graded by `labkit regrade`, never shipped to learners)."""
from __future__ import annotations

from labkit.checks import Fail, check


def _named_for(lab, name: str) -> bool:
    return name.startswith(f"{lab.name}-") or name.endswith(f"-{lab.name}")


@check("99.no-stray-resources", points=2, hidden=True,
       hint="Look for users, groups, policies, roles and buckets named after NAME that the "
            "course's modules do not know about, and remove them")
def no_stray_resources(lab):
    """No IAM user, group, role, customer policy, bucket or trail named after NAME exists."""
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
    found += [f"trail {t['Name']}" for t in lab.client("cloudtrail").list_trails()["Trails"]
              if _named_for(lab, t["Name"])]
    if found:
        raise Fail("still there: " + ", ".join(found))
    return "no IAM or S3 resource is named after NAME"
