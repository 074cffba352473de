"""IAM fidelity: AWS managed policies parsed once, copied per backend, never shared."""
from __future__ import annotations

import json

import pytest
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, IAMBackend, iam_backends

from labkit.config import DEFAULT_REGION, EMULATOR_ACCOUNT_ID
from labkit.emulator.services.iam import behaviour as fidelity_iam

COURSE_POLICIES = ("AdministratorAccess", "AmazonSageMakerFullAccess", "ReadOnlyAccess")
OTHER_ACCOUNT = "210987654321"
ASSUME_ROLE = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})
RAW = json.loads(aws_managed_policies_data)


def arn_of(name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::aws:policy{RAW[name]['Path']}{name}"


@pytest.fixture()
def iam(em):
    em.reset()
    yield em.client("iam")
    em.reset()


def _backend(account: str = EMULATOR_ACCOUNT_ID, partition: str = "aws") -> IAMBackend:
    return iam_backends[account][partition]


# --- install -----------------------------------------------------------------
def test_install_is_idempotent_and_installed_by_the_emulator(em):
    patched = IAMBackend._init_aws_policies
    fidelity_iam.install()
    fidelity_iam.install()
    assert IAMBackend._init_aws_policies is patched
    assert getattr(patched, "_labkit", False), "Emulator.start() did not install fidelity.iam"


def test_the_setting_is_still_honoured(em, monkeypatch):
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
    assert IAMBackend("aws", OTHER_ACCOUNT).managed_policies == {}
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    assert len(IAMBackend("aws", OTHER_ACCOUNT).managed_policies) == len(RAW)


# --- the copies are moto's policies ------------------------------------------
@pytest.mark.parametrize("partition", ["aws", "aws-cn"])
def test_copies_equal_what_moto_builds_itself(em, partition):
    region = DEFAULT_REGION if partition == "aws" else "cn-north-1"
    backend = IAMBackend(partition, OTHER_ACCOUNT)
    ours = {p.name: p for p in backend.aws_managed_policies}
    assert set(ours) == set(RAW)
    for name in (*COURSE_POLICIES, *list(RAW)[:50]):
        stock = AWSManagedPolicy.from_data(name, OTHER_ACCOUNT, region, RAW[name])
        copy = ours[name]
        assert type(copy) is AWSManagedPolicy
        assert copy.arn == stock.arn == arn_of(name, partition)
        assert backend.managed_policies[copy.arn] is copy
        skip = {"id", "versions"}  # ids are random in moto; versions compared below
        assert {k: v for k, v in vars(copy).items() if k not in skip} == \
               {k: v for k, v in vars(stock).items() if k not in skip}
        assert [vars(v) for v in copy.versions] == [vars(v) for v in stock.versions]


# --- through the emulator, after a reset -------------------------------------
@pytest.mark.parametrize("name", COURSE_POLICIES)
def test_course_policies_are_there_after_reset_with_their_real_document(iam, name):
    policy = iam.get_policy(PolicyArn=arn_of(name))["Policy"]
    assert policy["PolicyName"] == name
    assert policy["DefaultVersionId"] == RAW[name]["DefaultVersionId"]
    assert policy["AttachmentCount"] == 0
    version = iam.get_policy_version(PolicyArn=arn_of(name),
                                     VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    assert version["Document"] == RAW[name]["Document"]
    assert version["IsDefaultVersion"] is True


def test_attaching_and_listing_work_and_do_not_survive_a_reset(em, iam):
    iam.create_role(RoleName="analyst", AssumeRolePolicyDocument=ASSUME_ROLE)
    iam.create_user(UserName="ana")
    iam.create_group(GroupName="auditors")
    iam.attach_role_policy(RoleName="analyst", PolicyArn=arn_of("AmazonSageMakerFullAccess"))
    iam.attach_user_policy(UserName="ana", PolicyArn=arn_of("AdministratorAccess"))
    iam.attach_group_policy(GroupName="auditors", PolicyArn=arn_of("ReadOnlyAccess"))
    iam.attach_role_policy(RoleName="analyst", PolicyArn=arn_of("ReadOnlyAccess"))

    attached = iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]
    assert {p["PolicyName"]: p["AttachmentCount"] for p in attached} == {
        "AmazonSageMakerFullAccess": 1, "AdministratorAccess": 1, "ReadOnlyAccess": 2}
    entities = iam.list_entities_for_policy(PolicyArn=arn_of("ReadOnlyAccess"))
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == ["analyst"]
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == ["auditors"]
    role_policies = iam.list_attached_role_policies(RoleName="analyst")["AttachedPolicies"]
    assert sorted(p["PolicyName"] for p in role_policies) == [
        "AmazonSageMakerFullAccess", "ReadOnlyAccess"]

    iam.detach_role_policy(RoleName="analyst", PolicyArn=arn_of("ReadOnlyAccess"))
    assert iam.get_policy(PolicyArn=arn_of("ReadOnlyAccess"))["Policy"]["AttachmentCount"] == 1

    em.reset()
    assert iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"] == []
    for name in COURSE_POLICIES:
        assert iam.get_policy(PolicyArn=arn_of(name))["Policy"]["AttachmentCount"] == 0
    assert len(iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]) == 1000


