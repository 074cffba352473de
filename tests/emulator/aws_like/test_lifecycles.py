"""aws-like mode: asynchronous resources go through AWS's states.

Cited per test: the states are the ones the AWS API references list, and the
boto3 waiters (which poll for exactly them) must work against the emulator.
"""
import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from labkit import config
from tests.emulator.aws_like.support import until

REGION = config.region()
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"Service": ["sagemaker.amazonaws.com", "lambda.amazonaws.com",
                                   "eks.amazonaws.com"]}}]}
FAST = {"Delay": 1, "MaxAttempts": 30}


@pytest.fixture(scope="module")
def network(aws_like_em):
    ec2 = aws_like_em.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=z)
               ["Subnet"]["SubnetId"] for i, z in enumerate(zones)]
    role = aws_like_em.client("iam").create_role(
        RoleName="aws-like-service", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    return {"vpc": vpc, "subnets": subnets, "role": role, "ami": ami}


def test_ec2_instance_pending_running_shutting_down_terminated(aws_like_em, network):
    """EC2 user guide, "Amazon EC2 instance state changes"."""
    ec2 = aws_like_em.client("ec2")
    instance = ec2.run_instances(ImageId=network["ami"], MinCount=1, MaxCount=1,
                                 SubnetId=network["subnets"][0])["Instances"][0]
    assert instance["State"] == {"Code": 0, "Name": "pending"}

    def state():
        reservations = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"]
        return reservations[0]["Instances"][0]["State"]["Name"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance["InstanceId"]], WaiterConfig=FAST)
    assert state() == "running"
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    assert state() == "shutting-down"
    _, seen = until(state, "terminated")
    assert seen == ["shutting-down", "terminated"]


def test_target_health_initial_then_healthy(aws_like_em, network):
    """ELB user guide, "Health checks for Application Load Balancer target groups": a new
    target is initial (Elb.RegistrationInProgress) until it passes its checks."""
    ec2, elb = aws_like_em.client("ec2"), aws_like_em.client("elbv2")
    instance = ec2.run_instances(ImageId=network["ami"], MinCount=1, MaxCount=1,
                                 SubnetId=network["subnets"][0])["Instances"][0]["InstanceId"]
    group = elb.create_target_group(Name="aws-like-tg", Protocol="HTTP", Port=80,
                                    VpcId=network["vpc"])["TargetGroups"][0]["TargetGroupArn"]
    with pytest.raises(ClientError) as early:  # AWS: only running instances can be registered
        elb.register_targets(TargetGroupArn=group, Targets=[{"Id": instance}])
    assert "running" in str(early.value)
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance], WaiterConfig=FAST)
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": instance}])

    def health():
        return elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"][0]["TargetHealth"]
    first = health()
    assert first["State"] == "initial" and first["Reason"] == "Elb.RegistrationInProgress"
    elb.get_waiter("target_in_service").wait(TargetGroupArn=group, Targets=[{"Id": instance}],
                                             WaiterConfig=FAST)
    assert health()["State"] == "healthy"


def test_auto_scaling_activities_in_progress_then_successful(aws_like_em, network):
    """Auto Scaling API reference, DescribeScalingActivities; user guide, "Verify a scaling
    activity for an Auto Scaling group"."""
    ec2, asg = aws_like_em.client("ec2"), aws_like_em.client("autoscaling")
    ec2.create_launch_template(LaunchTemplateName="aws-like-lt",
                               LaunchTemplateData={"ImageId": network["ami"], "InstanceType": "t3.micro"})
    asg.create_auto_scaling_group(AutoScalingGroupName="aws-like-asg", MinSize=0, MaxSize=3,
                                  DesiredCapacity=2, LaunchTemplate={"LaunchTemplateName": "aws-like-lt"},
                                  VPCZoneIdentifier=",".join(network["subnets"]))

    def activities():
        return asg.describe_scaling_activities(AutoScalingGroupName="aws-like-asg")["Activities"]
    started = activities()
    assert len(started) == 2
    assert all(a["StatusCode"] == "InProgress" and a["Description"].startswith(
        "Launching a new EC2 instance: i-") for a in started)
    until(lambda: [a["StatusCode"] for a in activities()], ["Successful", "Successful"])
    assert all("EndTime" in a and a["Progress"] == 100 for a in activities())
    asg.set_desired_capacity(AutoScalingGroupName="aws-like-asg", DesiredCapacity=1)
    newest = activities()[0]
    assert newest["Description"].startswith("Terminating EC2 instance: i-")
    assert newest["StatusCode"] == "InProgress"
    assert "changing the desired capacity from 2 to 1" in newest["Cause"]


