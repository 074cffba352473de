"""Query, JSON and REST-JSON services: the IAM action and resource of a request.

The action is the service's IAM prefix plus the operation name (from the
``Action`` parameter, ``X-Amz-Target``, or, for REST-JSON services such as
Lambda and EKS, the botocore model's HTTP route). Resources are ARNs where
AWS has resource-level permissions that the course uses (IAM users, groups,
roles, policies; STS roles; Lambda functions; ECR repositories; EKS
clusters; SageMaker Studio resources, see services.sagemaker.actions), else ``"*"``.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import List, Optional, Tuple

from labkit.emulator.authz import tags
from labkit.emulator.services.iam.actions import iam_resource
from labkit.policy import service_data
from labkit.emulator.services.sagemaker import actions as sagemaker
from labkit.emulator.request import AwsRequest

#: signing name -> IAM action prefix, where they differ
_PREFIX = {"monitoring": "cloudwatch", "email": "ses", "execute-api": "execute-api"}
#: services served with the REST-JSON protocol (operation found from the HTTP route)
_REST_SERVICES = {"lambda": "lambda", "eks": "eks"}
#: API operations whose IAM action has another name.
_ACTION_NAMES = {("lambda", "Invoke"): "InvokeFunction",
                 ("lambda", "InvokeWithResponseStream"): "InvokeFunction"}
#: STS calls that need no permission on AWS.
UNCHECKED = {("sts", "GetCallerIdentity"), ("sts", "GetSessionToken"),
             ("sts", "AssumeRoleWithWebIdentity"), ("sts", "AssumeRoleWithSAML")}


def action_prefix(service: str) -> str:
    return _PREFIX.get(service, service)


# ----------------------------------------------------------------------------- REST routes

@lru_cache(maxsize=None)
def _routes(service: str) -> Tuple[Tuple[str, "re.Pattern[str]", int, str], ...]:
    """(method, path regex, literal length, operation) from botocore's model, most specific first."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http.get("requestUri", "/").split("?", 1)[0]
        pattern, literal = _template_regex(uri)
        routes.append((http.get("method", "POST"), pattern, literal, name))
    routes.sort(key=lambda r: -r[2])
    return tuple(routes)


def _template_regex(uri: str):
    out, literal, pos = [], 0, 0
    for m in re.finditer(r"\{([^}]+)\}", uri):
        text = uri[pos:m.start()]
        out.append(re.escape(text))
        literal += len(text)
        name = m.group(1)
        greedy = name.endswith("+")
        out.append(f"(?P<{re.sub(r'[^A-Za-z0-9_]', '_', name.rstrip('+'))}>"
                   + (".+" if greedy else "[^/]+") + ")")
        pos = m.end()
    out.append(re.escape(uri[pos:]))
    literal += len(uri) - pos
    return re.compile("^" + "".join(out).rstrip("/") + "/?$"), literal


def rest_operation(service: str, method: str, path: str) -> Tuple[Optional[str], dict]:
    """(operation, path parameters) of a REST-JSON request, or (None, {})."""
    for m_method, pattern, _lit, name in _routes(service):
        if m_method != method:
            continue
        m = pattern.match(path)
        if m:
            return name, m.groupdict()
    return None, {}


# ----------------------------------------------------------------------------- resources

def _json_name(req: AwsRequest, *keys: str) -> Optional[str]:
    data = req.json_body()
    for key in keys:
        if isinstance(data.get(key), str):
            return data[key]
    return None


def resource(req: AwsRequest, op: str, account: str, caller_arn: str, path_params: dict) -> str:
    """The resource ARN AWS evaluates for OP, or "*" where AWS has none we model."""
    service, region = req.service, req.region
    if service == "iam":
        return iam_resource(req, op, account, caller_arn)
    if service == "sts" and op == "AssumeRole" and req.param("RoleArn"):
        return req.param("RoleArn")
    if service == "lambda" and path_params.get("FunctionName"):
        name = path_params["FunctionName"]
        if name.startswith("arn:"):
            return name
        return f"arn:aws:lambda:{region}:{account}:function:{name.split(':')[0]}"
    if service == "ecr":
        name = _json_name(req, "repositoryName")
        if name:
            return f"arn:aws:ecr:{region}:{account}:repository/{name}"
    if service == "sagemaker":
        return sagemaker.resource(req.json_body(), op, region, account)
    if service == "eks" and path_params.get("name"):
        return f"arn:aws:eks:{region}:{account}:cluster/{path_params['name']}"
    return "*"


#: Operations that hand a role to a service, so the caller also needs iam:PassRole on it:
#: (signing name, operation) -> (JSON paths of the role ARN, iam:PassedToService)
_PASS_ROLE = {
    ("sagemaker", "CreateDomain"): ((("DefaultUserSettings", "ExecutionRole"),
                                     ("DefaultSpaceSettings", "ExecutionRole")),
                                    "sagemaker.amazonaws.com"),
    ("sagemaker", "UpdateDomain"): ((("DefaultUserSettings", "ExecutionRole"),),
                                    "sagemaker.amazonaws.com"),
    ("sagemaker", "CreateUserProfile"): ((("UserSettings", "ExecutionRole"),),
                                         "sagemaker.amazonaws.com"),
    ("sagemaker", "UpdateUserProfile"): ((("UserSettings", "ExecutionRole"),),
                                         "sagemaker.amazonaws.com"),
    ("sagemaker", "CreateNotebookInstance"): ((("RoleArn",),), "sagemaker.amazonaws.com"),
    ("sagemaker", "CreateTrainingJob"): ((("RoleArn",),), "sagemaker.amazonaws.com"),
    ("lambda", "CreateFunction"): ((("Role",),), "lambda.amazonaws.com"),
    ("lambda", "UpdateFunctionConfiguration"): ((("Role",),), "lambda.amazonaws.com"),
    ("eks", "CreateCluster"): ((("roleArn",),), "eks.amazonaws.com"),
    ("eks", "CreateNodegroup"): ((("nodeRole",),), "eks.amazonaws.com"),
}


