"""Auto Scaling fidelity: zone balance, capacity limits, alarms that scale.

What moto 5.2 gets wrong and this module fixes (lesson 05 depends on each):

* Zone spread: moto launches every instance into the first subnet of
  VPCZoneIdentifier. AWS balances instances across the group's Availability
  Zones, and scale-in terminates from the zone with the most instances first
  (Default termination policy); here the oldest instance of that zone goes.
* Capacity limits: moto accepts a desired capacity outside min..max. AWS
  rejects it with ValidationError (CreateAutoScalingGroup,
  UpdateAutoScalingGroup, SetDesiredCapacity), and policies never push the
  group beyond its limits.
* Scaling policies: a target-tracking policy creates its CloudWatch alarms
  ("TargetTracking-<asg>-AlarmHigh-<uuid>" and "...-AlarmLow-<uuid>",
  returned in PutScalingPolicy's Alarms); an alarm whose actions hold a
  policy ARN runs the policy (see cloudwatch.evaluate_alarms). Each policy
  gets its own ARN (moto gave all policies the same UUID).
* Target groups: instances leaving the group are deregistered from its ELBv2
  target groups; moto only ever registered.

Not modelled: instance warm-up beyond a per-group cooldown in simulated time,
metric math in customized metrics, predictive scaling.
"""
from __future__ import annotations

import math
from collections import Counter, OrderedDict
from typing import Any

from moto.autoscaling.exceptions import ValidationError
from moto.autoscaling.models import (
    AutoScalingBackend,
    FakeAutoScalingGroup,
    FakeScalingPolicy,
    autoscaling_backends,
)
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.moto_api._internal import mock_random
from moto.utilities.utils import get_partition

from labkit.emulator.patching import replace
from labkit.emulator.services.cloudwatch import behaviour as cloudwatch
from labkit.policy.matching import parse_arn

# Predefined target-tracking metrics: (namespace, metric name, statistic).
_PREDEFINED = {
    "ASGAverageCPUUtilization": ("AWS/EC2", "CPUUtilization", "Average"),
    "ASGAverageNetworkIn": ("AWS/EC2", "NetworkIn", "Average"),
    "ASGAverageNetworkOut": ("AWS/EC2", "NetworkOut", "Average"),
    "ALBRequestCountPerTarget": ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum"),
}


def install() -> None:
    """Patch moto's Auto Scaling (and CloudWatch alarm actions); idempotent."""
    if getattr(FakeAutoScalingGroup.replace_autoscaling_group_instances, "_labkit", False):
        return
    cloudwatch.install()
    cloudwatch.register_action_handler(_alarm_action)
    _patch_zone_balance()
    _patch_capacity_validation()
    _patch_policies()
    _patch_target_groups()


def _mark(func):
    func._labkit = True
    return func


# --- zone balance -----------------------------------------------------------

def _zone_subnets(group: FakeAutoScalingGroup) -> "OrderedDict[str, list[str | None]]":
    """AZ -> subnets of the group, in the order the group lists them."""
    zones: OrderedDict[str, list[str | None]] = OrderedDict()
    if group.vpc_zone_identifier:
        ids = [s.strip() for s in group.vpc_zone_identifier.split(",") if s.strip()]
        subnets = {s.id: s for s in group.ec2_backend.describe_subnets(subnet_ids=ids)}
        for sid in ids:
            zones.setdefault(subnets[sid].availability_zone, []).append(sid)
    else:
        for az in group.availability_zones:
            zones.setdefault(az, []).append(None)
    return zones


def _zone_counts(group: FakeAutoScalingGroup) -> Counter:
    return Counter(s.instance.placement.zone for s in group.active_instances())