def test_eks_cluster_creating_active_deleting(aws_like_em, network):
    """EKS API reference, Cluster status; boto3 waiters cluster_active / cluster_deleted."""
    eks = aws_like_em.client("eks")
    eks.create_cluster(name="aws-like-eks", roleArn=network["role"],
                       resourcesVpcConfig={"subnetIds": network["subnets"]})
    assert eks.describe_cluster(name="aws-like-eks")["cluster"]["status"] == "CREATING"
    eks.get_waiter("cluster_active").wait(name="aws-like-eks", WaiterConfig=FAST)
    eks.delete_cluster(name="aws-like-eks")
    assert eks.describe_cluster(name="aws-like-eks")["cluster"]["status"] == "DELETING"
    eks.get_waiter("cluster_deleted").wait(name="aws-like-eks", WaiterConfig=FAST)
    with pytest.raises(ClientError):
        eks.describe_cluster(name="aws-like-eks")


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 'ok'\n")
    return buffer.getvalue()


def test_lambda_function_pending_then_active(aws_like_em, network):
    """Lambda developer guide, "Lambda function states": Pending until Active, and
    invocations meanwhile fail (ResourceConflictException)."""
    lam = aws_like_em.client("lambda")
    made = lam.create_function(FunctionName="aws-like-fn", Runtime="python3.12", Role=network["role"],
                               Handler="index.handler", Code={"ZipFile": _zip()})
    assert made["State"] == "Pending" and made["StateReasonCode"] == "Creating"
    with pytest.raises(ClientError) as early:
        lam.invoke(FunctionName="aws-like-fn")
    assert early.value.response["Error"]["Code"] == "ResourceConflictException"
    lam.get_waiter("function_active_v2").wait(FunctionName="aws-like-fn", WaiterConfig=FAST)
    assert lam.get_function(FunctionName="aws-like-fn")["Configuration"]["State"] == "Active"


