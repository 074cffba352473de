"""Checks for lesson 05: network, launch template, load balancer, Auto Scaling group, policy."""
from __future__ import annotations

from labkit.topics import scaling as ec2
from labkit.checks import Fail, check


def _network(lab) -> dict:
    vpc_id = ec2.find_vpc(lab)
    if vpc_id is None:
        raise Fail(f"no VPC tagged Name={ec2.names(lab).vpc}")
    return {"vpc": vpc_id, "subnets": ec2.find_subnets(lab, vpc_id)}


def _group(lab) -> dict:
    group = ec2.describe_group(lab)
    if group is None:
        raise Fail(f"no Auto Scaling group named {ec2.names(lab).group}")
    return group


@check("05.network", points=2,
       hint='one subnet per availability zone, two zones, in your VPC',
       docs='Amazon VPC User Guide › Subnets for your VPC; Amazon EC2 API Reference › CreateSubnet',
       reference='labkit.topics.scaling.two_zones(lab) gives the zones; one ec2.create_subnet(...) per zone in your VPC')
def network(lab):
    """NAME-vpc has a subnet in each of the region's first two Availability Zones."""
    net = _network(lab)
    zones = {s["AvailabilityZone"] for s in net["subnets"]}
    wanted = set(ec2.two_zones(lab))
    if not wanted <= zones:
        raise Fail(f"{ec2.names(lab).vpc} has subnets in {sorted(zones) or 'no zone'}, "
                   f"it needs one in each of {sorted(wanted)}")
    return f"{ec2.names(lab).vpc} spans {', '.join(sorted(wanted))}"


@check("05.launch-template", points=2,
       hint="ec2.create_launch_template(LaunchTemplateName=..., LaunchTemplateData={'ImageId': ..., "
            "'InstanceType': 't3.micro', 'SecurityGroupIds': [...]})",
       docs='Amazon EC2 Auto Scaling User Guide › Create a launch template for an Auto Scaling group')
def launch_template(lab):
    """The launch template names an AMI, an instance type and the web security group."""
    name = ec2.names(lab).launch_template
    versions = lab.client("ec2").describe_launch_template_versions(
        LaunchTemplateName=name, Versions=["$Latest"])["LaunchTemplateVersions"]
    data = versions[0]["LaunchTemplateData"] if versions else {}
    missing = [k for k in ("ImageId", "InstanceType", "SecurityGroupIds") if not data.get(k)]
    if missing:
        raise Fail(f"launch template {name}'s latest version has no {', '.join(missing)}")
    return f"{name}: {data['InstanceType']} from {data['ImageId']}"


@check("05.load-balancer", points=3,
       hint="elbv2.create_load_balancer(Type='application', Scheme='internet-facing', Subnets=both "
            "subnets), a target group, and create_listener(... DefaultActions=[forward to it])",
       docs='Elastic Load Balancing › Application Load Balancers › Create an Application Load Balancer; Listeners for your Application Load Balancers')
def load_balancer(lab):
    """An internet-facing ALB in both zones forwards HTTP:80 to the target group."""
    elb, n = lab.client("elbv2"), ec2.names(lab)
    lb_arn, tg_arn = ec2.find_load_balancer(lab), ec2.find_target_group(lab)
    if not lb_arn or not tg_arn:
        raise Fail(f"need load balancer {n.load_balancer} and target group {n.target_group}")
    lb = elb.describe_load_balancers(LoadBalancerArns=[lb_arn])["LoadBalancers"][0]
    if (lb["Type"], lb["Scheme"]) != ("application", "internet-facing"):
        raise Fail(f"{n.load_balancer} is {lb['Scheme']} {lb['Type']}, not internet-facing application")
    zones = {z["ZoneName"] for z in lb["AvailabilityZones"]}
    if len(zones) < 2:
        raise Fail(f"{n.load_balancer} is in {sorted(zones)} only: give it both subnets")
    listeners = elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]
    forwards = [l for l in listeners if l["Port"] == 80 and any(
        a.get("TargetGroupArn") == tg_arn for a in l["DefaultActions"])]
    if not forwards:
        raise Fail(f"no listener on port 80 of {n.load_balancer} forwards to {n.target_group}")
    return f"{n.load_balancer} ({lb['DNSName']}) forwards port 80 to {n.target_group}"


