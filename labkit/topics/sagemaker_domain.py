"""Lesson 06: a SageMaker domain for the analysts.

The lesson's end state, built by :func:`build` (idempotent, boto3 only):

* an execution role ``NAME-sagemaker-analyst-role`` that SageMaker may assume
  (trust policy for ``sagemaker.amazonaws.com``) with AWS's managed policy
  AmazonSageMakerFullAccess attached;
* a domain ``NAME-domain`` with IAM authentication, the role as every user's
  default execution role, in lesson 05's VPC and subnets (``labkit.topics.scaling.ensure_network``);
* one user profile per member of the analysts group, named after the IAM user;
* a private space ``NAME-analysis-space`` owned by the analyst's profile.

The SageMaker Python SDK (``sagemaker.core``) is loaded only by :func:`sdk`: its
import takes seconds, and the builder does not need it.
"""
from __future__ import annotations

import functools
import json
import logging

from botocore.exceptions import ClientError

from labkit.topics import cleanup, costs, scaling as ec2, waiting

MANAGED_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
SERVICE_PRINCIPAL = "sagemaker.amazonaws.com"
APP_TYPE = "JupyterLab"
APP_INSTANCE_TYPE = "ml.t3.medium"
URL_SECONDS = 60  # a presigned URL must be used quickly: 5 to 300 seconds
_LIVE = ("Pending", "InService", "Updating", "Deleting")


