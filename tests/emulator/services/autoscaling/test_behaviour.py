"""Auto Scaling fidelity: zone spread, capacity limits, alarms that scale, target groups."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from labkit.config import DEFAULT_REGION, EMULATOR_ACCOUNT_ID
from labkit.emulator.services.autoscaling import behaviour as autoscaling

from labkit.emulator.services.cloudwatch import behaviour as cloudwatch
GROUP = "web-asg"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


# --- simulated time from another process (the control endpoint) --------------
# These run first, before the module's mock_aws (which would capture the
# emulator clients' requests) is started.

@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    from labkit.emulator import ensure_running

    em = ensure_running(home=tmp_path_factory.mktemp("labkit-asg-control"))
    em.reset()
    yield em
    em.reset()


def _emulated_group(em, name):
    """A group of 1 (max 3) with a target tracking policy at 50% CPU, in the emulator."""
    ec2, scaling = em.client("ec2"), em.client("autoscaling")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone=zone)
    ec2.create_launch_template(LaunchTemplateName=f"{name}-lt", LaunchTemplateData={
        "ImageId": "ami-12345678", "InstanceType": "t3.micro"})
    scaling.create_auto_scaling_group(
        AutoScalingGroupName=name, LaunchTemplate={"LaunchTemplateName": f"{name}-lt"},
        MinSize=1, MaxSize=3, DesiredCapacity=1, VPCZoneIdentifier=subnet["Subnet"]["SubnetId"])
    scaling.put_scaling_policy(
        AutoScalingGroupName=name, PolicyName="cpu50", PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={"TargetValue": 50.0, "PredefinedMetricSpecification": {
            "PredefinedMetricType": "ASGAverageCPUUtilization"}})
    for minute in range(3):
        em.client("cloudwatch").put_metric_data(Namespace="AWS/EC2", MetricData=[{
            "MetricName": "CPUUtilization", "Value": 95.0, "Timestamp": T0 + timedelta(minutes=minute),
            "Dimensions": [{"Name": "AutoScalingGroupName", "Value": name}]}])


def _desired(em, name) -> int:
    return em.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"][0]["DesiredCapacity"]


def test_alarm_evaluated_from_another_process_scales_out(emulator, tmp_path):
    import json
    import subprocess
    import sys

    from labkit.emulator import write_attach_file

    _emulated_group(emulator, "control-asg")
    attach = write_attach_file(emulator, tmp_path / "attach.json")
    child = (
        "import json, sys\n"
        "from datetime import datetime\n"
        "from labkit.emulator import AttachedEmulator, evaluate_alarms\n"
        "em = AttachedEmulator(json.load(open(sys.argv[1])))\n"
        "out = evaluate_alarms(em, now=datetime.fromisoformat(sys.argv[2]))\n"
        "print(json.dumps([[t.alarm_name, t.new_state, t.actions] for t in out]))\n")
    now = (T0 + timedelta(minutes=2)).isoformat()
    done = subprocess.run([sys.executable, "-c", child, str(attach), now], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    prefix = "TargetTracking-control-asg-"
    states = {name[len(prefix):].split("-")[0]: (state, actions)
              for name, state, actions in json.loads(done.stdout) if name.startswith(prefix)}
    assert states["AlarmHigh"][0] == "ALARM" and states["AlarmHigh"][1]  # its policy ran
    assert states["AlarmLow"][0] == "OK"
    assert _desired(emulator, "control-asg") > 1


def test_evaluating_before_the_data_changes_nothing(emulator):
    from labkit.emulator import evaluate_alarms

    _emulated_group(emulator, "early-asg")
    # At T0 only one of the three periods has data: not enough to alarm.
    out = evaluate_alarms(emulator, now=T0, account_id=EMULATOR_ACCOUNT_ID)
    high = next(t for t in out if t.alarm_name.startswith("TargetTracking-early-asg-AlarmHigh"))
    assert high.new_state != "ALARM"
    assert _desired(emulator, "early-asg") == 1


def _post(url, body: bytes, proxy=None, token=None):
    import urllib.error
    import urllib.request

    from labkit.emulator.proxy import TOKEN_HEADER

    handler = urllib.request.ProxyHandler({"http": proxy} if proxy else {})
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={TOKEN_HEADER: token} if token else {})
    try:
        with urllib.request.build_opener(handler).open(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_control_endpoint_rejects_bad_input(emulator):
    from labkit.emulator import evaluate_alarms
    from labkit.emulator.services.cloudwatch.control import EVALUATE_ALARMS_PATH

    status, body = _post(emulator.url + EVALUATE_ALARMS_PATH, b'{"now": "yesterday"}',
                         token=emulator.token)
    assert status == 400 and b"not an ISO 8601 time" in body
    status, body = _post(emulator.url + EVALUATE_ALARMS_PATH, b'{"when": "2026-01-01T00:00:00"}',
                         token=emulator.token)
    assert status == 400 and b"unknown field" in body
    status, body = _post(emulator.url + EVALUATE_ALARMS_PATH, b'{"account_id": 5}',
                         token=emulator.token)
    assert status == 400 and b"account_id must be a string" in body
    with pytest.raises(TypeError, match="Emulator"):
        evaluate_alarms(object())


def test_control_endpoint_is_not_reachable_through_an_aws_host(emulator):
    from labkit.emulator.services.cloudwatch.control import EVALUATE_ALARMS_PATH

    url = f"http://monitoring.{DEFAULT_REGION}.amazonaws.com{EVALUATE_ALARMS_PATH}"
    status, body = _post(url, b"{}", proxy=emulator.proxy_url)
    assert status == 403 and b"transitions" not in body


@pytest.fixture(scope="module")
def mocked():
    # One mock for the module: moto's reset of EC2 costs seconds per test.
    autoscaling.install()
    with mock_aws():
        yield {name: boto3.client(name, region_name=DEFAULT_REGION)
               for name in ("ec2", "autoscaling", "elbv2", "cloudwatch")}


@pytest.fixture(scope="module")
def vpc(mocked):
    """A VPC with one subnet in each of two AZs, and a launch template."""
    ec2 = mocked["ec2"]
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
        for i, az in enumerate(zones)
    ]
    ec2.create_launch_template(LaunchTemplateName="web-template", LaunchTemplateData={
        "ImageId": "ami-12345678", "InstanceType": "t3.micro"})
    return {"vpc": vpc_id, "subnets": subnets, "zones": zones}


@pytest.fixture()
def aws(mocked):
    """The module's clients; Auto Scaling, CloudWatch and ELBv2 start empty in each test."""
    from moto.autoscaling.models import autoscaling_backends
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.elbv2.models import elbv2_backends

    yield mocked
    for backends in (autoscaling_backends, cloudwatch_backends, elbv2_backends):
        backends[EMULATOR_ACCOUNT_ID][DEFAULT_REGION].reset()