def _patch_zone_balance() -> None:
    original_launch = FakeAutoScalingGroup.replace_autoscaling_group_instances
    original_set = FakeAutoScalingGroup.set_desired_capacity

    @_mark
    def replace_autoscaling_group_instances(self, count_needed, propagated_tags):
        # Launch one zone at a time, always into the zone with fewest instances.
        zones = _zone_subnets(self)
        counts = _zone_counts(self)
        plan: Counter = Counter()
        for _ in range(count_needed):
            az = min(zones, key=lambda z: (counts[z], list(zones).index(z)))
            subnets = zones[az]
            plan[(az, subnets[counts[az] % len(subnets)])] += 1
            counts[az] += 1
        saved = (self.vpc_zone_identifier, self.availability_zones)
        try:
            for (az, subnet), n in plan.items():
                # moto's launcher uses the first subnet and a random AZ: narrow both.
                self.vpc_zone_identifier, self.availability_zones = subnet, [az]
                original_launch(self, n, dict(propagated_tags))
        finally:
            self.vpc_zone_identifier, self.availability_zones = saved

    @_mark
    def set_desired_capacity(self, new_capacity):
        target = (self.min_size if new_capacity is None else new_capacity) or 0
        excess = len(self.active_instances()) - target
        if excess > 0 and not _is_mixed(self):
            # moto terminates the first unprotected states: put AWS's choice first.
            victims = _termination_order(self, excess)
            self.instance_states = victims + [s for s in self.instance_states if s not in victims]
        return original_set(self, new_capacity)

    replace(FakeAutoScalingGroup, "replace_autoscaling_group_instances", replace_autoscaling_group_instances)
    replace(FakeAutoScalingGroup, "set_desired_capacity", set_desired_capacity)


def _is_mixed(group: FakeAutoScalingGroup) -> bool:
    policy = group.mixed_instances_policy or {}
    return bool(policy.get("LaunchTemplate", {}).get("Overrides"))


def _termination_order(group: FakeAutoScalingGroup, count: int) -> list:
    """Instances to terminate: from the fullest zone first, oldest first."""
    order = list(group.availability_zones)
    counts = _zone_counts(group)
    pool = sorted(
        (s for s in group.active_instances() if not s.protected_from_scale_in),
        key=lambda s: (s.instance.launch_time, s.instance.id),
    )
    victims = []
    for _ in range(min(count, len(pool))):
        zones = {s.instance.placement.zone for s in pool}
        zone = max(zones, key=lambda z: (counts[z], -order.index(z) if z in order else 0))
        pick = next(s for s in pool if s.instance.placement.zone == zone)
        pool.remove(pick)
        victims.append(pick)
        counts[zone] -= 1
    return victims


# --- capacity validation ----------------------------------------------------

def _check_bounds(min_size, max_size, desired) -> None:
    """AWS's create/update checks, with AWS's wording."""
    if min_size is not None and max_size is not None and min_size > max_size:
        raise ValidationError(
            f"Max bound, {max_size}, must be greater than or equal to min bound, {min_size}")
    if desired is not None and min_size is not None and max_size is not None:
        if not min_size <= desired <= max_size:
            raise ValidationError(
                f"Desired capacity:{desired} must be between the specified "
                f"min size:{min_size} and max size:{max_size}")


def _group_or_error(response: AutoScalingResponse, name: str) -> FakeAutoScalingGroup:
    group = response.autoscaling_backend.autoscaling_groups.get(name)
    if group is None:
        # AWS's wording, verified by moto's aws_verified test_update_unknown_group.
        raise ValidationError("AutoScalingGroup name not found - null")
    return group


def _patch_capacity_validation() -> None:
    original_create = AutoScalingResponse.create_auto_scaling_group
    original_update = AutoScalingResponse.update_auto_scaling_group
    original_set = AutoScalingResponse.set_desired_capacity

    @_mark
    def create_auto_scaling_group(self):
        _check_bounds(self._get_int_param("MinSize"), self._get_int_param("MaxSize"),
                      self._get_int_param("DesiredCapacity"))
        return original_create(self)

    @_mark
    def update_auto_scaling_group(self):
        group = _group_or_error(self, self._get_param("AutoScalingGroupName"))
        min_size = self._get_int_param("MinSize")
        max_size = self._get_int_param("MaxSize")
        _check_bounds(group.min_size if min_size is None else min_size,
                      group.max_size if max_size is None else max_size,
                      self._get_int_param("DesiredCapacity"))
        return original_update(self)

    @_mark
    def set_desired_capacity(self):
        group = _group_or_error(self, self._get_param("AutoScalingGroupName"))
        desired = self._get_int_param("DesiredCapacity")
        if group.max_size is not None and desired > group.max_size:
            raise ValidationError(
                f"New SetDesiredCapacity value {desired} is above max value "
                f"{group.max_size} for the AutoScalingGroup.")
        if group.min_size is not None and desired < group.min_size:
            raise ValidationError(
                f"New SetDesiredCapacity value {desired} is below min value "
                f"{group.min_size} for the AutoScalingGroup.")
        return original_set(self)

    replace(AutoScalingResponse, "create_auto_scaling_group", create_auto_scaling_group)
    replace(AutoScalingResponse, "update_auto_scaling_group", update_auto_scaling_group)
    replace(AutoScalingResponse, "set_desired_capacity", set_desired_capacity)


