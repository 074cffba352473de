"""Checks for lesson 06: execution role, domain, user profiles, space."""
from __future__ import annotations

import json
from urllib.parse import unquote

from labkit.topics import sagemaker_domain as lab_sm
from labkit.checks import Fail, check


def _role(lab) -> dict:
    iam = lab.client("iam")
    try:
        return iam.get_role(RoleName=lab.names.sagemaker_role)["Role"]
    except iam.exceptions.NoSuchEntityException:
        raise Fail(f"no IAM role named {lab.names.sagemaker_role}") from None


def _domain(lab) -> dict:
    domain_id = lab_sm.find_domain(lab)
    if domain_id is None:
        raise Fail(f"no SageMaker domain named {lab.names.sagemaker_domain}")
    return lab.client("sagemaker").describe_domain(DomainId=domain_id)


def _trusted_services(document) -> set[str]:
    doc = json.loads(unquote(document)) if isinstance(document, str) else document
    services = set()
    for statement in doc.get("Statement", []):
        if statement.get("Effect") == "Allow" and "sts:AssumeRole" in _as_list(statement.get("Action")):
            services |= set(_as_list((statement.get("Principal") or {}).get("Service")))
    return services


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value] if value else []


@check("06.execution-role", points=2,
       hint='a role SageMaker may assume (its trust policy names sagemaker.amazonaws.com) with the managed SageMaker policy attached',
       docs='Amazon SageMaker AI Developer Guide › How to use SageMaker AI execution roles; IAM User Guide › Create a role to delegate permissions to an AWS service',
       reference='iam.create_role(RoleName=..., AssumeRolePolicyDocument=json.dumps(labkit.topics.sagemaker_domain.trust_policy())), then attach_role_policy(PolicyArn=labkit.topics.sagemaker_domain.MANAGED_POLICY_ARN)')
def execution_role(lab):
    """SageMaker may assume the role, and it carries AmazonSageMakerFullAccess."""
    role = _role(lab)
    services = _trusted_services(role["AssumeRolePolicyDocument"])
    if lab_sm.SERVICE_PRINCIPAL not in services:
        raise Fail(f"{role['RoleName']}'s trust policy lets {sorted(services) or 'no service'} assume it, "
                   f"not {lab_sm.SERVICE_PRINCIPAL}")
    attached = lab.client("iam").list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    if lab_sm.MANAGED_POLICY_ARN not in {p["PolicyArn"] for p in attached}:
        raise Fail(f"{role['RoleName']} lacks {lab_sm.MANAGED_POLICY_ARN}")
    return f"{role['RoleName']}: trusted by SageMaker, AmazonSageMakerFullAccess attached"


@check("06.domain", points=3,
       hint="sagemaker.create_domain(DomainName=..., AuthMode='IAM', DefaultUserSettings={'ExecutionRole': "
            "role_arn}, VpcId=..., SubnetIds=[...])",
       docs='Amazon SageMaker AI Developer Guide › Amazon SageMaker AI domain overview; API Reference › CreateDomain')
def domain(lab):
    """NAME-domain is InService, uses IAM auth and the analysts' execution role."""
    described = _domain(lab)
    if described["AuthMode"] != "IAM":
        raise Fail(f"{described['DomainName']} uses {described['AuthMode']} authentication, not IAM")
    if described["Status"] != "InService":
        raise Fail(f"{described['DomainName']} is {described['Status']}")
    role = described.get("DefaultUserSettings", {}).get("ExecutionRole")
    if role != _role(lab)["Arn"]:
        raise Fail(f"the domain's default execution role is {role}, not {lab.names.sagemaker_role}")
    return f"{described['DomainName']} ({described['DomainId']}) is InService with IAM auth"


@check("06.user-profiles", points=3,
       hint="one sagemaker.create_user_profile(DomainId=..., UserProfileName=user) per analysts group member",
       docs='Amazon SageMaker AI Developer Guide › Domain user profiles; API Reference › CreateUserProfile')
def user_profiles(lab):
    """Every analyst has a user profile of the same name, running as the execution role."""
    described, sm = _domain(lab), lab.client("sagemaker")
    role_arn = _role(lab)["Arn"]
    for user in lab_sm.analysts(lab):
        try:
            profile = sm.describe_user_profile(DomainId=described["DomainId"], UserProfileName=user)
        except sm.exceptions.ResourceNotFound:
            raise Fail(f"analyst {user} has no user profile in {described['DomainName']}") from None
        role = (profile.get("UserSettings") or {}).get("ExecutionRole") or role_arn
        if role != role_arn:
            raise Fail(f"profile {user} runs as {role}, not {lab.names.sagemaker_role}")
    return f"profiles for {', '.join(lab_sm.analysts(lab))}"


@check("06.space", points=2,
       hint="a private space owned by the analyst's user profile, named as the lesson says",
       docs='Amazon SageMaker AI Developer Guide › Amazon SageMaker Studio spaces; API Reference › CreateSpace',
       reference="sagemaker.create_space(DomainId=..., SpaceName=labkit.topics.sagemaker_domain.space_name(lab), OwnershipSettings={'OwnerUserProfileName': analyst}, SpaceSharingSettings={'SharingType': 'Private'})")
def space(lab):
    """A private space owned by an analyst's profile."""
    described, sm, name = _domain(lab), lab.client("sagemaker"), lab_sm.space_name(lab)
    try:
        found = sm.describe_space(DomainId=described["DomainId"], SpaceName=name)
    except sm.exceptions.ResourceNotFound:
        raise Fail(f"no space {name} in {described['DomainName']}") from None
    owner = (found.get("OwnershipSettings") or {}).get("OwnerUserProfileName")
    if owner not in lab_sm.analysts(lab):
        raise Fail(f"space {name} is owned by {owner or 'nobody'}, not by an analyst")
    return f"space {name} belongs to {owner}"
