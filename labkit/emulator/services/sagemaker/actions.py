"""SageMaker: the resource ARN a request is decided on.

The Service Authorization Reference for SageMaker gives Studio operations
resource-level permissions: domain/ID, user-profile/DOMAIN-ID/NAME,
space/DOMAIN-ID/NAME and app/DOMAIN-ID/OWNER/TYPE/NAME (OWNER is the user
profile or the space), notebook-instance/NAME and training-job/NAME. So an
analyst may be allowed sagemaker:CreatePresignedDomainUrl on their own user
profile only. List operations have no resource ("*"). The ARN shapes are those
the emulator answers with (labkit.emulator.services.sagemaker.behaviour).
"""
from __future__ import annotations

from typing import Optional

#: operation name suffix -> resource type; the operation's verb comes first (Create, Describe...)
_BY_NOUN = {"Domain": "domain", "UserProfile": "user-profile", "Space": "space", "App": "app",
            "NotebookInstance": "notebook-instance", "TrainingJob": "training-job"}
_VERBS = ("Create", "Describe", "Delete", "Update", "Start", "Stop")
#: operations that act on another resource than their name says.
_SPECIAL = {"CreatePresignedDomainUrl": "user-profile",
            "CreatePresignedNotebookInstanceUrl": "notebook-instance"}


def resource_type(op: str) -> Optional[str]:
    """The SageMaker resource type OP acts on, or None (list and unmodelled operations)."""
    if op in _SPECIAL:
        return _SPECIAL[op]
    for verb in _VERBS:
        if op.startswith(verb) and op[len(verb):] in _BY_NOUN:
            return _BY_NOUN[op[len(verb):]]
    return None


def arn(body: dict, op: str, region: str, account: str) -> str:
    """The ARN SageMaker operation OP (JSON request BODY) is decided on, else "*"."""
    kind = resource_type(op)
    path = _path(kind, body) if kind else None
    if path is None:
        return "*"
    return f"arn:aws:sagemaker:{region}:{account}:{kind}/{path}"


def _path(kind: str, body: dict) -> Optional[str]:
    def s(key: str) -> str:
        value = body.get(key)
        return value if isinstance(value, str) else ""

    domain = s("DomainId")
    if kind == "domain":
        # CreateDomain: the ID does not exist yet; AWS lets only a wildcard match it.
        return domain or "*"
    if kind in ("user-profile", "space"):
        name = s("UserProfileName") if kind == "user-profile" else s("SpaceName")
        return f"{domain}/{name}" if domain and name else None
    if kind == "app":
        owner = s("UserProfileName") or s("SpaceName")
        parts = (domain, owner, s("AppType").lower(), s("AppName"))
        return "/".join(parts) if all(parts) else None
    name = s("NotebookInstanceName") if kind == "notebook-instance" else s("TrainingJobName")
    return name.lower() or None


def resource(req, op: str, account: str, caller_arn: str, path_params: dict) -> str:
    """The registry's hook: AddTags/DeleteTags/ListTags act on the ResourceArn they name,
    everything else on the resource of :func:`arn`."""
    body = req.json_body()
    if op in ("AddTags", "DeleteTags", "ListTags") and isinstance(body.get("ResourceArn"), str):
        return body["ResourceArn"]
    return arn(body, op, req.region, account)


_SAGEMAKER = "sagemaker.amazonaws.com"
#: Operations that hand a role to SageMaker (iam:PassRole): op -> (JSON paths, service)
PASSED_ROLES = {
    "CreateDomain": ((("DefaultUserSettings", "ExecutionRole"),
                      ("DefaultSpaceSettings", "ExecutionRole")), _SAGEMAKER),
    "UpdateDomain": ((("DefaultUserSettings", "ExecutionRole"),), _SAGEMAKER),
    "CreateUserProfile": ((("UserSettings", "ExecutionRole"),), _SAGEMAKER),
    "UpdateUserProfile": ((("UserSettings", "ExecutionRole"),), _SAGEMAKER),
    "CreateNotebookInstance": ((("RoleArn",),), _SAGEMAKER),
    "CreateTrainingJob": ((("RoleArn",),), _SAGEMAKER),
}
