"""EC2 tags in authorization, request by request through the emulator.

AWS documentation cited:
- "Grant permission to tag Amazon EC2 resources during creation", EC2 User Guide
  (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html):
  tags in TagSpecifications are aws:RequestTag / aws:TagKeys of RunInstances, and need
  ec2:CreateTags too, where ec2:CreateAction names the creating action.
- Service Authorization Reference, Amazon EC2: StopInstances acts on the instance resource,
  which supports aws:ResourceTag/${TagKey} and ec2:ResourceTag/${TagKey}; CreateTags supports
  aws:RequestTag and aws:TagKeys.
"""
from __future__ import annotations


import pytest
from botocore.exceptions import ClientError
from tests.emulator.support import user_keys

_counter = iter(range(1, 10_000))
AMI = "ami-12c6146b"


def ec2_user(em, *statements):
    return em.client("ec2", *user_keys(em, f"ec2-tagger-{next(_counter)}", *statements))


def denied(call):
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]


def tag_spec(**tags):
    return [{"ResourceType": "instance",
             "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


def test_run_instances_request_tag_and_create_tags(em):
    launch = {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"}
    tagged_only = {"Effect": "Allow", "Action": "ec2:RunInstances",
                   "Resource": "arn:aws:ec2:*:*:instance/*",
                   "Condition": {"StringEquals": {"aws:RequestTag/project": "lake"}}}
    others = {"Effect": "Allow", "Action": "ec2:RunInstances",
              "NotResource": "arn:aws:ec2:*:*:instance/*"}
    create_tags = {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
                   "Condition": {"StringEquals": {"ec2:CreateAction": "RunInstances"}}}
    ec2 = ec2_user(em, tagged_only, others, create_tags)
    ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, TagSpecifications=tag_spec(project="lake"))
    err = denied(lambda: ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                           TagSpecifications=tag_spec(project="other")))
    assert err["Code"] == "UnauthorizedOperation"
    assert denied(lambda: ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1))["Code"] == \
        "UnauthorizedOperation"
    # Tags at launch also need ec2:CreateTags.
    no_tagging = ec2_user(em, launch)
    no_tagging.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)
    err = denied(lambda: no_tagging.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                                  TagSpecifications=tag_spec(project="lake")))
    assert "ec2:CreateTags" in err["Message"]


def test_stop_instances_by_resource_tag(em):
    root = em.client("ec2")
    mine = root.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                              TagSpecifications=tag_spec(owner="team-a"))["Instances"][0]
    theirs = root.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                TagSpecifications=tag_spec(owner="team-b"))["Instances"][0]
    ec2 = ec2_user(em, {"Effect": "Allow", "Action": "ec2:StopInstances", "Resource": "*",
                        "Condition": {"StringEquals": {"aws:ResourceTag/owner": "team-a"}}})
    ec2.stop_instances(InstanceIds=[mine["InstanceId"]])
    err = denied(lambda: ec2.stop_instances(InstanceIds=[theirs["InstanceId"]]))
    assert err["Code"] == "UnauthorizedOperation"
    assert f"instance/{theirs['InstanceId']}" in err["Message"]


def test_create_tags_tag_keys(em):
    root = em.client("ec2")
    inst = root.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2 = ec2_user(em, {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
                        "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["project"]}}})
    ec2.create_tags(Resources=[inst], Tags=[{"Key": "project", "Value": "lake"}])
    assert denied(lambda: ec2.create_tags(Resources=[inst], Tags=[
        {"Key": "owner", "Value": "x"}]))["Code"] == "UnauthorizedOperation"
