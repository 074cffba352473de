"""Hidden checks for lesson 03 (graded by `labkit regrade`, never shipped to learners)."""
from __future__ import annotations

from labkit.checks import Fail, check
from labkit.checks.lesson03 import _ap_policy, _bucket_policy
from labkit.policy import lint


@check("03.no-public-grants", points=1, hidden=True,
       hint="never Allow \"Principal\": \"*\" without a condition that confines it")
def no_public_grants(lab):
    """No access point or bucket policy of the lab has a lint error (e.g. a public grant)."""
    docs = [(f"access point policy {name}", _ap_policy(lab, name)) for name in lab.names.access_points]
    docs += [(f"bucket policy {b}", _bucket_policy(lab, b)) for b in lab.names.buckets]
    for label, doc in docs:
        errors = [f for f in lint(doc, kind="resource") if f.level == "error"]
        if errors:
            raise Fail(f"{label}: {errors[0]}")
    return "no policy grants anything to the public"