# --- scaling policies -------------------------------------------------------

def _policy_arn(policy: FakeScalingPolicy) -> str:
    backend = policy.autoscaling_backend
    uid = policy.__dict__.get("_labkit_id") or "c322761b-3172-4d56-9a21-0ed9d6161d67"
    return (
        f"arn:{get_partition(backend.region_name)}:autoscaling:{backend.region_name}:"
        f"{backend.account_id}:scalingPolicy:{uid}:autoScalingGroupName/"
        f"{policy.auto_scaling_group_name}:policyName/{policy.name}"
    )


def _policy_alarms(policy: FakeScalingPolicy) -> list[dict[str, str]]:
    """Alarms whose actions invoke this policy, as DescribePolicies lists them."""
    from moto.cloudwatch.models import cloudwatch_backends

    backend = policy.autoscaling_backend
    alarms = cloudwatch_backends[backend.account_id][backend.region_name].alarms.values()
    arn = _policy_arn(policy)
    return [{"AlarmName": a.name, "AlarmARN": a.alarm_arn}
            for a in alarms if arn in (a.alarm_actions or [])]


def _patch_policies() -> None:
    replace(FakeScalingPolicy, "arn", property(_policy_arn))
    replace(FakeScalingPolicy, "policy_arn", FakeScalingPolicy.arn)
    replace(FakeScalingPolicy, "alarms", property(_policy_alarms), adds=True)
    replace(FakeScalingPolicy, "execute", _execute)
    original_put = AutoScalingBackend.put_scaling_policy
    original_delete = AutoScalingBackend.delete_policy
    original_delete_group = AutoScalingBackend.delete_auto_scaling_group
    original_put_response = AutoScalingResponse.put_scaling_policy

    @_mark
    def put_scaling_policy(self, name, policy_type, *args, **kwargs):
        old = self.policies.get(name)
        policy = original_put(self, name, policy_type, *args, **kwargs)
        same = old is not None and old.auto_scaling_group_name == policy.auto_scaling_group_name
        # An update keeps the policy's ARN, as in AWS.
        policy._labkit_id = old.__dict__.get("_labkit_id") if same else str(mock_random.uuid4())
        _delete_alarms(self, old.__dict__.get("_labkit_alarms", []) if old else [])
        policy._labkit_alarms = (
            _create_target_tracking_alarms(self, policy)
            if policy.policy_type == "TargetTrackingScaling" else [])
        return policy

    @_mark
    def delete_policy(self, name):
        policy = self.policies.get(name)
        if policy is not None:
            _delete_alarms(self, policy.__dict__.get("_labkit_alarms", []))
        return original_delete(self, name)

    @_mark
    def delete_auto_scaling_group(self, group_name):
        original_delete_group(self, group_name)
        # AWS deletes the group's policies (and their target-tracking alarms).
        for name in [n for n, p in self.policies.items() if p.auto_scaling_group_name == group_name]:
            self.delete_policy(name)

    @_mark
    def put_scaling_policy_response(self):
        original_put_response(self)
        policy = self.autoscaling_backend.policies[self._get_param("PolicyName")]
        alarms = _policy_alarms(policy) if policy.policy_type == "TargetTrackingScaling" else []
        return ActionResult({"PolicyARN": policy.arn, "Alarms": alarms})

    @_mark
    def execute_policy(self):
        name = self._get_param("PolicyName")  # a name or an ARN, as in AWS
        policies = self.autoscaling_backend.policies
        policy = policies.get(name) or next((p for p in policies.values() if p.arn == name), None)
        if policy is None:
            raise ValidationError(f"Policy {self._get_param('PolicyName')} does not exist.")
        value, threshold = self._get_param("MetricValue"), self._get_param("BreachThreshold")
        _execute(policy, None if value is None else float(value),
                 None if threshold is None else float(threshold))
        return EmptyResult()

    replace(AutoScalingBackend, "put_scaling_policy", put_scaling_policy)
    replace(AutoScalingBackend, "delete_policy", delete_policy)
    replace(AutoScalingBackend, "delete_auto_scaling_group", delete_auto_scaling_group)
    replace(AutoScalingResponse, "put_scaling_policy", put_scaling_policy_response)
    replace(AutoScalingResponse, "execute_policy", execute_policy)