@pytest.fixture()
def net(aws, vpc):
    """The shared network plus a fresh target group."""
    tg = aws["elbv2"].create_target_group(
        Name="web-tg", Protocol="HTTP", Port=80, VpcId=vpc["vpc"], TargetType="instance",
    )["TargetGroups"][0]["TargetGroupArn"]
    return {**vpc, "tg": tg}


def make_group(aws, net, desired=2, min_size=1, max_size=6, target_group=True):
    aws["autoscaling"].create_auto_scaling_group(
        AutoScalingGroupName=GROUP, LaunchTemplate={"LaunchTemplateName": "web-template"},
        MinSize=min_size, MaxSize=max_size, DesiredCapacity=desired,
        VPCZoneIdentifier=",".join(net["subnets"]),
        TargetGroupARNs=[net["tg"]] if target_group else [],
    )


def group(aws):
    return aws["autoscaling"].describe_auto_scaling_groups(
        AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]


def per_zone(aws, net) -> list[int]:
    counts = Counter(i["AvailabilityZone"] for i in group(aws)["Instances"])
    return [counts[z] for z in net["zones"]]


def registered(aws, net) -> set[str]:
    health = aws["elbv2"].describe_target_health(TargetGroupArn=net["tg"])
    return {t["Target"]["Id"] for t in health["TargetHealthDescriptions"]}


def instance_ids(aws) -> set[str]:
    return {i["InstanceId"] for i in group(aws)["Instances"]}


# --- zone spread -------------------------------------------------------------

