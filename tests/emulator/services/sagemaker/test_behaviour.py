"""SageMaker fidelity: user profiles, spaces, apps, presigned URLs, domain deletion."""
from __future__ import annotations

import re
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from labkit.config import DEFAULT_REGION, EMULATOR_ACCOUNT_ID
from labkit.emulator.services.sagemaker import behaviour as sagemaker

ROLE = f"arn:aws:iam::{EMULATOR_ACCOUNT_ID}:role/analyst-execution"


@pytest.fixture(scope="module")
def mocked():
    sagemaker.install()
    with mock_aws():
        yield boto3.client("sagemaker", region_name=DEFAULT_REGION)


@pytest.fixture()
def sm(mocked):
    from moto.sagemaker.models import sagemaker_backends

    yield mocked
    sagemaker_backends[EMULATOR_ACCOUNT_ID][DEFAULT_REGION].reset()


@pytest.fixture()
def domain_id(sm):
    arn = sm.create_domain(
        DomainName="demo-domain", AuthMode="IAM", DefaultUserSettings={"ExecutionRole": ROLE},
        SubnetIds=["subnet-0123456789abcdef0"], VpcId="vpc-0123456789abcdef0")["DomainArn"]
    return arn.rsplit("/", 1)[1]


def error(exc: pytest.ExceptionInfo) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_domain_looks_like_aws(sm, domain_id):
    assert re.fullmatch(r"d-[a-z0-9]{12}", domain_id)
    described = sm.describe_domain(DomainId=domain_id)
    assert described["Url"] == f"https://{domain_id}.studio.{DEFAULT_REGION}.sagemaker.aws"
    with pytest.raises(ClientError) as exc:
        sm.describe_domain(DomainId="d-000000000000")
    assert error(exc)[0] == "ResourceNotFound"


def test_user_profile_round_trip(sm, domain_id):
    arn = sm.create_user_profile(DomainId=domain_id, UserProfileName="analyst-demo")["UserProfileArn"]
    assert arn == (f"arn:aws:sagemaker:{DEFAULT_REGION}:{EMULATOR_ACCOUNT_ID}:"
                   f"user-profile/{domain_id}/analyst-demo")
    profile = sm.describe_user_profile(DomainId=domain_id, UserProfileName="analyst-demo")
    assert profile["Status"] == "InService"
    assert profile["UserSettings"] == {"ExecutionRole": ROLE}   # inherited from the domain
    sm.update_user_profile(DomainId=domain_id, UserProfileName="analyst-demo",
                           UserSettings={"DefaultLandingUri": "studio::"})
    updated = sm.describe_user_profile(DomainId=domain_id, UserProfileName="analyst-demo")
    assert updated["UserSettings"]["DefaultLandingUri"] == "studio::"
    listed = sm.list_user_profiles(DomainIdEquals=domain_id)["UserProfiles"]
    assert [p["UserProfileName"] for p in listed] == ["analyst-demo"]
    sm.delete_user_profile(DomainId=domain_id, UserProfileName="analyst-demo")
    assert sm.list_user_profiles(DomainIdEquals=domain_id)["UserProfiles"] == []
    with pytest.raises(ClientError) as exc:
        sm.describe_user_profile(DomainId=domain_id, UserProfileName="analyst-demo")
    assert error(exc) == ("ResourceNotFound", f"UserProfile {arn} does not exist.")


def test_user_profile_needs_a_domain_and_a_unique_name(sm, domain_id):
    with pytest.raises(ClientError) as exc:
        sm.create_user_profile(DomainId="d-000000000000", UserProfileName="analyst-demo")
    assert error(exc)[0] == "ResourceNotFound"
    assert "domain/d-000000000000 does not exist" in error(exc)[1]
    sm.create_user_profile(DomainId=domain_id, UserProfileName="analyst-demo")
    with pytest.raises(ClientError) as exc:
        sm.create_user_profile(DomainId=domain_id, UserProfileName="analyst-demo")
    assert error(exc)[0] == "ResourceInUse"