def _tracked_metric(policy: FakeScalingPolicy) -> tuple[str, str, str, list[dict[str, str]]]:
    """(namespace, metric, statistic, dimensions) a target-tracking policy watches."""
    config = policy.target_tracking_configuration.__dict__
    group_dim = [{"Name": "AutoScalingGroupName", "Value": policy.auto_scaling_group_name}]
    predefined = config.get("PredefinedMetricSpecification")
    if predefined:
        kind = predefined.get("PredefinedMetricType")
        if kind not in _PREDEFINED:
            raise ValidationError(f"Unsupported predefined metric type {kind}.")
        namespace, metric, stat = _PREDEFINED[kind]
        if kind == "ALBRequestCountPerTarget":
            label = predefined.get("ResourceLabel", "")
            group_dim = [{"Name": "TargetGroup", "Value": label.split("/", 3)[-1]}]
        return namespace, metric, stat, group_dim
    custom = config.get("CustomizedMetricSpecification") or {}
    if not custom.get("MetricName"):
        raise ValidationError(
            "TargetTrackingConfiguration needs a PredefinedMetricSpecification or a "
            "CustomizedMetricSpecification with MetricName (metric math is not emulated).")
    return (custom["Namespace"], custom["MetricName"], custom.get("Statistic", "Average"),
            list(custom.get("Dimensions") or []))


def _create_target_tracking_alarms(backend: AutoScalingBackend, policy: FakeScalingPolicy) -> list[str]:
    """The alarm pair AWS creates: 3 minutes above target, 15 below 90% of it."""
    from moto.cloudwatch.models import cloudwatch_backends

    cw = cloudwatch_backends[backend.account_id][backend.region_name]
    namespace, metric, stat, dims = _tracked_metric(policy)
    target = float(policy.target_tracking_configuration.__dict__["TargetValue"])
    disable_in = str(policy.target_tracking_configuration.__dict__.get("DisableScaleIn", "")).lower() == "true"
    specs = [("AlarmHigh", "GreaterThanThreshold", target, 3)]
    if not disable_in:
        specs.append(("AlarmLow", "LessThanThreshold", round(target * 0.9, 6), 15))
    names = []
    for kind, operator, threshold, periods in specs:
        name = f"TargetTracking-{policy.auto_scaling_group_name}-{kind}-{mock_random.uuid4()}"
        cw.put_metric_alarm(
            name=name, namespace=namespace, metric_name=metric,
            comparison_operator=operator, evaluation_periods=periods,
            datapoints_to_alarm=periods, period=60, threshold=threshold,
            statistic=stat, description=f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy.arn}.",
            dimensions=dims, alarm_actions=[policy.arn],
        )
        names.append(name)
    return names


def _delete_alarms(backend: AutoScalingBackend, names: list[str]) -> None:
    from moto.cloudwatch.models import cloudwatch_backends

    if names:
        cloudwatch_backends[backend.account_id][backend.region_name].delete_alarms(names)


# --- running a policy -------------------------------------------------------

def _execute(policy: FakeScalingPolicy, metric_value: float | None = None,
             breach_threshold: float | None = None, scale_out: bool | None = None) -> int:
    """Run a policy like AWS: new capacity clamped to min..max; returns it."""
    backend = policy.autoscaling_backend
    group = backend.autoscaling_groups.get(policy.auto_scaling_group_name)
    if group is None:
        raise ValidationError(
            f"AutoScalingGroup name not found - AutoScalingGroup '{policy.auto_scaling_group_name}' not found")
    current = group.desired_capacity or 0
    wanted = _wanted_capacity(policy, current, metric_value, breach_threshold, scale_out)
    new = max(group.min_size or 0, min(group.max_size if group.max_size is not None else wanted, wanted))
    if new != current:
        backend.set_desired_capacity(group.name, new)
    return new


def _wanted_capacity(policy, current, metric_value, breach_threshold, scale_out) -> int:
    if policy.policy_type == "TargetTrackingScaling":
        if metric_value is None:
            return current + (1 if scale_out is not False else -1)
        target = float(policy.target_tracking_configuration.__dict__["TargetValue"])
        proportional = math.ceil(current * metric_value / target) if target else current
        if scale_out is False:
            return min(proportional, current - 1)
        return max(proportional, current + 1, 1)
    if policy.policy_type == "StepScaling":
        if metric_value is None or breach_threshold is None:
            raise ValidationError(
                "MetricValue and BreachThreshold are required to execute a step scaling policy.")
        adjustment = _step_adjustment(policy.step_adjustments, metric_value - breach_threshold)
    else:
        adjustment = policy.scaling_adjustment
    if adjustment is None:
        return current
    return _apply(policy, current, int(float(adjustment)))


