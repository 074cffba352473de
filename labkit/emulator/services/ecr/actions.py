"""ECR: repositories are decided on their ARN."""
from __future__ import annotations

from labkit.emulator.request import AwsRequest


def resource(req: AwsRequest, op: str, account: str, caller_arn: str, path_params: dict):
    name = req.json_body().get("repositoryName")
    if not isinstance(name, str) or not name:
        return None
    return f"arn:aws:ecr:{req.region}:{account}:repository/{name}"
