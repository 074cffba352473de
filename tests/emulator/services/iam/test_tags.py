"""Tags in IAM and STS authorization, request by request.

AWS documentation cited:
- "Controlling access to and for IAM users and roles using tags", IAM User Guide
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html): aws:PrincipalTag
  (the caller's user or role tags), aws:ResourceTag (the tags of the user/role acted on),
  aws:RequestTag and aws:TagKeys (the tags a TagUser/CreateUser request sets).
- "Passing session tags in AWS STS", IAM User Guide
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html): session tags become
  principal tags and override role tags with the same key; passing them needs sts:TagSession in
  the role's trust policy.
- Service Authorization Reference, IAM: TagUser and CreateUser support aws:RequestTag/${TagKey}
  and aws:TagKeys; the user resource type supports aws:ResourceTag/${TagKey}.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.emulator.support import policy, user_keys

ACCOUNT = "123456789012"
AWS_CLI = Path(sys.executable).parent / "aws"
_counter = iter(range(1, 10_000))


@pytest.fixture
def n():
    return next(_counter)


make_user = user_keys


def code_of(call):
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"]


def team_reader(bucket):
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "analytics"}}}


def test_principal_tag_of_a_user(em, n):
    bucket = f"ptag-bucket-{n}"
    em.client("s3").create_bucket(Bucket=bucket)
    em.client("s3").put_object(Bucket=bucket, Key="k", Body=b"1")
    tagged = em.client("s3", *make_user(em, f"ptag-in-{n}", team_reader(bucket),
                                        tags=[("team", "analytics")]))
    assert tagged.get_object(Bucket=bucket, Key="k")["Body"].read() == b"1"
    other = em.client("s3", *make_user(em, f"ptag-out-{n}", team_reader(bucket),
                                       tags=[("team", "finance")]))
    assert code_of(lambda: other.get_object(Bucket=bucket, Key="k")) == "AccessDenied"
    # Retagging the user changes the answer (no stale cache).
    em.client("iam").tag_user(UserName=f"ptag-out-{n}", Tags=[{"Key": "team",
                                                                "Value": "analytics"}])
    assert other.get_object(Bucket=bucket, Key="k")["Body"].read() == b"1"


def _session(em, creds):
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], region_name="us-east-1")


def _client(em, session, service):
    return session.client(service, config=Config(proxies={"https": em.proxy_url}),
                          verify=str(em.ca_bundle))


def test_principal_tags_of_a_role_and_its_session_tags(em, n):
    bucket = f"ptag-role-bucket-{n}"
    em.client("s3").create_bucket(Bucket=bucket)
    em.client("s3").put_object(Bucket=bucket, Key="k", Body=b"1")
    iam = em.client("iam")
    caller = make_user(em, f"ptag-assumer-{n}", {"Effect": "Allow",
                                                 "Action": ["sts:AssumeRole", "sts:TagSession"],
                                                 "Resource": "*"})
    trust = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "sts:AssumeRole"})
    role = iam.create_role(RoleName=f"ptag-role-{n}", AssumeRolePolicyDocument=trust,
                           Tags=[{"Key": "team", "Value": "analytics"}])["Role"]["Arn"]
    iam.put_role_policy(RoleName=f"ptag-role-{n}", PolicyName="p",
                        PolicyDocument=policy(team_reader(bucket)))
    sts = em.client("sts", *caller)
    creds = sts.assume_role(RoleArn=role, RoleSessionName="s1")["Credentials"]
    s3 = _client(em, _session(em, creds), "s3")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"1"
    # Session tags need sts:TagSession in the trust policy...
    assert code_of(lambda: sts.assume_role(RoleArn=role, RoleSessionName="s2", Tags=[
        {"Key": "team", "Value": "finance"}])) == "AccessDenied"
    iam.update_assume_role_policy(RoleName=f"ptag-role-{n}", PolicyDocument=policy({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": ["sts:AssumeRole", "sts:TagSession"]}))
    # ...and then override the role's tag with the same key.
    creds = sts.assume_role(RoleArn=role, RoleSessionName="s3", Tags=[
        {"Key": "team", "Value": "finance"}])["Credentials"]
    s3 = _client(em, _session(em, creds), "s3")
    assert code_of(lambda: s3.get_object(Bucket=bucket, Key="k")) == "AccessDenied"


def test_request_tag_and_tag_keys_on_tag_user_and_create_user(em, n):
    admin = em.client("iam", *make_user(em, f"tag-admin-{n}", {
        "Effect": "Allow", "Action": ["iam:CreateUser", "iam:TagUser"], "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestTag/cost-center": "lab"},
                      "ForAllValues:StringEquals": {"aws:TagKeys": ["cost-center", "owner"]}}}))
    admin.create_user(UserName=f"tagged-{n}", Tags=[{"Key": "cost-center", "Value": "lab"}])
    assert code_of(lambda: admin.create_user(UserName=f"untagged-{n}")) == "AccessDenied"
    assert code_of(lambda: admin.create_user(UserName=f"wrong-{n}", Tags=[
        {"Key": "cost-center", "Value": "prod"}])) == "AccessDenied"
    assert code_of(lambda: admin.tag_user(UserName=f"tagged-{n}", Tags=[
        {"Key": "cost-center", "Value": "lab"}, {"Key": "team", "Value": "x"}])) == "AccessDenied"
    admin.tag_user(UserName=f"tagged-{n}", Tags=[{"Key": "cost-center", "Value": "lab"},
                                                 {"Key": "owner", "Value": "me"}])


def test_resource_tag_of_the_user_acted_on(em, n):
    iam = em.client("iam")
    iam.create_user(UserName=f"managed-{n}", Tags=[{"Key": "managed-by", "Value": "helpdesk"}])
    iam.create_user(UserName=f"vip-{n}")
    helpdesk = em.client("iam", *make_user(em, f"helpdesk-{n}", {
        "Effect": "Allow", "Action": ["iam:GetUser", "iam:ListUserTags"], "Resource": "*",
        "Condition": {"StringEquals": {"aws:ResourceTag/managed-by": "helpdesk"}}}))
    assert helpdesk.get_user(UserName=f"managed-{n}")["User"]["UserName"] == f"managed-{n}"
    assert code_of(lambda: helpdesk.get_user(UserName=f"vip-{n}")) == "AccessDenied"


def test_principal_tag_with_the_cli(em, n, tmp_path):
    bucket = f"ptag-cli-bucket-{n}"
    em.client("s3").create_bucket(Bucket=bucket)
    em.client("s3").put_object(Bucket=bucket, Key="k.txt", Body=b"hi")
    key, secret = make_user(em, f"ptag-cli-{n}", team_reader(bucket), tags=[("team", "finance")])
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(em.client_environ())
    env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=str(tmp_path / "c"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "s"))
    args = [str(AWS_CLI), "s3", "cp", f"s3://{bucket}/k.txt", str(tmp_path / "k.txt")]
    got = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert got.returncode != 0 and "403" in got.stderr
    em.client("iam").tag_user(UserName=f"ptag-cli-{n}", Tags=[{"Key": "team",
                                                               "Value": "analytics"}])
    got = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stderr