@pytest.mark.parametrize("desired", [2, 4, 6])
def test_instances_spread_evenly_across_zones(aws, net, desired):
    make_group(aws, net, desired=desired)
    counts = per_zone(aws, net)
    assert sum(counts) == desired
    assert counts == [desired // 2, desired // 2]


def test_subnets_match_their_zone(aws, net):
    make_group(aws, net, desired=4)
    ids = list(instance_ids(aws))
    reservations = aws["ec2"].describe_instances(InstanceIds=ids)["Reservations"]
    zone_of = dict(zip(net["subnets"], net["zones"]))
    for inst in (i for r in reservations for i in r["Instances"]):
        assert zone_of[inst["SubnetId"]] == inst["Placement"]["AvailabilityZone"]


def test_scale_in_terminates_from_the_fullest_zone(aws, net):
    make_group(aws, net, desired=6)
    for desired in (5, 4, 3, 1):
        aws["autoscaling"].set_desired_capacity(AutoScalingGroupName=GROUP, DesiredCapacity=desired)
        counts = per_zone(aws, net)
        assert sum(counts) == desired
        assert max(counts) - min(counts) <= 1, (desired, counts)


def test_replacement_of_terminated_instances_keeps_balance(aws, net):
    make_group(aws, net, desired=4)
    in_first_zone = [i["InstanceId"] for i in group(aws)["Instances"]
                     if i["AvailabilityZone"] == net["zones"][0]]
    aws["ec2"].terminate_instances(InstanceIds=in_first_zone)
    assert per_zone(aws, net) == [2, 2]
    assert not set(in_first_zone) & instance_ids(aws)


# --- capacity limits ---------------------------------------------------------

def test_set_desired_capacity_above_max_is_rejected(aws, net):
    make_group(aws, net, desired=2, max_size=4)
    with pytest.raises(ClientError) as err:
        aws["autoscaling"].set_desired_capacity(AutoScalingGroupName=GROUP, DesiredCapacity=5)
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert err.value.response["Error"]["Message"] == (
        "New SetDesiredCapacity value 5 is above max value 4 for the AutoScalingGroup.")
    assert group(aws)["DesiredCapacity"] == 2


def test_set_desired_capacity_below_min_is_rejected(aws, net):
    make_group(aws, net, desired=2, min_size=2)
    with pytest.raises(ClientError) as err:
        aws["autoscaling"].set_desired_capacity(AutoScalingGroupName=GROUP, DesiredCapacity=1)
    assert "is below min value 2" in err.value.response["Error"]["Message"]


def test_create_and_update_reject_desired_outside_limits(aws, net):
    with pytest.raises(ClientError) as err:
        make_group(aws, net, desired=7, max_size=6)
    assert err.value.response["Error"]["Message"] == (
        "Desired capacity:7 must be between the specified min size:1 and max size:6")
    make_group(aws, net, desired=2)
    with pytest.raises(ClientError) as err:
        aws["autoscaling"].update_auto_scaling_group(AutoScalingGroupName=GROUP, DesiredCapacity=9)
    assert err.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as err:
        aws["autoscaling"].update_auto_scaling_group(AutoScalingGroupName=GROUP, MinSize=5, MaxSize=3)
    assert "Max bound, 3, must be greater than or equal to min bound, 5" in str(err.value)
    aws["autoscaling"].update_auto_scaling_group(AutoScalingGroupName=GROUP, MaxSize=3, DesiredCapacity=3)
    assert group(aws)["DesiredCapacity"] == 3


# --- alarms that scale -------------------------------------------------------

def put_cpu(aws, value, minute):
    aws["cloudwatch"].put_metric_data(Namespace="AWS/EC2", MetricData=[{
        "MetricName": "CPUUtilization", "Value": value, "Timestamp": T0 + timedelta(minutes=minute),
        "Dimensions": [{"Name": "AutoScalingGroupName", "Value": GROUP}]}])


def test_target_tracking_creates_named_alarms(aws, net):
    make_group(aws, net)
    out = aws["autoscaling"].put_scaling_policy(
        AutoScalingGroupName=GROUP, PolicyName="cpu50", PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={"TargetValue": 50.0, "PredefinedMetricSpecification": {
            "PredefinedMetricType": "ASGAverageCPUUtilization"}})
    names = sorted(a["AlarmName"] for a in out["Alarms"])
    assert [n.rsplit("-", 5)[0] for n in names] == [
        f"TargetTracking-{GROUP}-AlarmHigh", f"TargetTracking-{GROUP}-AlarmLow"]
    alarms = {a["AlarmName"]: a for a in aws["cloudwatch"].describe_alarms(AlarmNames=names)["MetricAlarms"]}
    high = next(a for n, a in alarms.items() if "AlarmHigh" in n)
    assert high["AlarmActions"] == [out["PolicyARN"]]
    assert (high["MetricName"], high["Threshold"], high["EvaluationPeriods"]) == ("CPUUtilization", 50.0, 3)
    aws["autoscaling"].delete_policy(AutoScalingGroupName=GROUP, PolicyName="cpu50")
    assert aws["cloudwatch"].describe_alarms(AlarmNames=names)["MetricAlarms"] == []


def test_target_tracking_scales_out_and_in_with_simulated_time(aws, net):
    make_group(aws, net, desired=2, max_size=4)
    aws["autoscaling"].put_scaling_policy(
        AutoScalingGroupName=GROUP, PolicyName="cpu50", PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={"TargetValue": 50.0, "CustomizedMetricSpecification": {
            "MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "Statistic": "Average",
            "Dimensions": [{"Name": "AutoScalingGroupName", "Value": GROUP}]}})
    capacity = []
    for minute in range(40):
        put_cpu(aws, 95.0 if minute < 10 else 5.0, minute)
        cloudwatch.evaluate_alarms(EMULATOR_ACCOUNT_ID, DEFAULT_REGION, T0 + timedelta(minutes=minute))
        capacity.append(group(aws)["DesiredCapacity"])
    assert capacity[1] == 2          # two minutes of load are not yet three datapoints
    assert max(capacity) == 4        # scaled out, and never above MaxSize
    assert capacity[-1] == 1         # scaled back in, never below MinSize
    assert per_zone(aws, net) in ([1, 0], [0, 1])


def test_simple_policy_runs_when_alarm_state_is_set(aws, net):
    make_group(aws, net, desired=2, max_size=3)
    arn = aws["autoscaling"].put_scaling_policy(
        AutoScalingGroupName=GROUP, PolicyName="add-two", PolicyType="SimpleScaling",
        AdjustmentType="ChangeInCapacity", ScalingAdjustment=2)["PolicyARN"]
    aws["cloudwatch"].put_metric_alarm(
        AlarmName="busy", MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average",
        Period=60, EvaluationPeriods=1, Threshold=70, ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[arn])
    aws["cloudwatch"].set_alarm_state(AlarmName="busy", StateValue="ALARM", StateReason="test")
    assert group(aws)["DesiredCapacity"] == 3    # +2 clamped to MaxSize


def test_step_policy_picks_the_step_for_the_breach(aws, net):
    make_group(aws, net, desired=1, max_size=6)
    arn = aws["autoscaling"].put_scaling_policy(
        AutoScalingGroupName=GROUP, PolicyName="steps", PolicyType="StepScaling",
        AdjustmentType="ChangeInCapacity", StepAdjustments=[
            {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 20, "ScalingAdjustment": 1},
            {"MetricIntervalLowerBound": 20, "ScalingAdjustment": 3}])["PolicyARN"]
    aws["cloudwatch"].put_metric_alarm(
        AlarmName="steps-high", MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average",
        Period=60, EvaluationPeriods=1, Threshold=60, ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "AutoScalingGroupName", "Value": GROUP}], AlarmActions=[arn])
    put_cpu(aws, 95.0, 0)        # breach of 35: the second step, +3
    cloudwatch.evaluate_alarms(now=T0)
    assert group(aws)["DesiredCapacity"] == 4


