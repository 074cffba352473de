"""Lambda: functions are decided on their ARN; Invoke is the lambda:InvokeFunction action."""
from __future__ import annotations

from labkit.emulator.request import AwsRequest

#: API operations whose IAM action has another name.
ACTION_NAMES = {"Invoke": "InvokeFunction", "InvokeWithResponseStream": "InvokeFunction"}
#: Operations that hand a role to Lambda (iam:PassRole): op -> (JSON paths, service)
PASSED_ROLES = {"CreateFunction": ((("Role",),), "lambda.amazonaws.com"),
                "UpdateFunctionConfiguration": ((("Role",),), "lambda.amazonaws.com")}


def resource(req: AwsRequest, op: str, account: str, caller_arn: str, path_params: dict):
    """The function named in the route (a name, a qualified name, or an ARN)."""
    name = path_params.get("FunctionName")
    if not name:
        return None
    if name.startswith("arn:"):
        return name
    return f"arn:aws:lambda:{req.region}:{account}:function:{name.split(':')[0]}"
