"""aws-like mode: EC2 instances start and terminate asynchronously.

AWS's instance lifecycle (EC2 user guide, "Amazon EC2 instance state changes"):
a launched instance is ``pending`` (code 0) before ``running`` (16); a terminated
one is ``shutting-down`` (32) before ``terminated`` (48). Each step here takes
:func:`labkit.emulator.aws_like.delay` seconds; the boto3 waiters
``instance_running`` and ``instance_terminated`` see the same sequence.
"""
from __future__ import annotations

from moto.ec2.models.instances import InstanceBackend, InstanceState

from labkit.emulator import aws_like
from labkit.emulator.patching import replace

PENDING, RUNNING = ("pending", 0), ("running", 16)
SHUTTING_DOWN, TERMINATED = ("shutting-down", 32), ("terminated", 48)


def install() -> None:
    if getattr(InstanceBackend.run_instances, "_labkit_aws_like", False):
        return
    run, terminate = InstanceBackend.run_instances, InstanceBackend.terminate_instances

    def run_instances(self, *args, **kwargs):
        reservation = run(self, *args, **kwargs)
        if aws_like.enabled():
            for instance in reservation.instances:
                _step(instance, RUNNING, PENDING)
        return reservation

    def terminate_instances(self, instance_ids):
        done = terminate(self, instance_ids)
        if aws_like.enabled():
            for instance, _previous in done:
                if instance._state.name == TERMINATED[0]:
                    _step(instance, TERMINATED, SHUTTING_DOWN)
        return done

    run_instances._labkit_aws_like = True
    replace(InstanceBackend, "run_instances", run_instances)
    replace(InstanceBackend, "terminate_instances", terminate_instances)


def _step(instance, final: tuple[str, int], meanwhile: tuple[str, int]) -> None:
    """Show MEANWHILE now and FINAL once the delay has passed (unless something else moved it)."""
    instance._state = InstanceState(*meanwhile)

    def arrive():
        if instance._state.name == meanwhile[0]:
            instance._state = InstanceState(*final)
            instance._labkit_running_since = aws_like.now()  # target health counts from here
            _tell_group(instance)
    aws_like.later(arrive)


def _tell_group(instance) -> None:
    """A group's instance that now runs joins the group's target groups, as on AWS
    (labkit's Auto Scaling layer registers running instances only)."""
    group = getattr(instance, "autoscaling_group", None)
    if group is None or group.name not in group.autoscaling_backend.autoscaling_groups:
        return
    for state in group.instance_states:
        if state.instance is instance and state.lifecycle_state == "Pending":
            state.lifecycle_state = "InService"
    if group.target_group_arns:
        group.autoscaling_backend.update_attached_target_groups(group.name)