def test_alarm_without_data_is_insufficient(aws, net):
    make_group(aws, net, target_group=False)
    aws["cloudwatch"].put_metric_alarm(
        AlarmName="idle", MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average",
        Period=60, EvaluationPeriods=2, Threshold=70, ComparisonOperator="GreaterThanThreshold")
    [result] = cloudwatch.evaluate_alarms(now=T0)
    assert result.new_state == "INSUFFICIENT_DATA"


# --- target groups -----------------------------------------------------------

def test_target_group_follows_the_group(aws, net):
    make_group(aws, net, desired=4)
    before = instance_ids(aws)
    assert registered(aws, net) == before
    aws["autoscaling"].set_desired_capacity(AutoScalingGroupName=GROUP, DesiredCapacity=2)
    after = instance_ids(aws)
    assert registered(aws, net) == after
    gone = sorted(before - after)
    health = aws["elbv2"].describe_target_health(
        TargetGroupArn=net["tg"], Targets=[{"Id": gone[0]}])["TargetHealthDescriptions"][0]
    assert health["TargetHealth"]["State"] == "unused"
    aws["ec2"].terminate_instances(InstanceIds=[sorted(after)[0]])
    assert registered(aws, net) == instance_ids(aws)
    assert sorted(after)[0] not in registered(aws, net)


def test_install_is_idempotent():
    from moto.autoscaling.models import FakeAutoScalingGroup

    autoscaling.install()
    patched = FakeAutoScalingGroup.replace_autoscaling_group_instances
    autoscaling.install()
    assert FakeAutoScalingGroup.replace_autoscaling_group_instances is patched
