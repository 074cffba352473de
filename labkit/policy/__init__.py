"""Offline IAM policy engine: parse, evaluate, lint and simulate AWS policies.

Pure Python, no AWS calls. The public names::

    from labkit.policy import Request, evaluate, lint, PolicyError
    d = evaluate(Request(principal, action, resource, context),
                 identity_policies=[("engineer_access", doc)],
                 resource_policy=("bucket policy demo-analysis", bucket_doc))
    d.decision, d.allowed, d.reasons, d.denied_by, str(d)

See evaluate.py for the decision rules implemented, conditions.py for the
condition semantics, public.py for the S3 meaning of "public", simulate.py for
the IAM simulate_* look-alikes.
"""
from __future__ import annotations

from labkit.policy.document import Policy, Statement, clear_cache, parse_policy
from labkit.policy.errors import PolicyError
from labkit.policy.evaluate import (ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, Decision, Reason,
                                    Request, evaluate, evaluate_all)
from labkit.policy.lint import Finding, lint
from labkit.policy.principals import ANONYMOUS
from labkit.policy.public import is_public
from labkit.policy.simulate import simulate_custom_policy, simulate_principal_policy

__all__ = [
    "ANONYMOUS", "ALLOWED", "EXPLICIT_DENY", "IMPLICIT_DENY",
    "Decision", "Finding", "Policy", "PolicyError", "Reason", "Request", "Statement",
    "clear_cache", "evaluate", "evaluate_all", "is_public", "lint", "parse_policy",
    "simulate_custom_policy", "simulate_principal_policy",
]
