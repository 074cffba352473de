"""aws-like mode: a registered target is ``initial`` before it is ``healthy``.

AWS (ELB user guide, "Health checks for Application Load Balancer target
groups", target health states): a newly registered target is ``initial`` with
reason ``Elb.RegistrationInProgress`` ("Target registration is in progress")
until it passes the health checks; here that takes
:func:`labkit.emulator.aws_like.delay` seconds, counted from registration or from
the moment the instance is running, whichever is later.

Auto Scaling registers the instances it launches; on AWS it does so as they come
up, so here a ``pending`` instance may be registered by a group (not by a learner:
AWS refuses that with TargetNotRunning, as moto does).
"""
from __future__ import annotations

import threading

from moto.autoscaling.models import AutoScalingBackend
from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

from labkit.emulator import aws_like
from labkit.emulator.patching import replace

_by_group = threading.local()


def install() -> None:
    if getattr(FakeTargetGroup.register, "_labkit_aws_like", False):
        return
    register, health_for = FakeTargetGroup.register, FakeTargetGroup.health_for
    attach = AutoScalingBackend.update_attached_target_groups

    def register_targets(self, targets):
        if aws_like.enabled() and getattr(_by_group, "on", False):
            with _pending_counts_as_running(self, targets):
                register(self, targets)
        else:
            register(self, targets)
        if aws_like.enabled():
            born = self.__dict__.setdefault("_labkit_registered", {})
            for target in targets:
                born[target["Id"]] = aws_like.now()

    def target_health(self, target, ec2_backend):
        health = health_for(self, target, ec2_backend)
        if aws_like.enabled() and health.status == "healthy" and _coming_up(self, target, ec2_backend):
            return FakeHealthStatus(health.instance_id, health.port, health.health_check_port,
                                    "initial", "Elb.RegistrationInProgress",
                                    "Target registration is in progress")
        return health

    def update_attached_target_groups(self, group_name):
        _by_group.on = True
        try:
            return attach(self, group_name)
        finally:
            _by_group.on = False

    register_targets._labkit_aws_like = True
    replace(FakeTargetGroup, "register", register_targets)
    replace(FakeTargetGroup, "health_for", target_health)
    replace(AutoScalingBackend, "update_attached_target_groups", update_attached_target_groups)


def _coming_up(group, target, ec2_backend) -> bool:
    born = group.__dict__.get("_labkit_registered", {}).get(target["Id"])
    instance = ec2_backend.get_instance_by_id(target["Id"]) if target["Id"].startswith("i-") else None
    if instance is not None and instance._state.name == "pending":
        return True
    if born is None:
        return False
    if aws_like.now() - born < aws_like.delay():
        return True
    # Health checks start once the instance runs: count from then.
    running_since = instance.__dict__.get("_labkit_running_since") if instance else None
    return running_since is not None and aws_like.now() - running_since < aws_like.delay()


class _pending_counts_as_running:
    """For the duration, pending instances among TARGETS read as running to moto's check."""

    def __init__(self, group, targets):
        self.instances = []
        for target in targets:
            instance = group.ec2_backend.get_instance_by_id(target["Id"])
            if instance is not None and instance._state.name == "pending":
                self.instances.append((instance, instance._state))

    def __enter__(self):
        from moto.ec2.models.instances import InstanceState

        for instance, _ in self.instances:
            instance._state = InstanceState("running", 16)

    def __exit__(self, *exc):
        for instance, state in self.instances:
            instance._state = state
