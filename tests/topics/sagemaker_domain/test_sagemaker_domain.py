"""labkit.topics.sagemaker_domain (lesson 06): reference build, checks, presigned URL, apps, teardown."""
from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

import labkit
from labkit import checks
from labkit.topics import users_and_groups as iam
from labkit.topics import scaling as lab_ec2
from labkit.topics import sagemaker_domain as lab_sm
from labkit.checks import lesson06  # noqa: F401  (registers the checks)
from labkit.grading import checks as graded
from labkit.emulator.services.sagemaker import behaviour as sagemaker_fidelity
from tests.support import failed

graded.load_hidden("06")  # the instructor's hidden checks (instructor/hidden_checks)
NAME = "t-sm"
CHECKS = ["06.execution-role", "06.domain", "06.user-profiles", "06.space",
          "06.private-space", "06.role-scope"]


@pytest.fixture(scope="module")
def lab():
    lab = labkit.start(NAME, lesson="00", verbose=False)
    iam.build(lab)
    lab_sm.build(lab)
    lab_sm.build(lab)
    yield lab
    assert lab_sm.teardown(lab) == []
    assert lab_ec2.teardown(lab) == []


@pytest.fixture
def domain_id(lab):
    return lab_sm.find_domain(lab)


@pytest.mark.parametrize("check_id", CHECKS)
def test_checks_pass_on_the_reference_build(lab, check_id):
    result = checks.run(lab, check_id)
    assert result.passed, str(result)


def test_build_twice_makes_one_domain_and_one_profile_per_analyst(lab, domain_id):
    sm = lab.client("sagemaker")
    domains = [d for d in sm.list_domains()["Domains"] if d["DomainName"] == lab.names.sagemaker_domain]
    assert len(domains) == 1
    profiles = sm.list_user_profiles(DomainIdEquals=domain_id)["UserProfiles"]
    assert sorted(p["UserProfileName"] for p in profiles) == [lab.names.analyst_user]
    described = sm.describe_domain(DomainId=domain_id)
    assert described["SubnetIds"] == lab_ec2.ensure_network(lab)["subnets"]


def test_role_check_fails_when_another_service_is_trusted(lab):
    client, role = lab.client("iam"), lab.names.sagemaker_role
    wrong = lab_sm.trust_policy()
    wrong["Statement"][0]["Principal"]["Service"] = "ec2.amazonaws.com"
    client.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(wrong))
    try:
        assert "ec2.amazonaws.com" in failed(lab, "06.execution-role")
    finally:
        client.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(lab_sm.trust_policy()))


def test_role_check_fails_without_the_managed_policy(lab):
    client, role = lab.client("iam"), lab.names.sagemaker_role
    client.detach_role_policy(RoleName=role, PolicyArn=lab_sm.MANAGED_POLICY_ARN)
    try:
        assert "AmazonSageMakerFullAccess" in failed(lab, "06.execution-role")
    finally:
        client.attach_role_policy(RoleName=role, PolicyArn=lab_sm.MANAGED_POLICY_ARN)


def test_profile_check_fails_for_an_analyst_without_a_profile(lab, domain_id):
    client = lab.client("iam")
    client.create_user(UserName="t-sm-second-analyst")
    client.add_user_to_group(GroupName=lab.names.analysts_group, UserName="t-sm-second-analyst")
    try:
        assert "t-sm-second-analyst has no user profile" in failed(lab, "06.user-profiles")
    finally:
        client.remove_user_from_group(GroupName=lab.names.analysts_group, UserName="t-sm-second-analyst")
        client.delete_user(UserName="t-sm-second-analyst")


def test_private_space_check_fails_for_a_shared_space():
    lab = labkit.start("t-sm-shared", lesson="00", verbose=False)
    iam.build(lab)
    role = lab_sm.ensure_execution_role(lab)
    domain_id = lab_sm.ensure_domain(lab, role)
    lab_sm.ensure_user_profile(lab, domain_id, lab.names.analyst_user, role)
    lab.client("sagemaker").create_space(
        DomainId=domain_id, SpaceName=lab_sm.space_name(lab), SpaceSharingSettings={"SharingType": "Shared"},
        OwnershipSettings={"OwnerUserProfileName": lab.names.analyst_user})
    try:
        assert checks.run(lab, "06.space").passed
        assert "Shared" in failed(lab, "06.private-space")
    finally:
        assert lab_sm.teardown(lab) == []
        assert lab_ec2.teardown(lab) == []
    assert lab_sm.leftovers(lab) == []
    assert "no SageMaker domain" in failed(lab, "06.domain")


def test_presigned_url_names_the_domain_and_expires_quickly(lab, domain_id):
    url = lab_sm.presigned_url(lab, domain_id, lab.names.analyst_user, seconds=60)
    assert url.startswith(f"https://{domain_id}.studio.{lab.region}.sagemaker.aws/")
    claims = sagemaker_fidelity.presigned_url_claims(url)
    assert claims["user"] == lab.names.analyst_user
    assert 55 <= claims["exp"] - time.time() <= 61
    with pytest.raises(ClientError) as err:
        lab_sm.presigned_url(lab, domain_id, lab.names.analyst_user, seconds=3600)
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_apps_start_list_and_stop(lab, domain_id):
    space = lab_sm.space_name(lab)
    arn = lab_sm.start_app(lab, domain_id, space)
    assert arn.endswith(f"/{space}/jupyterlab/default")
    assert lab_sm.start_app(lab, domain_id, space) == arn  # idempotent
    assert [(a["AppName"], a["Status"]) for a in lab_sm.list_apps(lab, domain_id)] == [("default", "InService")]
    lab_sm.stop_app(lab, domain_id, space)
    lab_sm.stop_app(lab, domain_id, space)
    assert [a["Status"] for a in lab_sm.list_apps(lab, domain_id)] == ["Deleted"]


def test_teardown_removes_a_domain_with_a_running_app():
    lab = labkit.start("t-sm-down", lesson="00", verbose=False)
    iam.build(lab)
    lab_sm.build(lab)
    domain_id = lab_sm.find_domain(lab)
    lab_sm.start_app(lab, domain_id, lab_sm.space_name(lab))
    assert len(lab_sm.leftovers(lab)) == 2
    assert lab_sm.teardown(lab) == []
    assert lab_sm.leftovers(lab) == []
    assert lab_sm.teardown(lab) == []
    assert lab_ec2.teardown(lab) == []


def test_sdk_reads_the_same_profiles(lab, domain_id):
    resources = lab_sm.sdk()
    profiles = resources.UserProfile.get_all(domain_id_equals=domain_id, session=lab.session(),
                                             region=lab.region)
    assert [p.user_profile_name for p in profiles] == [lab.names.analyst_user]


def test_wait_for_fails_clearly_on_failed_status():
    with pytest.raises(RuntimeError, match="Failed"):
        lab_sm.wait_for(lambda: "Failed", "InService", "the domain", timeout=1)
    with pytest.raises(TimeoutError, match="still Pending"):
        lab_sm.wait_for(lambda: "Pending", "InService", "the domain", timeout=0)


def test_analysts_needs_lesson_01():
    lab = labkit.start("t-sm-empty", lesson="00", verbose=False)
    with pytest.raises(RuntimeError, match="run lesson 01"):
        lab_sm.analysts(lab)
