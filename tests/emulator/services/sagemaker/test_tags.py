"""SageMaker tags in authorization, request by request through the emulator.

AWS documentation cited: Service Authorization Reference, Amazon SageMaker AI
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html):
CreateDomain, CreateUserProfile and AddTags support aws:RequestTag/${TagKey} and aws:TagKeys;
the domain and user-profile resource types support aws:ResourceTag/${TagKey}.
"""
from __future__ import annotations


import pytest
from botocore.exceptions import ClientError

from labkit.config import EMULATOR_ACCOUNT_ID
from tests.emulator.support import user_keys

ROLE = f"arn:aws:iam::{EMULATOR_ACCOUNT_ID}:role/sm-tags-execution"
_counter = iter(range(1, 10_000))


def sm_user(em, *statements):
    return em.client("sagemaker", *user_keys(em, f"sm-tagger-{next(_counter)}", *statements))


def code(call):
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"]


def domain_args(name, **tags):
    return dict(DomainName=name, AuthMode="IAM", DefaultUserSettings={"ExecutionRole": ROLE},
                SubnetIds=["subnet-0123456789abcdef0"], VpcId="vpc-0123456789abcdef0",
                Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


def test_create_domain_request_tag(em):
    sm = sm_user(em, {"Effect": "Allow", "Action": "sagemaker:CreateDomain", "Resource": "*",
                      "Condition": {"StringEquals": {"aws:RequestTag/project": "lake"}}},
                 {"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE})
    sm.create_domain(**domain_args("tagged-domain", project="lake"))
    assert code(lambda: sm.create_domain(**domain_args("other-domain", project="x"))) == \
        "AccessDeniedException"


def test_describe_domain_and_add_tags_by_resource_tag(em):
    root = em.client("sagemaker")
    lake = root.create_domain(**domain_args("lake-domain", project="lake"))["DomainArn"]
    other = root.create_domain(**domain_args("hr-domain", project="hr"))["DomainArn"]
    sm = sm_user(em, {"Effect": "Allow", "Action": ["sagemaker:DescribeDomain",
                                                     "sagemaker:AddTags"], "Resource": "*",
                      "Condition": {"StringEquals": {"aws:ResourceTag/project": "lake"}}})
    sm.describe_domain(DomainId=lake.rsplit("/", 1)[1])
    assert code(lambda: sm.describe_domain(DomainId=other.rsplit("/", 1)[1])) == \
        "AccessDeniedException"
    sm.add_tags(ResourceArn=lake, Tags=[{"Key": "owner", "Value": "me"}])
    assert code(lambda: sm.add_tags(ResourceArn=other, Tags=[{"Key": "owner", "Value": "me"}])) \
        == "AccessDeniedException"
