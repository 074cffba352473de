"""Lesson 05: EC2 instance families, and an Auto Scaling group behind a load balancer.

The lesson's end state, built by :func:`build` (idempotent):

* a small VPC ``NAME-vpc`` with one public subnet in each of the region's first
  two Availability Zones (from DescribeAvailabilityZones, never hard-coded);
* a security group ``NAME-web-sg`` that lets HTTP in;
* a launch template ``NAME-web-template`` (Amazon Linux 2023 from AWS's public
  SSM parameter, t3.micro);
* an internet-facing application load balancer and a target group, with an
  HTTP listener forwarding to it;
* an Auto Scaling group ``NAME-web-asg`` over both subnets (min 2, max 6), attached
  to the target group, with a target-tracking policy keeping average CPU at 50%.

:func:`simulate_load` replays a load curve on a *simulated* clock (CloudWatch
data points dated minute by minute, alarms evaluated at each simulated minute),
so an hour of scaling takes seconds. It needs the emulator (in this kernel, or attached:
labkit.emulator.evaluate_alarms reaches it over its control endpoint).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from botocore.exceptions import ClientError

from labkit.topics import cleanup, costs, waiting

#: The seed's instance families, each with a current example type and when to pick it.
INSTANCE_FAMILIES = (
    ("General purpose", "t3.micro", "small to medium datasets, web servers, notebooks: "
     "a balance of CPU, memory and network"),
    ("Compute optimized", "c7g.large", "CPU-bound work such as model training on CPUs, "
     "batch scoring, video encoding"),
    ("Memory optimized", "r6i.large", "large datasets processed in memory (Spark, pandas "
     "on big frames, in-memory databases)"),
    ("Accelerated computing", "g5.xlarge", "GPUs for deep learning training and inference, "
     "graphics"),
    ("Storage optimized", "i4i.large", "high, low-latency local disk I/O: data stores, "
     "search indexes, log processing"),
)

#: AWS's public parameter naming the latest Amazon Linux 2023 AMI of the region.
AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
INSTANCE_TYPE = "t3.micro"
VPC_CIDR = "10.42.0.0/16"
MIN_SIZE, MAX_SIZE, DESIRED = 2, 6, 2
TARGET_CPU = 50.0
TAG_KEY = "labkit"
ELB_NAME_LIMIT = 32  # load balancer and target group names
#: boto3 waiters: poll every 5 s for up to 15 minutes (their defaults poll every 15 s).
WAIT = {"Delay": 5, "MaxAttempts": 180}


def _elb_name(name: str, suffix: str) -> str:
    """``NAME-suffix``, shortened with a hash when it exceeds ELB's 32 characters."""
    full = f"{name}-{suffix}"
    if len(full) <= ELB_NAME_LIMIT:
        return full
    digest = hashlib.sha1(name.encode()).hexdigest()[:4]
    keep = ELB_NAME_LIMIT - len(suffix) - len(digest) - 2
    return f"{name[:keep].rstrip('-')}-{digest}-{suffix}"


@dataclass(frozen=True)
class Ec2Names:
    """Every lesson 05 resource name for one learner."""

    name: str

    @property
    def vpc(self) -> str:
        return f"{self.name}-vpc"

    def subnet(self, index: int) -> str:
        return f"{self.name}-subnet-{'ab'[index]}"

    @property
    def security_group(self) -> str:
        return f"{self.name}-web-sg"

    @property
    def launch_template(self) -> str:
        return f"{self.name}-web-template"

    @property
    def load_balancer(self) -> str:
        return _elb_name(self.name, "alb")

    @property
    def target_group(self) -> str:
        return _elb_name(self.name, "tg")

    @property
    def group(self) -> str:
        return f"{self.name}-web-asg"

    @property
    def policy(self) -> str:
        return f"{self.name}-cpu-target"


def names(lab) -> Ec2Names:
    return Ec2Names(lab.name)


def _tags(name: str, kind: str) -> list[dict]:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name},
                                            {"Key": TAG_KEY, "Value": "course"}]}]


# --- instance families --------------------------------------------------------