def test_policy_id_is_stable_across_resets_like_aws(em, iam):
    before = iam.get_policy(PolicyArn=arn_of("AdministratorAccess"))["Policy"]["PolicyId"]
    em.reset()
    assert iam.get_policy(PolicyArn=arn_of("AdministratorAccess"))["Policy"]["PolicyId"] == before


# --- nothing moto mutates is shared -------------------------------------------
def test_mutations_stay_in_their_own_account_and_partition(iam):
    iam.create_role(RoleName="analyst", AssumeRolePolicyDocument=ASSUME_ROLE)
    admin = arn_of("AdministratorAccess")
    iam.attach_role_policy(RoleName="analyst", PolicyArn=admin)
    iam.tag_policy(PolicyArn=admin, Tags=[{"Key": "team", "Value": "lake"}])
    ours = _backend().get_policy(admin)
    _backend().create_policy_version(admin, json.dumps(RAW["ReadOnlyAccess"]["Document"]),
                                     set_as_default="true")

    for other in (_backend(OTHER_ACCOUNT), _backend(partition="aws-cn")):
        theirs = next(p for p in other.aws_managed_policies if p.name == "AdministratorAccess")
        assert theirs is not ours
        assert theirs.attachment_count == 0 and theirs.tags == {}
        assert [(v.version_id, v.is_default) for v in theirs.versions] == \
               [(RAW["AdministratorAccess"]["DefaultVersionId"], True)]
        assert json.loads(theirs.versions[0].document) == RAW["AdministratorAccess"]["Document"]
    assert ours.attachment_count == 1 and len(ours.versions) == 2

    prototype = next(p for p in fidelity_iam.prototypes() if p.name == "AdministratorAccess")
    assert prototype.attachment_count == 0 and prototype.tags == {}
    assert len(prototype.versions) == 1 and prototype.versions[0].is_default


def test_a_reset_starts_from_pristine_policies(em, iam):
    admin = arn_of("AdministratorAccess")
    iam.tag_policy(PolicyArn=admin, Tags=[{"Key": "team", "Value": "lake"}])
    iam.create_policy_version(PolicyArn=admin, SetAsDefault=True,
                              PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                                  {"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}]}))
    em.reset()
    assert iam.list_policy_tags(PolicyArn=admin)["Tags"] == []
    versions = iam.list_policy_versions(PolicyArn=admin)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in versions] == [
        (RAW["AdministratorAccess"]["DefaultVersionId"], True)]
    document = iam.get_policy_version(PolicyArn=admin, VersionId=versions[0]["VersionId"])
    assert document["PolicyVersion"]["Document"] == RAW["AdministratorAccess"]["Document"]
