"""Tag condition keys of IAM, STS, EC2 and SageMaker requests.

- ``aws:RequestTag/<key>`` and ``aws:TagKeys`` (multivalued): the tags a request
  sets (CreateUser/TagUser ``Tags``, EC2 ``TagSpecification``/``Tag``, SageMaker
  ``Tags``) or, for untagging, the keys it removes;
- ``aws:ResourceTag/<key>`` (and the service's own alias, ``iam:ResourceTag``,
  ``ec2:ResourceTag``): the tags of the existing resource the request acts on,
  read from moto.

Each key is filled only for actions the Service Authorization Reference lists it
for (labkit.policy.service_data), as AWS does.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional

from labkit.emulator.request import AwsRequest
from labkit.policy.service_data import supports
from labkit.policy.matching import parse_arn

_IAM_TAG = re.compile(r"^Tags\.member\.(\d+)\.(Key|Value)$")
_IAM_UNTAG = re.compile(r"^TagKeys\.member\.\d+$")
_EC2_SPEC = re.compile(r"^TagSpecification\.(\d+)\.Tag\.(\d+)\.(Key|Value)$")
_EC2_TAG = re.compile(r"^Tag\.(\d+)\.(Key|Value)$")
#: untagging operations: their keys are aws:TagKeys, not tags set.
_UNTAG = {"UntagUser", "UntagRole", "UntagPolicy", "UntagInstanceProfile", "DeleteTags"}


def _pairs(params: Dict[str, List[str]], pattern: "re.Pattern[str]") -> Dict[str, str]:
    parts: Dict[tuple, Dict[str, str]] = {}
    for name, values in params.items():
        m = pattern.match(name)
        if m:
            *index, field = m.groups()
            parts.setdefault(tuple(index), {})[field] = values[0] if values else ""
    return {p["Key"]: p.get("Value", "") for p in parts.values() if "Key" in p}


def request_tags(req: AwsRequest, op: str) -> Dict[str, str]:
    """The tags REQ sets ({} for none)."""
    if op in _UNTAG:
        return {}
    if req.service == "iam":
        return _pairs(req.params, _IAM_TAG)
    if req.service == "ec2":
        tags = _pairs(req.params, _EC2_SPEC)
        tags.update(_pairs(req.params, _EC2_TAG))
        return tags
    if req.service == "sagemaker":
        items = req.json_body().get("Tags")
        if isinstance(items, list):
            return {t["Key"]: str(t.get("Value", "")) for t in items
                    if isinstance(t, dict) and isinstance(t.get("Key"), str)}
    return {}


def removed_tag_keys(req: AwsRequest, op: str) -> List[str]:
    """The tag keys an untagging request removes."""
    if op not in _UNTAG:
        return []
    if req.service == "iam":
        return sorted(v[0] for k, v in req.params.items() if _IAM_UNTAG.match(k) and v)
    if req.service == "ec2":
        return sorted(_pairs(req.params, _EC2_TAG))
    if req.service == "sagemaker":
        keys = req.json_body().get("TagKeys")
        return sorted(k for k in keys if isinstance(k, str)) if isinstance(keys, list) else []
    return []


def request_context(req: AwsRequest, op: str, action: str) -> Dict[str, object]:
    """aws:RequestTag/<key> and aws:TagKeys for ACTION, where the reference supports them."""
    tags = request_tags(req, op)
    keys = sorted(tags) or removed_tag_keys(req, op)
    ctx: Dict[str, object] = {}
    if tags and supports(action, "aws:RequestTag/x"):
        ctx.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
    if keys and supports(action, "aws:TagKeys"):
        ctx["aws:TagKeys"] = keys
    return ctx


def resource_context(action: str, resource: str) -> Dict[str, object]:
    """aws:ResourceTag/<key> (and the service alias) of RESOURCE, for ACTION."""
    if resource == "*" or not supports(action, "aws:ResourceTag/x"):
        return {}
    tags = resource_tags(resource)
    if not tags:
        return {}
    service = action.split(":", 1)[0]
    alias = supports(action, f"{service}:ResourceTag/x")
    ctx: Dict[str, object] = {}
    for k, v in tags.items():
        ctx[f"aws:ResourceTag/{k}"] = v
        if alias:
            ctx[f"{service}:ResourceTag/{k}"] = v
    return ctx


def resource_tags(arn: str) -> Dict[str, str]:
    """The tags moto holds for ARN (IAM users/roles, EC2 instances, SageMaker resources)."""
    parts = parse_arn(arn)
    if parts is None:
        return {}
    _partition, service, region, account, rest = parts
    try:
        if service == "iam":
            return _iam_tags(account, rest)
        if service == "ec2":
            return _ec2_tags(account, region, rest)
        if service == "sagemaker":
            return _sagemaker_tags(account, region, arn)
    except Exception:  # noqa: BLE001 - a resource moto does not know has no tags
        return {}
    return {}


def _iam_tags(account: str, rest: str) -> Dict[str, str]:
    from labkit.emulator.authz.identity import iam_backend, tag_dict

    kind, _, path_name = rest.partition("/")
    name = path_name.rsplit("/", 1)[-1]
    backend = iam_backend(account)
    if kind == "user":
        user = backend.users.get(name)
        return tag_dict(getattr(user, "tags", None))
    if kind == "role":
        role = next((r for r in backend.roles.values() if r.name == name), None)
        return tag_dict(getattr(role, "tags", None))
    return {}


def _ec2_tags(account: str, region: str, rest: str) -> Dict[str, str]:
    from moto.ec2.models import ec2_backends

    kind, _, resource_id = rest.partition("/")
    if kind not in ("instance", "volume", "security-group", "subnet", "vpc", "image"):
        return {}
    return dict(ec2_backends[account][region].tags.get(resource_id, {}))


def _sagemaker_tags(account: str, region: str, arn: str) -> Dict[str, str]:
    from moto.sagemaker.models import sagemaker_backends

    resource = sagemaker_backends[account][region]._get_resource_from_arn(arn)
    from labkit.emulator.authz.identity import tag_dict

    return tag_dict(getattr(resource, "tags", None))


def ec2_resource_arns(req: AwsRequest, op: str, account: str) -> Optional[List[str]]:
    """ARNs of the existing EC2 resources a request names (InstanceId.N, ResourceId.N), or
    None when it names none (the action is then decided on "*")."""
    ids = [v[0] for k, v in sorted(req.params.items())
           if v and re.match(r"^(InstanceId|ResourceId)\.\d+$", k)]
    arns = [a for a in (_ec2_arn(i, req.region, account) for i in ids) if a]
    return arns or None


_EC2_KINDS = {"i": "instance", "vol": "volume", "sg": "security-group", "subnet": "subnet",
              "vpc": "vpc"}


def _ec2_arn(resource_id: str, region: str, account: str) -> Optional[str]:
    kind = _EC2_KINDS.get(resource_id.split("-", 1)[0])
    if kind is None:
        if resource_id.startswith("ami-"):
            return f"arn:aws:ec2:{region}::image/{resource_id}"
        return None
    return f"arn:aws:ec2:{region}:{account}:{kind}/{resource_id}"