def instance_family_table(lab) -> list[dict]:
    """The seed's families with their example type's vCPUs, memory and GPUs, read from EC2."""
    ec2 = lab.client("ec2")
    types = [t for _, t, _ in INSTANCE_FAMILIES]
    found = {t["InstanceType"]: t for t in ec2.describe_instance_types(InstanceTypes=types)["InstanceTypes"]}
    rows = []
    for family, example, use in INSTANCE_FAMILIES:
        info = found[example]
        gpus = sum(g.get("Count", 0) for g in info.get("GpuInfo", {}).get("Gpus", []))
        rows.append({"family": family, "example": example, "vCPUs": info["VCpuInfo"]["DefaultVCpus"],
                     "memory GiB": info["MemoryInfo"]["SizeInMiB"] / 1024, "GPUs": gpus,
                     "use it for": use})
    return rows


# --- network ------------------------------------------------------------------

def two_zones(lab) -> list[str]:
    """The region's first two available Availability Zones, as EC2 lists them."""
    zones = lab.client("ec2").describe_availability_zones(
        Filters=[{"Name": "state", "Values": ["available"]},
                 {"Name": "zone-type", "Values": ["availability-zone"]}])["AvailabilityZones"]
    names_ = sorted(z["ZoneName"] for z in zones)
    if len(names_) < 2:
        raise RuntimeError(f"region {lab.region} lists fewer than two Availability Zones: {names_}")
    return names_[:2]


def find_vpc(lab) -> str | None:
    """The id of the VPC tagged Name=NAME-vpc, or None."""
    vpcs = lab.client("ec2").describe_vpcs(
        Filters=[{"Name": "tag:Name", "Values": [names(lab).vpc]}])["Vpcs"]
    return vpcs[0]["VpcId"] if vpcs else None


def find_subnets(lab, vpc_id: str) -> list[dict]:
    """The lesson's subnets in ``vpc_id``, ordered by Availability Zone."""
    subnets = lab.client("ec2").describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    return sorted(subnets, key=lambda s: s["AvailabilityZone"])


def ensure_network(lab) -> dict:
    """A VPC with one subnet in each of two zones, and an HTTP security group.

    Returns {"vpc": id, "subnets": [ids, zone order], "zones": [...], "security_group": id}.
    """
    ec2, n = lab.client("ec2"), names(lab)
    zones = two_zones(lab)
    vpc_id = find_vpc(lab) or ec2.create_vpc(
        CidrBlock=VPC_CIDR, TagSpecifications=_tags(n.vpc, "vpc"))["Vpc"]["VpcId"]
    have = {s["AvailabilityZone"]: s["SubnetId"] for s in find_subnets(lab, vpc_id)}
    for index, zone in enumerate(zones):
        if zone not in have:
            have[zone] = ec2.create_subnet(
                VpcId=vpc_id, AvailabilityZone=zone, CidrBlock=f"10.42.{index}.0/24",
                TagSpecifications=_tags(n.subnet(index), "subnet"))["Subnet"]["SubnetId"]
    return {"vpc": vpc_id, "subnets": [have[z] for z in zones], "zones": zones,
            "security_group": ensure_security_group(lab, vpc_id)}


