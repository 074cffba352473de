"""STS API reference, AssumeRole, DurationSeconds: from 900 seconds to the role's
MaxSessionDuration (IAM user guide, "Update the maximum session duration for a role":
1 to 12 hours, 1 hour by default); role chaining (a role session assuming a role) is
limited to one hour whatever the role allows ("Role chaining", IAM user guide)."""
import json

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def roles(em):
    iam = em.client("iam")
    iam.create_user(UserName="duration-user")
    iam.put_user_policy(UserName="duration-user", PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="duration-default", AssumeRolePolicyDocument=trust)
    iam.create_role(RoleName="duration-long", AssumeRolePolicyDocument=trust,
                    MaxSessionDuration=4 * 3600)
    iam.put_role_policy(RoleName="duration-long", PolicyName="chain", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="duration-user")["AccessKey"]
    return em.client("sts", key["AccessKeyId"], key["SecretAccessKey"])


def _assume(sts, role: str, seconds: int):
    return sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}",
                           RoleSessionName="duration", DurationSeconds=seconds)["Credentials"]


def test_up_to_the_roles_maximum(roles):
    _assume(roles, "duration-default", 3600)
    _assume(roles, "duration-long", 4 * 3600)
    with pytest.raises(ClientError) as refused:
        _assume(roles, "duration-default", 3601)
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert error["Message"] == ("The requested DurationSeconds exceeds the MaxSessionDuration "
                                "set for this role.")
    with pytest.raises(ClientError):
        _assume(roles, "duration-long", 4 * 3600 + 1)


def test_role_chaining_is_limited_to_one_hour(em, roles):
    creds = _assume(roles, "duration-long", 3600)
    import boto3
    from botocore.config import Config

    chained = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], region_name="us-east-1",
    ).client("sts", config=Config(proxies={"https": em.proxy_url}), verify=str(em.ca_bundle))
    _assume(chained, "duration-long", 3600)
    with pytest.raises(ClientError) as refused:
        _assume(chained, "duration-long", 2 * 3600)
    assert "1 hour session limit for roles assumed by role chaining" in refused.value.response[
        "Error"]["Message"]