@check("05.auto-scaling-group", points=3,
       hint="create_auto_scaling_group(..., MinSize=2, MaxSize=6, VPCZoneIdentifier='subnet-a,subnet-b', "
            "TargetGroupARNs=[target group])",
       docs='Amazon EC2 Auto Scaling User Guide › Create an Auto Scaling group using a launch template; Attach a load balancer to your Auto Scaling group')
def auto_scaling_group(lab):
    """The group uses the template, spans both zones evenly, and its instances are the targets."""
    group, n = _group(lab), ec2.names(lab)
    template = (group.get("LaunchTemplate") or {}).get("LaunchTemplateName")
    if template != n.launch_template:
        raise Fail(f"{n.group} launches from {template or 'no launch template'}, not {n.launch_template}")
    if group["MinSize"] < 2:
        raise Fail(f"{n.group} has MinSize {group['MinSize']}: one instance per zone needs at least 2")
    counts = ec2.zone_counts(group)
    zones = ec2.two_zones(lab)
    if set(counts) != set(zones) or max(counts.values()) - min(counts.values()) > 1:
        raise Fail(f"{n.group}'s instances per zone are {counts}: they should be spread over {zones}")
    tg_arn = ec2.find_target_group(lab)
    if tg_arn not in group.get("TargetGroupARNs", []):
        raise Fail(f"{n.group} is not attached to target group {n.target_group}")
    ids = {i["InstanceId"] for i in group["Instances"]}
    registered = ec2.registered_targets(lab, tg_arn)
    if ids != registered:
        raise Fail(f"the target group holds {sorted(registered)}, the group runs {sorted(ids)}")
    return f"{n.group}: {len(ids)} instances, per zone {counts}, all registered with {n.target_group}"


@check("05.scaling-policy", points=2,
       hint="put_scaling_policy(PolicyType='TargetTrackingScaling', TargetTrackingConfiguration={"
            "'TargetValue': 50.0, 'PredefinedMetricSpecification': {'PredefinedMetricType': "
            "'ASGAverageCPUUtilization'}})",
       docs='Amazon EC2 Auto Scaling User Guide › Target tracking scaling policies')
def scaling_policy(lab):
    """A target-tracking policy on average CPU, with the CloudWatch alarms it creates."""
    n = ec2.names(lab)
    policies = lab.client("autoscaling").describe_policies(
        AutoScalingGroupName=n.group)["ScalingPolicies"]
    tracking = [p for p in policies if p["PolicyType"] == "TargetTrackingScaling"]
    if not tracking:
        raise Fail(f"{n.group} has no target-tracking scaling policy")
    policy = tracking[0]
    metric = policy["TargetTrackingConfiguration"].get("PredefinedMetricSpecification", {})
    if metric.get("PredefinedMetricType") != "ASGAverageCPUUtilization":
        raise Fail(f"policy {policy['PolicyName']} tracks {metric or 'a custom metric'}, "
                   "not ASGAverageCPUUtilization")
    alarms = [a["AlarmName"] for a in policy.get("Alarms", [])]
    found = lab.client("cloudwatch").describe_alarms(AlarmNames=alarms)["MetricAlarms"] if alarms else []
    if len(found) < 2:
        raise Fail(f"policy {policy['PolicyName']} should own a high and a low CloudWatch alarm; "
                   f"found {[a['AlarmName'] for a in found]}")
    target = policy["TargetTrackingConfiguration"]["TargetValue"]
    return f"{policy['PolicyName']} keeps CPU near {target:.0f}% with {len(found)} alarms"