def ensure_security_group(lab, vpc_id: str) -> str:
    """NAME-web-sg in ``vpc_id``, allowing HTTP (port 80) from anywhere."""
    ec2, n = lab.client("ec2"), names(lab)
    found = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [n.security_group]}])
    if found["SecurityGroups"]:
        return found["SecurityGroups"][0]["GroupId"]
    group_id = ec2.create_security_group(
        GroupName=n.security_group, Description="HTTP to the lesson 05 web tier", VpcId=vpc_id,
        TagSpecifications=_tags(n.security_group, "security-group"))["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
        "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "HTTP from the internet"}]}])
    return group_id


# --- launch template ------------------------------------------------------------

def latest_ami(lab) -> str:
    """The region's current Amazon Linux 2023 AMI, from AWS's public SSM parameter."""
    return lab.client("ssm").get_parameter(Name=AMI_PARAMETER)["Parameter"]["Value"]


def ensure_launch_template(lab, security_group: str) -> str:
    """NAME-web-template (AL2023, t3.micro, the web security group); returns its id."""
    ec2, n = lab.client("ec2"), names(lab)
    existing = find_launch_template(lab)
    if existing:
        return existing
    return ec2.create_launch_template(
        LaunchTemplateName=n.launch_template,
        LaunchTemplateData={"ImageId": latest_ami(lab), "InstanceType": INSTANCE_TYPE,
                            "SecurityGroupIds": [security_group]},
        TagSpecifications=_tags(n.launch_template, "launch-template"),
    )["LaunchTemplate"]["LaunchTemplateId"]


# --- load balancer --------------------------------------------------------------

def _arn_or_none(call, key: str, **kwargs) -> str | None:
    try:
        items = call(**kwargs)[key]
    except ClientError as exc:
        if "NotFound" in exc.response["Error"]["Code"]:
            return None
        raise
    return items[0][key[:-1] + "Arn"] if items else None


def find_load_balancer(lab) -> str | None:
    elb = lab.client("elbv2")
    return _arn_or_none(elb.describe_load_balancers, "LoadBalancers", Names=[names(lab).load_balancer])


def find_target_group(lab) -> str | None:
    elb = lab.client("elbv2")
    return _arn_or_none(elb.describe_target_groups, "TargetGroups", Names=[names(lab).target_group])


def ensure_load_balancer(lab, network: dict) -> dict:
    """An internet-facing ALB over both subnets, a target group, an HTTP:80 listener.

    Returns {"load_balancer": arn, "target_group": arn, "dns": DNS name}.
    """
    elb, n = lab.client("elbv2"), names(lab)
    lb_arn = find_load_balancer(lab) or elb.create_load_balancer(
        Name=n.load_balancer, Subnets=network["subnets"], SecurityGroups=[network["security_group"]],
        Scheme="internet-facing", Type="application", IpAddressType="ipv4",
        Tags=[{"Key": TAG_KEY, "Value": "course"}])["LoadBalancers"][0]["LoadBalancerArn"]
    tg_arn = find_target_group(lab) or elb.create_target_group(
        Name=n.target_group, Protocol="HTTP", Port=80, VpcId=network["vpc"], TargetType="instance",
        HealthCheckPath="/", Tags=[{"Key": TAG_KEY, "Value": "course"}],
    )["TargetGroups"][0]["TargetGroupArn"]
    if not elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]:
        elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])
    dns = elb.describe_load_balancers(LoadBalancerArns=[lb_arn])["LoadBalancers"][0]["DNSName"]
    return {"load_balancer": lb_arn, "target_group": tg_arn, "dns": dns}


# --- Auto Scaling group -----------------------------------------------------------

def describe_group(lab) -> dict | None:
    """DescribeAutoScalingGroups' entry for NAME-web-asg, or None."""
    groups = lab.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[names(lab).group])["AutoScalingGroups"]
    return groups[0] if groups else None


def ensure_group(lab, network: dict, target_group: str) -> dict:
    """NAME-web-asg over both subnets, behind the target group; returns its description."""
    n = names(lab)
    if describe_group(lab) is None:
        lab.client("autoscaling").create_auto_scaling_group(
            AutoScalingGroupName=n.group,
            LaunchTemplate={"LaunchTemplateName": n.launch_template, "Version": "$Latest"},
            MinSize=MIN_SIZE, MaxSize=MAX_SIZE, DesiredCapacity=DESIRED,
            VPCZoneIdentifier=",".join(network["subnets"]), TargetGroupARNs=[target_group],
            HealthCheckType="ELB", HealthCheckGracePeriod=120,
            Tags=[{"Key": "Name", "Value": f"{lab.name}-web", "PropagateAtLaunch": True},
                  {"Key": TAG_KEY, "Value": "course", "PropagateAtLaunch": True}])
    return describe_group(lab)