def test_space_and_app_round_trip(sm, domain_id):
    sm.create_user_profile(DomainId=domain_id, UserProfileName="analyst-demo")
    sm.create_space(DomainId=domain_id, SpaceName="analyst-space",
                    OwnershipSettings={"OwnerUserProfileName": "analyst-demo"},
                    SpaceSharingSettings={"SharingType": "Private"},
                    SpaceSettings={"AppType": "JupyterLab"})
    space = sm.describe_space(DomainId=domain_id, SpaceName="analyst-space")
    assert space["OwnershipSettings"] == {"OwnerUserProfileName": "analyst-demo"}
    app_arn = sm.create_app(DomainId=domain_id, SpaceName="analyst-space",
                            AppType="JupyterLab", AppName="default")["AppArn"]
    assert app_arn.endswith(f"app/{domain_id}/analyst-space/jupyterlab/default")
    app = sm.describe_app(DomainId=domain_id, SpaceName="analyst-space",
                          AppType="JupyterLab", AppName="default")
    assert (app["Status"], app["SpaceName"]) == ("InService", "analyst-space")
    with pytest.raises(ClientError) as exc:
        sm.delete_space(DomainId=domain_id, SpaceName="analyst-space")
    assert error(exc)[0] == "ResourceInUse"
    with pytest.raises(ClientError) as exc:
        sm.delete_user_profile(DomainId=domain_id, UserProfileName="analyst-demo")
    assert error(exc)[0] == "ResourceInUse"          # it owns the space
    sm.delete_app(DomainId=domain_id, SpaceName="analyst-space", AppType="JupyterLab", AppName="default")
    [listed] = sm.list_apps(DomainIdEquals=domain_id)["Apps"]
    assert listed["Status"] == "Deleted"
    sm.delete_space(DomainId=domain_id, SpaceName="analyst-space")
    assert sm.list_spaces(DomainIdEquals=domain_id)["Spaces"] == []
    sm.delete_user_profile(DomainId=domain_id, UserProfileName="analyst-demo")


def test_app_for_a_missing_profile_is_not_found(sm, domain_id):
    with pytest.raises(ClientError) as exc:
        sm.create_app(DomainId=domain_id, UserProfileName="nobody",
                      AppType="JupyterServer", AppName="default")
    assert error(exc)[0] == "ResourceNotFound"


def test_presigned_url(sm, domain_id):
    sm.create_user_profile(DomainId=domain_id, UserProfileName="analyst-demo")
    url = sm.create_presigned_domain_url(
        DomainId=domain_id, UserProfileName="analyst-demo", ExpiresInSeconds=60,
        SessionExpirationDurationInSeconds=1800)["AuthorizedUrl"]
    assert url.startswith(f"https://{domain_id}.studio.{DEFAULT_REGION}.sagemaker.aws/auth?token=")
    claims = sagemaker.presigned_url_claims(url)
    assert (claims["domain"], claims["user"]) == (domain_id, "analyst-demo")
    assert abs(claims["exp"] - (time.time() + 60)) < 30
    assert claims["sessionExp"] - claims["iat"] == 1800
    with pytest.raises(ClientError) as exc:
        sm.create_presigned_domain_url(DomainId=domain_id, UserProfileName="analyst-demo",
                                       ExpiresInSeconds=301)
    assert error(exc)[0] == "ValidationException"
    with pytest.raises(ClientError) as exc:
        sm.create_presigned_domain_url(DomainId=domain_id, UserProfileName="nobody")
    assert error(exc)[0] == "ResourceNotFound"


def test_domain_with_profiles_cannot_be_deleted(sm, domain_id):
    sm.create_user_profile(DomainId=domain_id, UserProfileName="analyst-demo")
    for policy in ({"HomeEfsFileSystem": "Retain"}, {"HomeEfsFileSystem": "Delete"}):
        with pytest.raises(ClientError) as exc:
            sm.delete_domain(DomainId=domain_id, RetentionPolicy=policy)
        assert error(exc)[0] == "ResourceInUse"
        assert "UserProfile(s) are associated with it" in error(exc)[1]
    sm.delete_user_profile(DomainId=domain_id, UserProfileName="analyst-demo")
    sm.delete_domain(DomainId=domain_id, RetentionPolicy={"HomeEfsFileSystem": "Delete"})
    assert sm.list_domains()["Domains"] == []


def test_install_is_idempotent():
    from moto.sagemaker.responses import SageMakerResponse

    sagemaker.install()
    method = SageMakerResponse.create_user_profile
    sagemaker.install()
    assert SageMakerResponse.create_user_profile is method