def trust_policy() -> dict:
    """Who may assume the execution role: the SageMaker service, nobody else."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": SERVICE_PRINCIPAL}, "Action": "sts:AssumeRole"}]}


def space_name(lab) -> str:
    return f"{lab.name}-analysis-space"


def analysts(lab) -> list[str]:
    """IAM users in the analysts group (each gets a user profile of the same name)."""
    iam = lab.client("iam")
    try:
        users = iam.get_group(GroupName=lab.names.analysts_group)["Users"]
    except iam.exceptions.NoSuchEntityException:
        raise RuntimeError(f"group {lab.names.analysts_group} does not exist: run lesson 01 "
                           f"(labkit.start builds it for you)") from None
    return sorted(u["UserName"] for u in users)


# --- role ---------------------------------------------------------------------

def ensure_execution_role(lab) -> str:
    """The analysts' execution role with the managed policy attached; returns its ARN."""
    iam, role = lab.client("iam"), lab.names.sagemaker_role
    try:
        arn = iam.create_role(
            RoleName=role, AssumeRolePolicyDocument=json.dumps(trust_policy()),
            Description="SageMaker Studio execution role for the analysts (labkit lesson 06)",
            Tags=[{"Key": "labkit", "Value": "course"}])["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        arn = iam.get_role(RoleName=role)["Role"]["Arn"]
    iam.attach_role_policy(RoleName=role, PolicyArn=MANAGED_POLICY_ARN)
    return arn


# --- domain -------------------------------------------------------------------

def find_domain(lab) -> str | None:
    """The id of the live domain named NAME-domain, or None."""
    sm = lab.client("sagemaker")
    for page in sm.get_paginator("list_domains").paginate():
        for domain in page["Domains"]:
            if domain["DomainName"] == lab.names.sagemaker_domain and domain["Status"] != "Deleting":
                return domain["DomainId"]
    return None


def ensure_domain(lab, role_arn: str) -> str:
    """NAME-domain with IAM auth in the lesson VPC; returns the domain id once InService."""
    domain_id = find_domain(lab)
    if domain_id is None:
        network = ec2.ensure_network(lab)
        domain_id = lab.client("sagemaker").create_domain(
            DomainName=lab.names.sagemaker_domain, AuthMode="IAM",
            DefaultUserSettings={"ExecutionRole": role_arn},
            VpcId=network["vpc"], SubnetIds=network["subnets"],
            Tags=[{"Key": "labkit", "Value": "course"}])["DomainArn"].rsplit("/", 1)[1]
    wait_for(lambda: _status(lab, "domain", DomainId=domain_id), "InService", f"domain {domain_id}")
    return domain_id


def _status(lab, kind: str, **ids) -> str | None:
    """Status of a domain/user_profile/space/app, None if it does not exist."""
    try:
        return getattr(lab.client("sagemaker"), f"describe_{kind}")(**ids)["Status"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ResourceNotFound", "ValidationException"):
            return None
        raise


def wait_for(get_status, wanted: str | None, what: str, timeout: float = 1200) -> None:
    """Poll until ``get_status()`` returns ``wanted`` (None: gone); fail clearly on *Failed.

    SageMaker is asynchronous: domains take minutes (Pending -> InService), apps a few,
    deletions too (Deleting). Polls with backoff (0.5 s up to 15 s), bounded by TIMEOUT.
    """
    last = []

    def settled(status):
        last[:] = [status]
        if status and status.endswith("Failed"):
            raise RuntimeError(f"{what} is {status}: see its FailureReason with describe_*")
        return status == wanted
    try:
        waiting.until(get_status, settled, what, timeout)
    except TimeoutError:
        raise TimeoutError(f"{what} is still {last[0]} after {timeout:.0f} s (wanted {wanted})") from None


def cost_items() -> dict[str, int]:
    """What lesson 06 runs while an app is up: the domain (free; EFS storage aside), one app."""
    return {"sagemaker:domain": 1, f"sagemaker:{APP_INSTANCE_TYPE}": 1}


def announce_cost(lab) -> str:
    """Print the hourly estimate of the domain and a running JupyterLab app, and how to remove them."""
    return costs.announce(lab, f"the SageMaker domain and a JupyterLab app on {APP_INSTANCE_TYPE}",
                          cost_items(), "sagemaker_domain")


# --- profiles and space ------------------------------------------------------------

def ensure_user_profile(lab, domain_id: str, user: str, role_arn: str) -> str:
    """A user profile named after IAM user ``user``, with the execution role; returns its ARN."""
    sm = lab.client("sagemaker")
    try:
        arn = sm.create_user_profile(
            DomainId=domain_id, UserProfileName=user, UserSettings={"ExecutionRole": role_arn},
            Tags=[{"Key": "labkit", "Value": "course"}])["UserProfileArn"]
    except sm.exceptions.ResourceInUse:
        arn = sm.describe_user_profile(DomainId=domain_id, UserProfileName=user)["UserProfileArn"]
    wait_for(lambda: _status(lab, "user_profile", DomainId=domain_id, UserProfileName=user),
             "InService", f"user profile {user}")
    return arn


def ensure_space(lab, domain_id: str, owner: str) -> str:
    """A private JupyterLab space owned by profile ``owner``; returns its ARN."""
    sm, name = lab.client("sagemaker"), space_name(lab)
    try:
        arn = sm.create_space(
            DomainId=domain_id, SpaceName=name, SpaceDisplayName=f"{lab.name} analysis",
            OwnershipSettings={"OwnerUserProfileName": owner},
            SpaceSharingSettings={"SharingType": "Private"},
            SpaceSettings={"AppType": APP_TYPE})["SpaceArn"]
    except sm.exceptions.ResourceInUse:
        arn = sm.describe_space(DomainId=domain_id, SpaceName=name)["SpaceArn"]
    wait_for(lambda: _status(lab, "space", DomainId=domain_id, SpaceName=name), "InService", f"space {name}")
    return arn


def presigned_url(lab, domain_id: str, user: str, seconds: int = URL_SECONDS) -> str:
    """A sign-in URL for ``user``'s profile, valid for ``seconds`` (5 to 300)."""
    return lab.client("sagemaker").create_presigned_domain_url(
        DomainId=domain_id, UserProfileName=user, ExpiresInSeconds=seconds)["AuthorizedUrl"]


def list_apps(lab, domain_id: str) -> list[dict]:
    """Every app of the domain (including recently deleted ones, as AWS lists them)."""
    sm = lab.client("sagemaker")
    return [a for page in sm.get_paginator("list_apps").paginate(DomainIdEquals=domain_id)
            for a in page["Apps"]]


def start_app(lab, domain_id: str, space: str, name: str = "default") -> str:
    """Start a JupyterLab app in ``space`` (on AWS: an ml.t3.medium billed while it runs)."""
    sm = lab.client("sagemaker")
    ids = {"DomainId": domain_id, "SpaceName": space, "AppType": APP_TYPE, "AppName": name}
    if _status(lab, "app", **ids) not in ("InService", "Pending"):
        sm.create_app(**ids, ResourceSpec={"InstanceType": APP_INSTANCE_TYPE})
    wait_for(lambda: _status(lab, "app", **ids), "InService", f"app {name} in {space}")
    return sm.describe_app(**ids)["AppArn"]


def stop_app(lab, domain_id: str, space: str, name: str = "default") -> None:
    """Delete the app (it stays listed as Deleted for a while, as on AWS)."""
    ids = {"DomainId": domain_id, "SpaceName": space, "AppType": APP_TYPE, "AppName": name}
    if _status(lab, "app", **ids) in ("InService", "Pending"):
        lab.client("sagemaker").delete_app(**ids)
    wait_for(lambda: _status(lab, "app", **ids) or "Deleted", "Deleted", f"app {name} in {space}")


def build(lab) -> None:
    """Lesson 06's end state (reference solution); safe to run any number of times."""
    role_arn = ensure_execution_role(lab)
    domain_id = ensure_domain(lab, role_arn)
    users = analysts(lab)
    for user in users:
        ensure_user_profile(lab, domain_id, user, role_arn)
    if users:
        ensure_space(lab, domain_id, users[0])


def sdk():
    """Import the SageMaker Python SDK's resource classes (slow: seconds), logs quieted.

    sagemaker.core logs every client it creates at INFO with rich formatting; a
    lesson needs none of that.
    """
    from sagemaker.core import resources

    chatty = [name for name in logging.root.manager.loggerDict if name.startswith("sagemaker")]
    for name in chatty + ["sagemaker", "sagemaker.config", "botocore.credentials"]:
        logging.getLogger(name).setLevel(logging.WARNING)
    return resources


# --- teardown --------------------------------------------------------------------

def leftovers(lab) -> list[str]:
    """What lesson 06 left for NAME (empty after teardown)."""
    found = []
    domain_id = find_domain(lab)
    if domain_id:
        found.append(f"SageMaker domain {lab.names.sagemaker_domain} ({domain_id})")
    try:
        lab.client("iam").get_role(RoleName=lab.names.sagemaker_role)
        found.append(f"IAM role {lab.names.sagemaker_role}")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchEntity":
            raise
    return found


def teardown(lab) -> list[str]:
    """Remove lesson 06's resources, children first: apps, spaces, profiles, domain, role.

    Run it before labkit.topics.scaling.teardown: the domain lives in lesson 05's VPC.
    Returns what could not be removed, with the reason.
    """
    domain_id = find_domain(lab)
    steps = [functools.partial(_delete_domain, domain_id=domain_id)] if domain_id else []
    steps.append(_delete_role)
    # wait_for raises RuntimeError when a domain never reaches its state: report it too.
    return cleanup.run_steps(lab, steps, reported=cleanup.REPORTED + (RuntimeError,))


def _delete_domain(lab, domain_id: str) -> None:
    sm = lab.client("sagemaker")
    for app in list_apps(lab, domain_id):
        if app["Status"] in ("InService", "Pending"):
            owner = ({"SpaceName": app["SpaceName"]} if app.get("SpaceName")
                     else {"UserProfileName": app["UserProfileName"]})
            sm.delete_app(DomainId=domain_id, AppType=app["AppType"], AppName=app["AppName"], **owner)
            wait_for(lambda: _status(lab, "app", DomainId=domain_id, AppType=app["AppType"],
                                     AppName=app["AppName"], **owner) or "Deleted",
                     "Deleted", f"app {app['AppName']}")
    for page in sm.get_paginator("list_spaces").paginate(DomainIdEquals=domain_id):
        for space in page["Spaces"]:
            sm.delete_space(DomainId=domain_id, SpaceName=space["SpaceName"])
            wait_for(lambda: _status(lab, "space", DomainId=domain_id, SpaceName=space["SpaceName"]),
                     None, f"space {space['SpaceName']}")
    for page in sm.get_paginator("list_user_profiles").paginate(DomainIdEquals=domain_id):
        for profile in page["UserProfiles"]:
            user = profile["UserProfileName"]
            sm.delete_user_profile(DomainId=domain_id, UserProfileName=user)
            wait_for(lambda: _status(lab, "user_profile", DomainId=domain_id, UserProfileName=user),
                     None, f"user profile {user}")
    sm.delete_domain(DomainId=domain_id, RetentionPolicy={"HomeEfsFileSystem": "Delete"})
    wait_for(lambda: _status(lab, "domain", DomainId=domain_id), None, f"domain {domain_id}")


def _delete_role(lab) -> None:
    iam, role = lab.client("iam"), lab.names.sagemaker_role
    try:
        for policy in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=role, PolicyArn=policy["PolicyArn"])
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            iam.delete_role_policy(RoleName=role, PolicyName=name)
        iam.delete_role(RoleName=role)
    except iam.exceptions.NoSuchEntityException:
        pass
