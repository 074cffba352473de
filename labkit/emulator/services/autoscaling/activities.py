"""aws-like mode: Auto Scaling records its scaling activities, which take time.

DescribeScalingActivities (Auto Scaling API reference; user guide "Verify a
scaling activity for an Auto Scaling group") lists, newest first, one activity
per instance launched ("Launching a new EC2 instance: i-...") or terminated
("Terminating EC2 instance: i-..."), with a Cause, a StatusCode that is
``InProgress`` and then ``Successful``, Progress 0 -> 100, a StartTime and, once
done, an EndTime. moto answers an empty list; here each activity completes after
:func:`labkit.emulator.aws_like.delay` seconds.
"""
from __future__ import annotations

import json

from moto.autoscaling.models import FakeAutoScalingGroup
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.moto_api._internal import mock_random

from labkit.emulator import aws_like
from labkit.emulator.patching import replace

MAX_RECORDS = 100


def install() -> None:
    if getattr(FakeAutoScalingGroup.set_desired_capacity, "_labkit_aws_like", False):
        return
    original_set = FakeAutoScalingGroup.set_desired_capacity
    original_describe = AutoScalingResponse.describe_scaling_activities

    def set_desired_capacity(self, new_capacity):
        before = {s.instance.id: s.instance for s in self.instance_states}
        old_desired = getattr(self, "desired_capacity", None) or 0  # unset while creating
        original_set(self, new_capacity)
        if aws_like.enabled():
            after = {s.instance.id: s.instance for s in self.instance_states}
            _record(self, old_desired, before, after)
            # AWS: a launched instance is Pending in the group until it runs (services/ec2/lifecycle.py).
            for state in self.instance_states:
                if state.instance.id not in before and state.instance._state.name == "pending":
                    state.lifecycle_state = "Pending"

    def describe_scaling_activities(self):
        if not aws_like.enabled():
            return original_describe(self)
        return ActionResult(_describe(self))

    original_active = FakeAutoScalingGroup.active_instances

    def active_instances(self):
        # AWS counts Pending instances towards capacity: a second change must not relaunch them.
        if not aws_like.enabled():
            return original_active(self)
        return [s for s in self.instance_states if s.lifecycle_state in ("InService", "Pending")]

    replace(FakeAutoScalingGroup, "active_instances", active_instances)
    set_desired_capacity._labkit_aws_like = True
    replace(FakeAutoScalingGroup, "set_desired_capacity", set_desired_capacity)
    replace(AutoScalingResponse, "describe_scaling_activities", describe_scaling_activities)


def _log(backend) -> list[dict]:
    log = backend.__dict__.get("_labkit_activities")
    if log is None:
        log = backend._labkit_activities = []
    return log


def _record(group, old_desired: int, before: dict, after: dict) -> None:
    started = utcnow()
    stamp = started.strftime("%Y-%m-%dT%H:%M:%SZ")
    new_desired = group.desired_capacity or 0
    cause = (f"At {stamp} a user request update of AutoScalingGroup constraints to min: "
             f"{group.min_size}, max: {group.max_size}, desired: {new_desired} changing the "
             f"desired capacity from {old_desired} to {new_desired}.")
    changes = [("Launching a new EC2 instance", i) for k, i in after.items() if k not in before]
    changes += [("Terminating EC2 instance", i) for k, i in before.items() if k not in after]
    for verb, instance in changes:
        direction = "increasing" if verb.startswith("Launching") else "decreasing"
        activity = {
            "ActivityId": str(mock_random.uuid4()),
            "AutoScalingGroupName": group.name,
            "AutoScalingGroupARN": group.arn,
            "Description": f"{verb}: {instance.id}",
            "Cause": (f"{cause} At {stamp} an instance was {'started' if direction == 'increasing' else 'taken out of service'} "
                      f"in response to a difference between desired and actual capacity, "
                      f"{direction} the capacity from {old_desired} to {new_desired}."),
            "StartTime": started, "StatusCode": "InProgress", "Progress": 0,
            "Details": json.dumps({"Subnet ID": instance.subnet_id,
                                   "Availability Zone": instance.placement.zone}),
        }
        _log(group.autoscaling_backend).append(activity)
        aws_like.later(_finish(activity))


def _finish(activity: dict):
    def done():
        activity.update(StatusCode="Successful", Progress=100, EndTime=utcnow())
    return done


def _describe(response: AutoScalingResponse) -> dict:
    name = response._get_param("AutoScalingGroupName")
    wanted = set(response._get_param("ActivityIds", []) or [])
    rows = [a for a in reversed(_log(response.autoscaling_backend))
            if (not name or a["AutoScalingGroupName"] == name)
            and (not wanted or a["ActivityId"] in wanted)]
    size = min(int(response._get_param("MaxRecords") or MAX_RECORDS), MAX_RECORDS)
    start = int(response._get_param("NextToken") or 0)
    page = rows[start:start + size]
    token = str(start + size) if start + size < len(rows) else None
    return {"Activities": [dict(a) for a in page], "NextToken": token}