def ensure_scaling_policy(lab) -> dict:
    """A target-tracking policy keeping the group's average CPU at TARGET_CPU percent.

    PutScalingPolicy both creates and updates, so this is idempotent as it is.
    Returns {"PolicyARN": ..., "Alarms": [...]} as AWS does.
    """
    out = lab.client("autoscaling").put_scaling_policy(
        AutoScalingGroupName=names(lab).group, PolicyName=names(lab).policy,
        PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={
            "TargetValue": TARGET_CPU,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"}})
    return {"PolicyARN": out["PolicyARN"], "Alarms": out.get("Alarms", [])}


def zone_counts(group: dict) -> dict[str, int]:
    """Instances per Availability Zone of a DescribeAutoScalingGroups entry."""
    counts: dict[str, int] = {}
    for instance in group["Instances"]:
        counts[instance["AvailabilityZone"]] = counts.get(instance["AvailabilityZone"], 0) + 1
    return counts


def registered_targets(lab, target_group: str) -> set[str]:
    """Instance ids registered with the target group (any health state but unused/draining)."""
    health = lab.client("elbv2").describe_target_health(TargetGroupArn=target_group)
    return {t["Target"]["Id"] for t in health["TargetHealthDescriptions"]
            if t["TargetHealth"]["State"] not in ("unused", "draining")}


def build(lab) -> None:
    """Lesson 05's end state (reference solution); safe to run any number of times."""
    network = ensure_network(lab)
    ensure_launch_template(lab, network["security_group"])
    announce_cost(lab)
    lb = ensure_load_balancer(lab, network)
    ensure_group(lab, network, lb["target_group"])
    ensure_scaling_policy(lab)
    wait_until_serving(lab)


# --- cost and waiting (a real account is billed, and asynchronous) -------------------

def cost_items(instances: int = DESIRED) -> dict[str, int]:
    """What lesson 05 runs, as costs.PRICES keys: the ALB (two nodes, two public IPv4
    addresses, about one LCU idle), the instances, the two target-tracking alarms."""
    return {"elb:alb": 1, "elb:lcu": 1, "vpc:public-ipv4": 2,
            f"ec2:{INSTANCE_TYPE}": instances, "cloudwatch:alarm": 2}


def announce_cost(lab, instances: int = DESIRED) -> str:
    """Print the hourly estimate of the load balancer and instances, and how to remove them."""
    return costs.announce(lab, f"the load balancer and {instances} {INSTANCE_TYPE} instance(s)",
                          cost_items(instances), "scaling")


def _serving(lab) -> tuple[int, int, int, dict]:
    """(desired, instances InService, targets healthy, group) right now."""
    group = describe_group(lab) or {"DesiredCapacity": 0, "Instances": []}
    in_service = [i for i in group["Instances"] if i["LifecycleState"] == "InService"]
    tg = find_target_group(lab)
    healthy = 0
    if tg:
        health = lab.client("elbv2").describe_target_health(TargetGroupArn=tg)
        healthy = sum(t["TargetHealth"]["State"] == "healthy" for t in health["TargetHealthDescriptions"])
    return group["DesiredCapacity"], len(in_service), healthy, group


def wait_until_serving(lab, timeout: float = 900) -> dict:
    """Wait until the group runs its desired capacity and every instance is a healthy target.

    On AWS instances are ``pending`` for a minute or so, then targets are ``initial``
    until they pass the load balancer's health checks (ELB user guide, target health
    states). Polls with backoff, bounded by TIMEOUT; returns the group.
    """
    desired, _, _, group = waiting.until(
        lambda: _serving(lab), lambda s: s[0] == s[1] == s[2] and len(s[3]["Instances"]) == s[0],
        f"{names(lab).group} to run its instances behind healthy targets", timeout)
    return group


def activities(lab, since=None) -> list[dict]:
    """The group's scaling activities (newest first), optionally only those started after SINCE."""
    found = lab.client("autoscaling").describe_scaling_activities(
        AutoScalingGroupName=names(lab).group)["Activities"]
    return [a for a in found if since is None or a["StartTime"] >= since]


def scale_by_hand(lab, capacity: int, timeout: float = 900) -> list[dict]:
    """What a learner does on a real account instead of simulated time: set the desired
    capacity, and watch AWS's scaling activities complete and the targets turn healthy.

    Returns the activities this change started, as (description, status) rows.
    """
    from datetime import datetime, timezone

    group = describe_group(lab)
    if group is None:
        raise RuntimeError(f"{names(lab).group} does not exist: create it first")
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    lab.client("autoscaling").set_desired_capacity(
        AutoScalingGroupName=names(lab).group, DesiredCapacity=capacity, HonorCooldown=False)
    started = waiting.until(lambda: activities(lab, since),
                            lambda rows: rows and all(a["StatusCode"] in ("Successful", "Failed", "Cancelled")
                                                      for a in rows),
                            f"the scaling activities of {names(lab).group}", timeout)
    wait_until_serving(lab, timeout)
    return [{"activity": a["Description"], "status": a["StatusCode"]} for a in started]


# --- simulated load ----------------------------------------------------------------

def demand_curve(minutes: int = 60) -> list[float]:
    """A deterministic load, in percent of one instance's CPU, minute by minute.

    Quiet (60%, i.e. two instances at 30% each), a ramp to a peak worth six
    instances at the 50% target, a plateau, then quiet for long enough (the
    scale-in alarm wants 15 calm minutes) to scale back in.
    """
    curve = []
    for minute in range(minutes):
        if minute < 5:
            curve.append(60.0)
        elif minute < 15:
            curve.append(60.0 + (minute - 4) * 24.0)
        elif minute < 30:
            curve.append(300.0)
        else:
            curve.append(60.0)
    return curve


SIMULATION_UNAVAILABLE = (
    "Simulated time needs the emulator: it moves CloudWatch's clock forward minute by minute. "
    "On real AWS, alarms are evaluated in real time (generate load on the instances, for "
    "example with `stress`, and watch for 20 minutes). The next cell scales the group by hand "
    "instead and watches AWS do it.")


def can_simulate(lab) -> bool:
    """True when :func:`simulate_load` can run: the lab uses an emulator, in this kernel or
    attached (its control endpoint evaluates alarms in simulated time)."""
    return lab.target == "emulator" and bool(getattr(lab.emulator, "url", None))


def _require_simulation(lab):
    """Fail clearly unless the lab runs on an emulator (simulated time lives there)."""
    if not can_simulate(lab):
        raise RuntimeError(SIMULATION_UNAVAILABLE)


def _latest_datapoint(lab, group: str, around: datetime) -> datetime | None:
    """The newest CPU data point already published for the group (earlier simulations)."""
    stats = lab.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/EC2", MetricName="CPUUtilization",
        Dimensions=[{"Name": "AutoScalingGroupName", "Value": group}],
        StartTime=around - timedelta(days=14), EndTime=around + timedelta(days=14),
        Period=60, Statistics=["SampleCount"])["Datapoints"]
    return max((p["Timestamp"] for p in stats), default=None)


def simulation_start(lab) -> datetime:
    """Where a new simulated timeline starts: now, or after an earlier run's data.

    The gap of an hour keeps earlier data points out of every alarm's window and
    lets the group's cooldown expire, so each run starts from the same state.
    """
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    latest = _latest_datapoint(lab, names(lab).group, now)
    if latest is None:
        return now
    return max(now, latest.astimezone(timezone.utc).replace(second=0, microsecond=0) + timedelta(hours=1))


def simulate_load(lab, demand: list[float], start: datetime | None = None) -> list[dict]:
    """Replay ``demand`` (percent of one instance, per minute) on a simulated clock.

    Each simulated minute: average CPU = demand / instances in service (capped at
    100), published to CloudWatch with that minute's timestamp; every alarm is
    evaluated at that minute (the target-tracking alarms then scale the group);
    the group's capacity is read back. The group starts from DESIRED instances.
    Returns one row per minute: minute, demand, cpu, desired, in_service, alarms in ALARM.
    """
    from labkit.emulator import evaluate_alarms

    _require_simulation(lab)
    n, cw, scaling = names(lab), lab.client("cloudwatch"), lab.client("autoscaling")
    scaling.set_desired_capacity(AutoScalingGroupName=n.group, DesiredCapacity=DESIRED)
    start = start or simulation_start(lab)
    rows, group = [], describe_group(lab)
    for minute, load in enumerate(demand):
        now = start + timedelta(minutes=minute)
        in_service = max(1, len(_in_service(group)))
        cpu = min(100.0, load / in_service)
        cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{
            "MetricName": "CPUUtilization", "Value": cpu, "Unit": "Percent", "Timestamp": now,
            "Dimensions": [{"Name": "AutoScalingGroupName", "Value": n.group}]}])
        transitions = evaluate_alarms(lab.emulator, now, account_id=lab.account_id,
                                      region=lab.region)
        group = describe_group(lab)
        rows.append({"minute": minute, "demand": load, "cpu": round(cpu, 1),
                     "desired": group["DesiredCapacity"], "in_service": len(_in_service(group)),
                     "alarms": sorted(t.alarm_name.split("-")[-6] for t in transitions
                                      if t.new_state == "ALARM")})
    return rows


