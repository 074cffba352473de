"""EKS: clusters are decided on their ARN; creating one passes roles to EKS."""
from __future__ import annotations

from labkit.emulator.request import AwsRequest

#: Operations that hand a role to EKS (iam:PassRole): op -> (JSON paths, service)
PASSED_ROLES = {"CreateCluster": ((("roleArn",),), "eks.amazonaws.com"),
                "CreateNodegroup": ((("nodeRole",),), "eks.amazonaws.com")}


def resource(req: AwsRequest, op: str, account: str, caller_arn: str, path_params: dict):
    name = path_params.get("name")
    return f"arn:aws:eks:{req.region}:{account}:cluster/{name}" if name else None