def test_sagemaker_domain_profile_space_app_states(aws_like_em, network):
    """SageMaker API reference: DescribeDomain/UserProfile/Space/App Status
    (Pending -> InService; Deleting; an app ends Deleted)."""
    sm = aws_like_em.client("sagemaker")
    domain = sm.create_domain(DomainName="aws-like", AuthMode="IAM", VpcId=network["vpc"],
                              SubnetIds=network["subnets"],
                              DefaultUserSettings={"ExecutionRole": network["role"]})["DomainId"]

    def status(call, **ids):
        try:
            return call(**ids)["Status"]
        except ClientError as exc:
            return exc.response["Error"]["Code"]
    assert status(sm.describe_domain, DomainId=domain) == "Pending"
    until(lambda: status(sm.describe_domain, DomainId=domain), "InService")
    sm.create_user_profile(DomainId=domain, UserProfileName="ada")
    profile = dict(DomainId=domain, UserProfileName="ada")
    assert status(sm.describe_user_profile, **profile) == "Pending"
    until(lambda: status(sm.describe_user_profile, **profile), "InService")
    sm.create_space(DomainId=domain, SpaceName="ada-space", OwnershipSettings={"OwnerUserProfileName": "ada"},
                    SpaceSharingSettings={"SharingType": "Private"},
                    SpaceSettings={"AppType": "JupyterLab"})
    space = dict(DomainId=domain, SpaceName="ada-space")
    assert status(sm.describe_space, **space) == "Pending"
    until(lambda: status(sm.describe_space, **space), "InService")
    app = dict(DomainId=domain, SpaceName="ada-space", AppType="JupyterLab", AppName="default")
    sm.create_app(**app)
    assert status(sm.describe_app, **app) == "Pending"
    until(lambda: status(sm.describe_app, **app), "InService")
    sm.delete_app(**app)
    _, seen = until(lambda: status(sm.describe_app, **app), "Deleted")
    assert seen == ["Deleting", "Deleted"]
    sm.delete_space(**space)
    _, seen = until(lambda: status(sm.describe_space, **space), "ResourceNotFound")
    assert seen == ["Deleting", "ResourceNotFound"]
    sm.delete_user_profile(**profile)
    with pytest.raises(ClientError) as busy:  # a Deleting profile still holds the domain
        sm.delete_domain(DomainId=domain)
    assert busy.value.response["Error"]["Code"] == "ResourceInUse"
    until(lambda: status(sm.describe_user_profile, **profile), "ResourceNotFound")
    sm.delete_domain(DomainId=domain)
    _, seen = until(lambda: status(sm.describe_domain, DomainId=domain), "ResourceNotFound")
    assert seen == ["Deleting", "ResourceNotFound"]


def test_a_group_registers_its_instances_once_they_run(aws_like_em, network):
    """Auto Scaling user guide, "Use Elastic Load Balancing to distribute incoming traffic":
    the group registers its instances with the attached target group; health starts initial."""
    ec2, elb, asg = (aws_like_em.client(s) for s in ("ec2", "elbv2", "autoscaling"))
    ec2.create_launch_template(LaunchTemplateName="aws-like-lt2",
                               LaunchTemplateData={"ImageId": network["ami"], "InstanceType": "t3.micro"})
    group = elb.create_target_group(Name="aws-like-asg-tg", Protocol="HTTP", Port=80,
                                    VpcId=network["vpc"])["TargetGroups"][0]["TargetGroupArn"]
    asg.create_auto_scaling_group(AutoScalingGroupName="aws-like-asg2", MinSize=1, MaxSize=2,
                                  DesiredCapacity=1, LaunchTemplate={"LaunchTemplateName": "aws-like-lt2"},
                                  VPCZoneIdentifier=network["subnets"][0], TargetGroupARNs=[group])

    def states():
        return [t["TargetHealth"]["State"] for t in
                elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]]

    def lifecycle():
        found = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["aws-like-asg2"])
        return [i["LifecycleState"] for i in found["AutoScalingGroups"][0]["Instances"]]
    assert states() == [] and lifecycle() == ["Pending"]  # still pending
    _, seen = until(states, ["healthy"])
    assert seen == [[], ["initial"], ["healthy"]]
    assert lifecycle() == ["InService"]


def test_pending_instances_count_towards_capacity(aws_like_em, network):
    """A capacity update while instances are Pending launches none twice (AWS counts them)."""
    ec2, asg = aws_like_em.client("ec2"), aws_like_em.client("autoscaling")
    ec2.create_launch_template(LaunchTemplateName="aws-like-lt3",
                               LaunchTemplateData={"ImageId": network["ami"], "InstanceType": "t3.micro"})
    asg.create_auto_scaling_group(AutoScalingGroupName="aws-like-asg3", MinSize=1, MaxSize=4,
                                  DesiredCapacity=2, LaunchTemplate={"LaunchTemplateName": "aws-like-lt3"},
                                  VPCZoneIdentifier=network["subnets"][0])
    asg.update_auto_scaling_group(AutoScalingGroupName="aws-like-asg3", MaxSize=3)
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["aws-like-asg3"])["AutoScalingGroups"][0]
    assert [i["LifecycleState"] for i in group["Instances"]] == ["Pending", "Pending"]
