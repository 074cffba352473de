"""Hidden checks for lesson 05 (graded by `labkit regrade`, never shipped to learners)."""
from __future__ import annotations

from labkit.checks import Fail, check
from labkit.checks.lesson05 import _group


@check("05.elb-health", points=1, hidden=True,
       hint="HealthCheckType='ELB' replaces instances the load balancer finds unhealthy")
def elb_health(lab):
    """The group trusts the load balancer's health checks, not only EC2's."""
    group = _group(lab)
    if group["HealthCheckType"] != "ELB":
        raise Fail(f"{group['AutoScalingGroupName']} uses {group['HealthCheckType']} health checks")
    return "the group replaces instances the load balancer marks unhealthy"


@check("05.capacity-headroom", points=1, hidden=True,
       hint="MaxSize must leave room to scale out (the lesson uses 6)")
def capacity_headroom(lab):
    """MaxSize leaves room above MinSize for the policy to scale out."""
    group = _group(lab)
    if group["MaxSize"] <= group["MinSize"]:
        raise Fail(f"MaxSize {group['MaxSize']} leaves no room above MinSize {group['MinSize']}")
    return f"{group['MinSize']}..{group['MaxSize']} instances"
