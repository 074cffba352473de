"""Query, JSON and REST-JSON services: the IAM action, resources and context of a request.

The action is the service's IAM prefix plus the operation name (from the
``Action`` parameter, ``X-Amz-Target``, or, for REST-JSON services such as
Lambda and EKS, the botocore model's HTTP route). What is particular to a
service comes from its folder's ``actions.py`` through the registry
(labkit.emulator.services): ``resource()`` where AWS has resource-level
permissions the course uses (else ``"*"``), ``context()`` for service condition
keys, ``checks()`` where one request is decided on several resources (EC2),
``ACTION_NAMES`` and ``PASSED_ROLES``.
"""
from __future__ import annotations

import re
from functools import lru_cache
from types import ModuleType
from typing import List, Optional, Tuple

from labkit.emulator import services
from labkit.emulator.authz import tags
from labkit.emulator.request import AwsRequest

#: STS calls that need no permission on AWS.
UNCHECKED = {("sts", "GetCallerIdentity"), ("sts", "GetSessionToken"),
             ("sts", "AssumeRoleWithWebIdentity"), ("sts", "AssumeRoleWithSAML")}


def action_prefix(service: str) -> str:
    """The IAM action prefix of requests signed for SERVICE (monitoring -> cloudwatch)."""
    found = services.for_signing_name(service)
    return found.prefix if found is not None else service


def _actions(service: str) -> Optional[ModuleType]:
    found = services.for_signing_name(service)
    return found.module("actions") if found is not None else None


def operation(req: AwsRequest) -> Tuple[Optional[str], dict]:
    """(operation, REST path parameters) of REQ; the route decides for REST-JSON services."""
    found = services.for_signing_name(req.service)
    if req.operation is None and found is not None and found.protocol == "rest-json":
        return rest_operation(found.model_name, req.method, req.path)
    return req.operation, {}


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

def resource(req: AwsRequest, op: str, account: str, caller_arn: str, path_params: dict) -> str:
    """The resource ARN AWS evaluates for OP, or "*" where AWS has none we model."""
    actions = _actions(req.service)
    find = getattr(actions, "resource", None)
    found = find(req, op, account, caller_arn, path_params) if find is not None else None
    return found or "*"


def passed_roles(req: AwsRequest, op: str) -> List[Tuple[str, str]]:
    """[(role ARN, service it is passed to)] for operations that pass a role, as the
    service's ``PASSED_ROLES`` (operation -> (JSON paths of the role ARN,
    iam:PassedToService)) names them."""
    spec = getattr(_actions(req.service), "PASSED_ROLES", {}).get(op)
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
    op, _ = operation(req)
    if op is None:
        return f"the {req.service} operation of this request is not recognised"
    return None


def checks(req: AwsRequest, account: str, caller_arn: str) -> List[Tuple[str, str, dict]]:
    """[(action, resource, extra context)] the request needs; [] when nothing is checked."""
    op, path_params = operation(req)
    if op is None or (req.service, op) in UNCHECKED:
        return []
    actions = _actions(req.service)
    name = getattr(actions, "ACTION_NAMES", {}).get(op, op)
    action = f"{action_prefix(req.service)}:{name}"
    service_keys = getattr(actions, "context", None)
    request_ctx = dict(tags.request_context(req, op, action),
                       **(service_keys(req, op, action) if service_keys is not None else {}))
    own = getattr(actions, "checks", None)
    needed = own(req, op, action, account, request_ctx) if own is not None else None
    if needed is None:
        res = resource(req, op, account, caller_arn, path_params)
        needed = [(action, res, dict(request_ctx, **tags.resource_context(action, res)))]
    for role_arn, service in passed_roles(req, op):
        needed.append(("iam:PassRole", role_arn, {"iam:PassedToService": service}))
    return needed