def _in_service(group: dict) -> list[dict]:
    return [i for i in group["Instances"] if i["LifecycleState"] == "InService"]


def plot(rows: list[dict], title: str = "Load and capacity"):
    """Average CPU (left axis) and instances in service (right axis) per simulated minute."""
    import matplotlib.pyplot as plt

    minutes = [r["minute"] for r in rows]
    fig, cpu_axis = plt.subplots(figsize=(9, 4))
    cpu_axis.plot(minutes, [r["cpu"] for r in rows], color="tab:red", label="average CPU %")
    cpu_axis.axhline(TARGET_CPU, color="tab:red", linestyle=":", label=f"target {TARGET_CPU:.0f}%")
    cpu_axis.set_xlabel("simulated minute")
    cpu_axis.set_ylabel("average CPU %")
    cpu_axis.set_ylim(0, 105)
    capacity_axis = cpu_axis.twinx()
    capacity_axis.step(minutes, [r["in_service"] for r in rows], where="post", color="tab:blue",
                       label="instances in service")
    capacity_axis.set_ylabel("instances")
    capacity_axis.set_ylim(0, MAX_SIZE + 1)
    handles = cpu_axis.get_legend_handles_labels()[0] + capacity_axis.get_legend_handles_labels()[0]
    cpu_axis.legend(handles, [h.get_label() for h in handles], loc="upper right")
    cpu_axis.set_title(title)
    fig.tight_layout()
    return fig


