"""Checks for lesson 01: users, groups and access keys."""
from __future__ import annotations

from labkit.checks import Fail, check
from labkit.topics import waiting
from labkit.topics.users_and_groups import ADMIN_POLICY_ARN


def _existing_users(iam) -> set[str]:
    pages = iam.get_paginator("list_users").paginate()
    return {u["UserName"] for page in pages for u in page["Users"]}


@check("01.users", points=2,
       hint='one IAM user per role: lab.names.users lists their names',
       docs='IAM User Guide › Create an IAM user in your AWS account; IAM API Reference › CreateUser',
       reference='iam.create_user(UserName=user) for each user in lab.names.users')
def users(lab):
    """The three users exist."""
    missing = [u for u in lab.names.users if u not in _existing_users(lab.client("iam"))]
    if missing:
        raise Fail(f"missing IAM user(s): {', '.join(missing)}")
    return f"users {', '.join(lab.names.users)} exist"


@check("01.groups", points=2,
       hint="each user belongs to its role's group (lab.names.admins_group, ...), and only there",
       docs='IAM User Guide › IAM user groups; IAM API Reference › CreateGroup, AddUserToGroup',
       reference='iam.create_group(GroupName=...) then iam.add_user_to_group(GroupName=..., UserName=...)')
def groups(lab):
    """Each user is in its group, and only there."""
    iam, n = lab.client("iam"), lab.names
    expected = {n.admins_group: {n.admin_user}, n.engineers_group: {n.engineer_user},
                n.analysts_group: {n.analyst_user}}
    for group, members in expected.items():
        try:
            actual = {u["UserName"] for u in iam.get_group(GroupName=group)["Users"]}
        except iam.exceptions.NoSuchEntityException:
            raise Fail(f"group {group} does not exist") from None
        if actual != members:
            raise Fail(f"group {group} has members {sorted(actual)}, expected {sorted(members)}")
    return "admins, engineers and analysts each hold their one user"


@check("01.admin-policy", points=1,
       hint='the admins group needs the AWS managed policy for administrators attached',
       docs='IAM User Guide › AWS managed policies for job functions › Administrator; IAM API Reference › AttachGroupPolicy',
       reference='iam.attach_group_policy(GroupName=lab.names.admins_group, PolicyArn=labkit.topics.users_and_groups.ADMIN_POLICY_ARN)')
def admin_policy(lab):
    """The admins group carries AWS's AdministratorAccess managed policy."""
    iam = lab.client("iam")
    attached = iam.list_attached_group_policies(GroupName=lab.names.admins_group)
    arns = {p["PolicyArn"] for p in attached["AttachedPolicies"]}
    if ADMIN_POLICY_ARN not in arns:
        raise Fail(f"{lab.names.admins_group} does not have AdministratorAccess attached")
    return "admins have AdministratorAccess"


@check("01.access-keys", points=3,
       hint='each user needs an active access key, kept as a lab-local profile named after the user',
       docs='IAM User Guide › Manage access keys for IAM users; IAM API Reference › CreateAccessKey',
       reference='create_access_key(UserName=user), then lab.save_profile(user, key_id, secret)')
def access_keys(lab):
    """Each user has a lab-local profile whose key signs in as that user."""
    for user in lab.names.users:
        if user not in lab.files.profiles():
            raise Fail(f"no lab-local profile named {user}")
        arn = waiting.key_works(lab, user)  # a new key takes seconds to work on AWS
        if not arn.endswith(f":user/{user}"):
            raise Fail(f"profile {user} signs in as {arn}, not as user {user}")
    return "each user's profile signs in as that user"

