"""Access Analyzer requests -> operation, IAM action and resource.

The policy-check operations have no resource-level permissions (the Service
Authorization Reference lists no resource type for them), so the resource is "*".
"""
from __future__ import annotations

from typing import Optional, Tuple

from labkit.emulator.authz.generic import rest_operation
from labkit.emulator.request import AwsRequest

#: The signing name botocore uses for the accessanalyzer client.
SIGNING_NAME = "access-analyzer"
#: Operations answered by labkit (gateway.py).
OPERATIONS = ("CheckAccessNotGranted", "CheckNoNewAccess", "CheckNoPublicAccess",
              "ValidatePolicy")


def operation(req: AwsRequest) -> Optional[str]:
    """The Access Analyzer operation of REQ (from its REST route), or None."""
    op, _params = rest_operation("accessanalyzer", req.method, req.path)
    return op


def permission(op: str) -> Tuple[str, str]:
    """(IAM action, resource) OP needs."""
    return f"access-analyzer:{op}", "*"
