"""Hidden checks for lesson 08 (graded by `labkit regrade`, never shipped to learners)."""
from __future__ import annotations

from labkit.topics import containers_serverless as beyond, scaling as ec2
from labkit.checks import Fail, check


@check("08.lambda-least-privilege", points=1, hidden=True,
       hint="the function only writes logs: AWSLambdaBasicExecutionRole is all its role needs")
def lambda_least_privilege(lab):
    """The function's role carries only the basic execution policy."""
    attached = lab.client("iam").list_attached_role_policies(RoleName=beyond.lambda_role(lab))["AttachedPolicies"]
    arns = {p["PolicyArn"] for p in attached}
    if arns != {beyond.LAMBDA_POLICY_ARN}:
        raise Fail(f"{beyond.lambda_role(lab)} has {sorted(arns)}")
    return "logs only"
