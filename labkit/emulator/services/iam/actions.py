"""IAM: the resource ARN an IAM request is decided on, and IAM's condition keys.

AWS gives IAM resource-level permissions on users, groups, roles, policies and
instance profiles, with the entity's path in its ARN; calls about one's own
user (CreateAccessKey without UserName, ...) are decided on the caller's ARN.
"""
from __future__ import annotations

from typing import Optional

from labkit.emulator.request import AwsRequest
from labkit.policy import service_data


def _iam_user_arn(account: str, name: str, path: Optional[str] = None) -> str:
    if path is None:
        path = _existing_path(account, "users", name)
    return f"arn:aws:iam::{account}:user{path or '/'}{name}"


def _existing_path(account: str, kind: str, name: str) -> str:
    """The path of an existing IAM user/group/role (AWS ARNs include it)."""
    from labkit.emulator.authz.identity import iam_backend

    store = getattr(iam_backend(account), kind, {})
    if kind == "roles":
        found = next((r for r in store.values() if r.name == name), None)
    else:
        found = store.get(name)
    return getattr(found, "path", "/") if found is not None else "/"


def iam_resource(req: AwsRequest, op: str, account: str, caller_arn: str) -> str:
    """The resource ARN AWS evaluates for IAM operation OP."""
    p = req.param
    if op == "SimulatePrincipalPolicy" and p("PolicySourceArn"):
        return p("PolicySourceArn")
    if op == "CreatePolicy":
        return f"arn:aws:iam::{account}:policy{p('Path', '/')}{p('PolicyName', '')}"
    if "Group" in op and p("GroupName"):
        path = p("Path") if op == "CreateGroup" else None
        return f"arn:aws:iam::{account}:group{path or _existing_path(account, 'groups', p('GroupName'))}{p('GroupName')}"
    if ("Role" in op or "RolePolicy" in op) and p("RoleName"):
        path = p("Path") if op == "CreateRole" else None
        return f"arn:aws:iam::{account}:role{path or _existing_path(account, 'roles', p('RoleName'))}{p('RoleName')}"
    if "InstanceProfile" in op and p("InstanceProfileName"):
        return f"arn:aws:iam::{account}:instance-profile/{p('InstanceProfileName')}"
    if p("UserName"):
        return _iam_user_arn(account, p("UserName"), p("Path") if op == "CreateUser" else None)
    if op in ("CreateAccessKey", "ListAccessKeys", "GetUser", "DeleteAccessKey",
              "UpdateAccessKey", "ChangePassword") and ":user/" in caller_arn:
        return caller_arn  # these default to the calling user
    if p("PolicyArn") and "Policy" in op:
        return p("PolicyArn")
    return "*"


def resource(req: AwsRequest, op: str, account: str, caller_arn: str, path_params: dict) -> str:
    """The registry's hook (labkit.emulator.authz.generic): see :func:`iam_resource`."""
    return iam_resource(req, op, account, caller_arn)


#: IAM condition keys taken from one request parameter: key -> parameter
_PARAM_KEYS = {"iam:PermissionsBoundary": "PermissionsBoundary", "iam:PolicyARN": "PolicyArn",
               "iam:AWSServiceName": "AWSServiceName"}


def context(req: AwsRequest, op: str, action: str) -> dict:
    """IAM condition keys read straight off the request, where the action supports them."""
    ctx = {}
    for key, param in _PARAM_KEYS.items():
        value = req.param(param)
        if value is not None and service_data.supports(action, key):
            ctx[key] = value
    return ctx