def _step_adjustment(steps: list[dict[str, Any]], breach: float) -> float | None:
    """The step whose bounds (relative to the threshold) hold the breach."""
    for step in steps or []:
        lower = step.get("MetricIntervalLowerBound")
        upper = step.get("MetricIntervalUpperBound")
        if (lower is None or breach >= float(lower)) and (upper is None or breach < float(upper)):
            return float(step["ScalingAdjustment"])
    return None


def _apply(policy: FakeScalingPolicy, current: int, adjustment: int) -> int:
    kind = policy.adjustment_type or "ChangeInCapacity"
    if kind == "ExactCapacity":
        return adjustment
    if kind == "PercentChangeInCapacity":
        change = current * adjustment / 100.0
        # AWS rounds toward zero, but a change between -1 and 1 counts as 1.
        step = int(change) if abs(change) >= 1 else (1 if change > 0 else -1 if change < 0 else 0)
        magnitude = int(float(policy.min_adjustment_magnitude or 0))
        if magnitude and abs(step) < magnitude:
            step = magnitude if step > 0 else -magnitude
        return current + step
    return current + adjustment


def _alarm_action(arn: str, alarm: Any, context: "cloudwatch.ActionContext") -> bool:
    """CloudWatch action handler: run the scaling policy an alarm names."""
    if ":autoscaling:" not in arn or ":scalingPolicy:" not in arn:
        return False
    if context.state != "ALARM":
        return True
    _partition, _service, region, account, _resource = parse_arn(arn)
    backend = autoscaling_backends[account][region]
    policy = next((p for p in backend.policies.values() if p.arn == arn), None)
    if policy is None:
        return True  # AWS drops actions whose policy was deleted
    group = backend.autoscaling_groups.get(policy.auto_scaling_group_name)
    if group is None or _in_cooldown(policy, group, context):
        return True
    scale_out = alarm.comparison_operator.startswith("Greater")
    _execute(policy, context.metric_value, float(alarm.threshold), scale_out)
    if context.now is not None:
        group._labkit_last_scaled = context.now
    return True


def _in_cooldown(policy: FakeScalingPolicy, group: FakeAutoScalingGroup, context) -> bool:
    """Re-invocations while an alarm stays in ALARM wait out the cooldown (simulated time)."""
    last = group.__dict__.get("_labkit_last_scaled")
    if context.now is None or last is None:
        return False
    seconds = policy.cooldown if policy.policy_type == "SimpleScaling" and policy.cooldown else (
        int(policy.estimated_instance_warmup or 0) or group.default_cooldown)
    return (context.now - last).total_seconds() < seconds


# --- ELBv2 target groups ----------------------------------------------------

def _patch_target_groups() -> None:
    original_notify = AutoScalingBackend.notify_terminate_instances

    @_mark
    def update_attached_target_groups(self, group_name):
        group = self.autoscaling_groups[group_name]
        if not group.target_group_arns:
            return
        # Same lookup as moto: unknown ARNs raise TargetGroupNotFound.
        target_groups = self.elbv2_backend.describe_target_groups(
            target_group_arns=group.target_group_arns, load_balancer_arn=None, names=None)
        current = {s.instance.id for s in group.active_instances() if s.instance.state == "running"}
        registered = group.__dict__.setdefault("_labkit_registered", {})
        for tg in target_groups:
            gone = [i for i in registered.get(tg.arn, set()) - current if i in tg.targets]
            if gone:
                tg.deregister([{"Id": i} for i in gone])
            new = current - set(tg.targets)
            if new:
                tg.register([{"Id": i, "Port": tg.port} for i in sorted(new)])
            registered[tg.arn] = set(current)

    @_mark
    def notify_terminate_instances(self, instance_ids):
        original_notify(self, instance_ids)
        # moto replaces the instances but refreshes only classic ELBs.
        for name, group in list(self.autoscaling_groups.items()):
            if group.target_group_arns:
                self.update_attached_target_groups(name)

    replace(AutoScalingBackend, "update_attached_target_groups", update_attached_target_groups)
    replace(AutoScalingBackend, "notify_terminate_instances", notify_terminate_instances)