def passed_roles(req: AwsRequest, op: str) -> List[Tuple[str, str]]:
    """[(role ARN, service it is passed to)] for operations that pass a role."""
    spec = _PASS_ROLE.get((req.service, op))
    if spec is None:
        return []
    paths, service = spec
    data = req.json_body()
    found = []
    for path in paths:
        value = data
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and value.startswith("arn:"):
            found.append((value, service))
    return found


def unmapped_reason(req: AwsRequest) -> Optional[str]:
    """Why REQ has no permission mapping (it then goes to moto undecided), or None."""
    op = req.operation
    if op is None and req.service in _REST_SERVICES:
        op, _ = rest_operation(_REST_SERVICES[req.service], req.method, req.path)
    if op is None:
        return f"the {req.service} operation of this request is not recognised"
    return None


def checks(req: AwsRequest, account: str, caller_arn: str) -> List[Tuple[str, str, dict]]:
    """[(action, resource, extra context)] the request needs; [] when nothing is checked."""
    path_params: dict = {}
    op = req.operation
    if op is None and req.service in _REST_SERVICES:
        op, path_params = rest_operation(_REST_SERVICES[req.service], req.method, req.path)
    if op is None or (req.service, op) in UNCHECKED:
        return []
    action = f"{action_prefix(req.service)}:{_ACTION_NAMES.get((req.service, op), op)}"
    request_tags = dict(tags.request_context(req, op, action), **_service_keys(req, action))
    if req.service == "ec2":
        needed = _ec2_checks(req, op, action, account, request_tags)
    else:
        res = _tag_target(req, op, account) or resource(req, op, account, caller_arn,
                                                         path_params)
        needed = [(action, res, dict(request_tags, **tags.resource_context(action, res)))]
    for role_arn, service in passed_roles(req, op):
        needed.append(("iam:PassRole", role_arn, {"iam:PassedToService": service}))
    return needed


#: service condition keys taken from one request parameter: key -> parameter
_PARAM_KEYS = {"iam:PermissionsBoundary": "PermissionsBoundary", "iam:PolicyARN": "PolicyArn",
               "iam:AWSServiceName": "AWSServiceName"}


def _service_keys(req: AwsRequest, action: str) -> dict:
    """Service condition keys read straight off the request, where the action supports them."""
    ctx = {}
    if req.service == "iam":
        for key, param in _PARAM_KEYS.items():
            value = req.param(param)
            if value is not None and service_data.supports(action, key):
                ctx[key] = value
    elif req.service == "ec2" and service_data.supports(action, "ec2:Region"):
        ctx["ec2:Region"] = req.region
    return ctx


def _tag_target(req: AwsRequest, op: str, account: str) -> Optional[str]:
    """SageMaker AddTags/DeleteTags/ListTags act on the ResourceArn they name."""
    if req.service == "sagemaker" and op in ("AddTags", "DeleteTags", "ListTags"):
        return _json_name(req, "ResourceArn")
    return None


def _ec2_checks(req: AwsRequest, op: str, action: str, account: str,
                request_tags: dict) -> List[Tuple[str, str, dict]]:
    """EC2: one check per resource the action is decided on (Service Authorization Reference).

    RunInstances is decided on the image, the new instance, its network interface, security
    groups and subnet; tags given at launch also need ec2:CreateTags with ec2:CreateAction
    (EC2 "Grant permission to tag resources during creation"). Actions on named instances
    (StopInstances, ...) and CreateTags/DeleteTags are decided on each resource, with its tags.
    """
    region = req.region
    if op == "RunInstances":
        base = f"arn:aws:ec2:{region}:{account}"
        groups = [v[0] for k, v in sorted(req.params.items())
                  if v and re.match(r"^SecurityGroupId\.\d+$", k)] or ["*"]
        resources = [f"arn:aws:ec2:{region}::image/{req.param('ImageId') or '*'}",
                     f"{base}:instance/*", f"{base}:network-interface/*",
                     f"{base}:subnet/{req.param('SubnetId') or '*'}"]
        resources += [f"{base}:security-group/{g}" for g in groups]
        region_key = {"ec2:Region": region}
        # RunInstances API reference: InstanceType defaults to m1.small.
        instance_ctx = dict(request_tags, **{"ec2:InstanceType": req.param("InstanceType")
                                             or "m1.small"})
        needed = [(action, r, instance_ctx if ":instance/" in r else region_key)
                  for r in resources]
        launch_tags = tags.request_context(req, op, "ec2:CreateTags")
        if launch_tags:
            needed.append(("ec2:CreateTags", f"{base}:instance/*",
                           dict(launch_tags, **{"ec2:CreateAction": "RunInstances",
                                                "ec2:Region": region})))
        return needed
    arns = tags.ec2_resource_arns(req, op, account) if service_data.resource_types(action) else None
    if not arns:
        return [(action, "*", dict(request_tags))]
    return [(action, arn, dict(request_tags, **tags.resource_context(action, arn)))
            for arn in arns]
