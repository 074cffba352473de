"""labkit.topics.scaling (lesson 05): reference build, checks, simulated scaling, teardown."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

import labkit
from labkit import checks
from labkit.topics import scaling as lab_ec2
from labkit.checks import lesson05  # noqa: F401  (registers the checks)
from labkit.grading import checks as graded
from tests.support import failed

graded.load_hidden("05")  # the instructor's hidden checks (instructor/hidden_checks)
NAME = "t-ec2"
VISIBLE = ["05.network", "05.launch-template", "05.load-balancer", "05.auto-scaling-group",
           "05.scaling-policy"]
HIDDEN = ["05.elb-health", "05.capacity-headroom"]


@pytest.fixture(scope="module")
def lab():
    lab = labkit.start(NAME, lesson="00", verbose=False)
    lab_ec2.build(lab)
    lab_ec2.build(lab)  # idempotent: a second run changes nothing and raises nothing
    yield lab
    assert lab_ec2.teardown(lab) == []


def test_build_twice_leaves_one_of_each(lab):
    ec2 = lab.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [lab_ec2.names(lab).vpc]}])["Vpcs"]
    assert len(vpcs) == 1
    assert len(lab_ec2.find_subnets(lab, vpcs[0]["VpcId"])) == 2
    policies = lab.client("autoscaling").describe_policies(
        AutoScalingGroupName=lab_ec2.names(lab).group)["ScalingPolicies"]
    assert len(policies) == 1


@pytest.mark.parametrize("check_id", VISIBLE + HIDDEN)
def test_checks_pass_on_the_reference_build(lab, check_id):
    result = checks.run(lab, check_id)
    assert result.passed, str(result)


def test_subnets_use_the_regions_first_two_zones(lab):
    zones = [z["ZoneName"] for z in lab.client("ec2").describe_availability_zones()["AvailabilityZones"]]
    assert lab_ec2.two_zones(lab) == sorted(zones)[:2]


def test_group_check_fails_when_detached_from_the_target_group(lab):
    scaling, group = lab.client("autoscaling"), lab_ec2.names(lab).group
    tg = lab_ec2.find_target_group(lab)
    scaling.detach_load_balancer_target_groups(AutoScalingGroupName=group, TargetGroupARNs=[tg])
    try:
        assert "not attached" in failed(lab, "05.auto-scaling-group")
    finally:
        scaling.attach_load_balancer_target_groups(AutoScalingGroupName=group, TargetGroupARNs=[tg])


def test_health_check_fails_with_ec2_health_checks(lab):
    scaling, group = lab.client("autoscaling"), lab_ec2.names(lab).group
    scaling.update_auto_scaling_group(AutoScalingGroupName=group, HealthCheckType="EC2")
    try:
        assert "EC2" in failed(lab, "05.elb-health")
    finally:
        scaling.update_auto_scaling_group(AutoScalingGroupName=group, HealthCheckType="ELB")


def test_policy_check_fails_without_the_policy_and_its_alarms(lab):
    n = lab_ec2.names(lab)
    lab.client("autoscaling").delete_policy(AutoScalingGroupName=n.group, PolicyName=n.policy)
    try:
        assert "no target-tracking" in failed(lab, "05.scaling-policy")
    finally:
        lab_ec2.ensure_scaling_policy(lab)
    assert checks.run(lab, "05.scaling-policy").passed


def test_load_balancer_check_fails_without_a_listener(lab):
    elb = lab.client("elbv2")
    lb = lab_ec2.find_load_balancer(lab)
    for listener in elb.describe_listeners(LoadBalancerArn=lb)["Listeners"]:
        elb.delete_listener(ListenerArn=listener["ListenerArn"])
    try:
        assert "port 80" in failed(lab, "05.load-balancer")
    finally:
        lab_ec2.build(lab)
    assert checks.run(lab, "05.load-balancer").passed


def test_desired_capacity_above_max_is_a_validation_error(lab):
    with pytest.raises(ClientError) as err:
        lab.client("autoscaling").set_desired_capacity(
            AutoScalingGroupName=lab_ec2.names(lab).group, DesiredCapacity=lab_ec2.MAX_SIZE + 1)
    assert err.value.response["Error"]["Code"] == "ValidationError"


def test_simulated_load_scales_out_and_back_in_deterministically(lab):
    first = lab_ec2.simulate_load(lab, lab_ec2.demand_curve())
    capacity = [r["in_service"] for r in first]
    assert capacity[0] == lab_ec2.DESIRED
    assert max(capacity) == lab_ec2.MAX_SIZE
    assert capacity[-1] == lab_ec2.MIN_SIZE
    # scale-out waits for three breaching minutes (the third one included), scale-in for 15 calm ones
    out = next(r["minute"] for r in first if r["in_service"] > lab_ec2.DESIRED)
    assert [r["cpu"] > lab_ec2.TARGET_CPU for r in first[out - 3:out + 1]] == [False, True, True, True]
    peak = max(r["minute"] for r in first if r["cpu"] >= lab_ec2.TARGET_CPU)
    back = next(r["minute"] for r in first if r["minute"] > peak and r["in_service"] < lab_ec2.MAX_SIZE)
    assert back - peak == 15
    group = lab_ec2.describe_group(lab)
    assert lab_ec2.registered_targets(lab, lab_ec2.find_target_group(lab)) == {
        i["InstanceId"] for i in group["Instances"]}
    assert sorted(lab_ec2.zone_counts(group).values()) == [1, 1]
    assert lab_ec2.simulate_load(lab, lab_ec2.demand_curve()) == first  # a rerun draws the same plot


def test_plot_has_cpu_and_capacity(lab):
    import matplotlib

    matplotlib.use("Agg")
    rows = [{"minute": m, "cpu": 30.0, "in_service": 2} for m in range(3)]
    fig = lab_ec2.plot(rows)
    labels = [line.get_label() for axis in fig.axes for line in axis.get_lines()]
    assert "average CPU %" in labels and "instances in service" in labels


def test_simulation_needs_an_emulator_it_can_reach(lab):
    assert lab_ec2.can_simulate(lab)
    # Attached emulators (graders, the sandbox) simulate through their control endpoint.
    attached = SimpleNamespace(target="emulator", emulator=SimpleNamespace(url=lab.emulator.url, token=lab.emulator.token),
                               name="x")
    assert lab_ec2.can_simulate(attached)
    on_aws = SimpleNamespace(target="aws", emulator=None, name="x")
    no_endpoint = SimpleNamespace(target="emulator", emulator=object(), name="x")
    for fake in (on_aws, no_endpoint):
        assert not lab_ec2.can_simulate(fake)
        with pytest.raises(RuntimeError, match="real time"):
            lab_ec2.simulate_load(fake, [50.0])


@pytest.mark.parametrize("name", ["ab", "a" * 28, "b" * 30, "x-" * 14 + "yz"])
def test_elb_names_fit_32_characters_and_stay_distinct(name):
    n = lab_ec2.Ec2Names(name)
    assert len(n.load_balancer) <= 32 and len(n.target_group) <= 32
    assert n.load_balancer != n.target_group
    assert n.load_balancer.endswith("-alb") and not n.load_balancer.startswith("-")
    assert lab_ec2.Ec2Names(name[:-1] + "q").load_balancer != n.load_balancer


def test_instance_family_table_reads_ec2(lab):
    rows = lab_ec2.instance_family_table(lab)
    assert [r["family"] for r in rows] == [f for f, _, _ in lab_ec2.INSTANCE_FAMILIES]
    gpu = next(r for r in rows if r["family"] == "Accelerated computing")
    assert gpu["GPUs"] >= 1


def test_teardown_leaves_nothing_and_is_idempotent():
    lab = labkit.start("t-ec2-down", lesson="00", verbose=False)
    lab_ec2.build(lab)
    assert len(lab_ec2.leftovers(lab)) == 5
    assert lab_ec2.teardown(lab) == []
    assert lab_ec2.leftovers(lab) == []
    assert lab_ec2.teardown(lab) == []
    assert checks.run(lab, "05.network").passed is False


@pytest.mark.xfail(strict=True, reason="moto answers DeleteLaunchTemplate for a missing name with "
                   "MissingParameter; AWS with InvalidLaunchTemplateName.NotFoundException")
def test_emulator_delete_missing_launch_template_is_not_found(lab):
    with pytest.raises(ClientError) as err:
        lab.client("ec2").delete_launch_template(LaunchTemplateName="t-ec2-no-such-template")
    assert "NotFound" in err.value.response["Error"]["Code"]
