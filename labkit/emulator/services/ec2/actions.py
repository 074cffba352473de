"""EC2: the resources a request is decided on, and EC2's condition keys."""
from __future__ import annotations

import re
from typing import List, Tuple

from labkit.emulator.authz import tags
from labkit.emulator.request import AwsRequest
from labkit.policy import service_data


def context(req: AwsRequest, op: str, action: str) -> dict:
    """ec2:Region, where the action supports it."""
    return {"ec2:Region": req.region} if service_data.supports(action, "ec2:Region") else {}


def checks(req: AwsRequest, op: str, action: str, account: str,
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