# --- teardown ----------------------------------------------------------------------

def leftovers(lab) -> list[str]:
    """What lesson 05 left for NAME (empty after teardown)."""
    n, found = names(lab), []
    if describe_group(lab) is not None:
        found.append(f"Auto Scaling group {n.group}")
    if find_load_balancer(lab):
        found.append(f"load balancer {n.load_balancer}")
    if find_target_group(lab):
        found.append(f"target group {n.target_group}")
    if find_launch_template(lab):
        found.append(f"launch template {n.launch_template}")
    vpc_id = find_vpc(lab)
    if vpc_id:
        found.append(f"VPC {n.vpc} ({vpc_id}) with {len(find_subnets(lab, vpc_id))} subnet(s)")
    return found


def teardown(lab) -> list[str]:
    """Remove lesson 05's resources for NAME, dependants first; return what could not go.

    Order matters: the group (and its instances, policies and alarms), the load
    balancer and target group, the launch template, then the network. Lesson 06's
    SageMaker domain also uses NAME-vpc: tear it down before this.
    """
    return cleanup.run_steps(
        lab, (_delete_group, _delete_load_balancer, _delete_launch_template, _delete_network))


def _delete_group(lab) -> None:
    if describe_group(lab) is None:
        return
    scaling = lab.client("autoscaling")
    scaling.delete_auto_scaling_group(AutoScalingGroupName=names(lab).group, ForceDelete=True)
    # On AWS deleting a group takes minutes (its instances terminate first).
    waiting.until(lambda: describe_group(lab) is None, bool, "the Auto Scaling group to be deleted")


def _delete_load_balancer(lab) -> None:
    elb = lab.client("elbv2")
    lb_arn = find_load_balancer(lab)
    if lb_arn:
        elb.delete_load_balancer(LoadBalancerArn=lb_arn)
        elb.get_waiter("load_balancers_deleted").wait(LoadBalancerArns=[lb_arn], WaiterConfig=WAIT)
    tg_arn = find_target_group(lab)
    if tg_arn:
        elb.delete_target_group(TargetGroupArn=tg_arn)


def find_launch_template(lab) -> str | None:
    """The id of launch template NAME-web-template, or None."""
    found = lab.client("ec2").describe_launch_templates(
        Filters=[{"Name": "launch-template-name", "Values": [names(lab).launch_template]}])
    return found["LaunchTemplates"][0]["LaunchTemplateId"] if found["LaunchTemplates"] else None


def _delete_launch_template(lab) -> None:
    # Look first: moto answers a missing name with MissingParameter, AWS with NotFound.
    template_id = find_launch_template(lab)
    if template_id:
        lab.client("ec2").delete_launch_template(LaunchTemplateId=template_id)


def _delete_network(lab) -> None:
    ec2 = lab.client("ec2")
    vpc_id = find_vpc(lab)
    if vpc_id is None:
        return
    _terminate_instances(lab, vpc_id)
    for group in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]:
        if group["GroupName"] != "default":
            ec2.delete_security_group(GroupId=group["GroupId"])
    for subnet in find_subnets(lab, vpc_id):
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    ec2.delete_vpc(VpcId=vpc_id)


def _terminate_instances(lab, vpc_id: str) -> None:
    """Instances still in the VPC (the group's, if ForceDelete left any) block its deletion."""
    ec2 = lab.client("ec2")
    reservations = ec2.describe_instances(Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])
    ids = [i["InstanceId"] for r in reservations["Reservations"] for i in r["Instances"]]
    if ids:
        ec2.terminate_instances(InstanceIds=ids)
        ec2.get_waiter("instance_terminated").wait(InstanceIds=ids, WaiterConfig=WAIT)
