"""Callers, non-S3 services, error shapes and IAM's policy simulator, through the emulator.

Every denial is checked the way a learner meets it: botocore's ClientError
with the code and HTTP status real AWS gives for that service's protocol.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError


ACCOUNT = "123456789012"
AWS_CLI = Path(sys.executable).parent / "aws"


_counter = iter(range(1, 10_000))


def policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.fixture
def user(em):
    """A fresh IAM user with no policies: (name, key id, secret)."""
    name = f"svc-user-{next(_counter)}"
    iam = em.client("iam")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, key["AccessKeyId"], key["SecretAccessKey"]


def error_of(call) -> tuple:
    with pytest.raises(ClientError) as info:
        call()
    r = info.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message", "")


def test_get_caller_identity_as_root(em):
    ident = em.client("sts").get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert ident["UserId"] == ACCOUNT and ident["Account"] == ACCOUNT


def test_get_caller_identity_is_never_denied(em, user):
    name, key, secret = user
    em.client("iam").put_user_policy(UserName=name, PolicyName="deny-all",
                                     PolicyDocument=policy({"Effect": "Deny", "Action": "*",
                                                            "Resource": "*"}))
    ident = em.client("sts", key, secret).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{name}"


@pytest.mark.parametrize("service, call, code, status", [
    ("s3", lambda c: c.list_buckets(), "InvalidAccessKeyId", 403),
    ("iam", lambda c: c.list_users(), "InvalidClientTokenId", 403),
    ("sts", lambda c: c.get_caller_identity(), "InvalidClientTokenId", 403),
    ("ec2", lambda c: c.describe_instances(), "AuthFailure", 401),
    ("sagemaker", lambda c: c.list_domains(), "UnrecognizedClientException", 400),
])
def test_unknown_access_key(em, service, call, code, status):
    client = em.client(service, "AKIAUNKNOWNKEY000000", "not-a-secret")
    assert error_of(lambda: call(client))[:2] == (code, status)


def test_deleted_access_key_stops_working(em, user):
    name, key, secret = user
    sts = em.client("sts", key, secret)
    sts.get_caller_identity()
    em.client("iam").delete_access_key(UserName=name, AccessKeyId=key)
    assert error_of(sts.get_caller_identity)[0] == "InvalidClientTokenId"


@pytest.mark.parametrize("service, call, action, code, status", [
    ("iam", lambda c: c.list_users(), "iam:ListUsers", "AccessDenied", 403),
    ("ec2", lambda c: c.describe_instances(), "ec2:DescribeInstances", "UnauthorizedOperation", 403),
    ("autoscaling", lambda c: c.describe_auto_scaling_groups(),
     "autoscaling:DescribeAutoScalingGroups", "AccessDenied", 403),
    ("elbv2", lambda c: c.describe_load_balancers(),
     "elasticloadbalancing:DescribeLoadBalancers", "AccessDenied", 403),
    ("cloudwatch", lambda c: c.list_metrics(), "cloudwatch:ListMetrics", "AccessDenied", 403),
    ("sagemaker", lambda c: c.list_domains(), "sagemaker:ListDomains", "AccessDeniedException", 400),
    ("ecr", lambda c: c.describe_repositories(), "ecr:DescribeRepositories",
     "AccessDeniedException", 400),
    ("eks", lambda c: c.list_clusters(), "eks:ListClusters", "AccessDeniedException", 403),
    ("lambda", lambda c: c.list_functions(), "lambda:ListFunctions", "AccessDeniedException", 403),
])
def test_denials_have_each_protocols_shape(em, user, service, call, action, code, status):
    name, key, secret = user
    got_code, got_status, message = error_of(lambda: call(em.client(service, key, secret)))
    assert (got_code, got_status) == (code, status)
    assert f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized to perform: {action}" in message
    if service == "ec2":
        assert message.startswith("You are not authorized to perform this operation. ")


def test_allowed_service_calls_reach_moto(em, user):
    name, key, secret = user
    em.client("iam").put_user_policy(UserName=name, PolicyName="describe", PolicyDocument=policy(
        allow(["ec2:Describe*", "sagemaker:List*", "lambda:ListFunctions"])))
    assert "Reservations" in em.client("ec2", key, secret).describe_instances()
    assert "Domains" in em.client("sagemaker", key, secret).list_domains()
    assert "Functions" in em.client("lambda", key, secret).list_functions()


def test_iam_resource_level_permissions(em, user):
    name, key, secret = user
    em.client("iam").put_user_policy(UserName=name, PolicyName="self-service", PolicyDocument=policy(
        allow(["iam:GetUser", "iam:ListAccessKeys"], "arn:aws:iam::*:user/${aws:username}")))
    iam = em.client("iam", key, secret)
    assert iam.get_user(UserName=name)["User"]["UserName"] == name
    iam.list_access_keys()  # defaults to the caller
    code, _, message = error_of(lambda: iam.get_user(UserName="svc-someone-else"))
    assert code == "AccessDenied"
    assert f'on resource: "arn:aws:iam::{ACCOUNT}:user/svc-someone-else"' in message


def test_role_session_gets_the_roles_policies_and_session_policy(em, user):
    name, key, secret = user
    iam = em.client("iam")
    trust = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "sts:AssumeRole"})
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=trust)["Role"]
    iam.put_role_policy(RoleName=f"{name}-role", PolicyName="ec2-read",
                        PolicyDocument=policy(allow(["ec2:DescribeInstances", "ec2:DescribeVpcs"])))
    iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=policy(
        allow("sts:AssumeRole", role["Arn"])))
    creds = em.client("sts", key, secret).assume_role(
        RoleArn=role["Arn"], RoleSessionName="lesson",
        Policy=policy(allow("ec2:DescribeInstances")))["Credentials"]
    session = dict(access_key_id=creds["AccessKeyId"], secret_access_key=creds["SecretAccessKey"])
    import boto3
    from botocore.config import Config

    def client(service):
        return boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"], region_name="us-east-1",
        ).client(service, config=Config(proxies={"https": em.proxy_url}), verify=str(em.ca_bundle))

    assert session  # the credentials came back
    ident = client("sts").get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}-role/lesson"
    client("ec2").describe_instances()
    code, _, message = error_of(lambda: client("ec2").describe_vpcs())
    assert code == "UnauthorizedOperation" and "session policy" in message


def test_simulate_principal_policy_via_boto3(em, user):
    name, _, _ = user
    iam = em.client("iam")
    iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=policy(
        allow("s3:GetObject", "arn:aws:s3:::demo-analysis/*")))
    arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    result = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=["arn:aws:s3:::demo-analysis/x.csv"])
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in result["EvaluationResults"]}
    assert decisions == {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"}
    matched = result["EvaluationResults"][0]["MatchedStatements"][0]
    assert matched["SourcePolicyId"] == "read" and matched["StartPosition"]["Line"] >= 1


def test_simulate_custom_policy_with_context(em):
    iam = em.client("iam")
    doc = policy(allow("s3:PutObject", "*", Condition={
        "StringEquals": {"s3:x-amz-server-side-encryption": "AES256"}}))
    result = iam.simulate_custom_policy(
        PolicyInputList=[doc], ActionNames=["s3:PutObject"],
        ContextEntries=[{"ContextKeyName": "s3:x-amz-server-side-encryption",
                         "ContextKeyValues": ["AES256"], "ContextKeyType": "string"}])
    assert result["EvaluationResults"][0]["EvalDecision"] == "allowed"
    plain = iam.simulate_custom_policy(PolicyInputList=[doc], ActionNames=["s3:PutObject"])
    res = plain["EvaluationResults"][0]
    assert res["EvalDecision"] == "implicitDeny"
    assert res["MissingContextValues"] == ["s3:x-amz-server-side-encryption"]


def test_simulate_is_itself_authorized(em, user):
    name, key, secret = user
    code, _, message = error_of(lambda: em.client("iam", key, secret).simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/{name}", ActionNames=["s3:GetObject"]))
    assert code == "AccessDenied" and "iam:SimulatePrincipalPolicy" in message


def test_simulate_unknown_principal_is_no_such_entity(em):
    code, status, _ = error_of(lambda: em.client("iam").simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/nobody-here", ActionNames=["s3:GetObject"]))
    assert (code, status) == ("NoSuchEntity", 404)


def test_permissions_boundary_set_with_the_cli(em, user, tmp_path):
    name, key, secret = user
    iam = em.client("iam")
    iam.put_user_policy(UserName=name, PolicyName="all-ec2", PolicyDocument=policy(allow("ec2:*")))
    boundary = iam.create_policy(PolicyName=f"{name}-boundary", PolicyDocument=policy(
        allow("ec2:DescribeInstances")))["Policy"]["Arn"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(em.client_environ())
    env.update(AWS_ACCESS_KEY_ID=em.root.access_key_id,
               AWS_SECRET_ACCESS_KEY=em.root.secret_access_key, AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=str(tmp_path / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"))
    result = subprocess.run([str(AWS_CLI), "iam", "put-user-permissions-boundary", "--user-name",
                             name, "--permissions-boundary", boundary],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    ec2 = em.client("ec2", key, secret)
    ec2.describe_instances()
    code, _, message = error_of(ec2.describe_vpcs)
    assert code == "UnauthorizedOperation"
    assert "because no permissions boundary allows the ec2:DescribeVpcs action" in message


def test_create_user_with_a_boundary(em):
    iam = em.client("iam")
    arn = iam.create_policy(PolicyName="svc-create-boundary",
                            PolicyDocument=policy(allow("s3:GetObject")))["Policy"]["Arn"]
    user = iam.create_user(UserName="svc-bounded-at-birth", PermissionsBoundary=arn)["User"]
    assert user["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn
    code, status, message = error_of(lambda: iam.put_user_permissions_boundary(
        UserName="svc-bounded-at-birth", PermissionsBoundary=f"arn:aws:iam::{ACCOUNT}:user/not-a-policy"))
    assert (code, status) == ("ValidationError", 400) and "PermissionsBoundary is invalid" in message


def _role(em, name: str, trust_principal) -> str:
    trust = policy({"Effect": "Allow", "Principal": trust_principal, "Action": "sts:AssumeRole"})
    return em.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]


def test_assume_role_needs_the_trust_policy(em, user):
    name, key, secret = user
    sts = em.client("sts", key, secret)
    em.client("iam").put_user_policy(UserName=name, PolicyName="assume-any", PolicyDocument=policy(
        allow("sts:AssumeRole")))
    # Trusted: the account (delegation) + the identity allow above.
    sts.assume_role(RoleArn=_role(em, f"{name}-acct", {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
                    RoleSessionName="lesson")
    # Not trusted: only a service may assume it, whatever the identity policy says.
    arn = _role(em, f"{name}-svc", {"Service": "sagemaker.amazonaws.com"})
    code, status, message = error_of(lambda: sts.assume_role(RoleArn=arn, RoleSessionName="lesson"))
    assert (code, status) == ("AccessDenied", 403) and "sts:AssumeRole" in message
    # A role that does not exist cannot be assumed.
    missing = f"arn:aws:iam::{ACCOUNT}:role/{name}-missing"
    assert error_of(lambda: sts.assume_role(RoleArn=missing, RoleSessionName="lesson"))[0] == "AccessDenied"


def test_trust_policy_naming_the_user_needs_no_identity_policy(em, user):
    name, key, secret = user
    arn = _role(em, f"{name}-direct", {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{name}"})
    em.client("sts", key, secret).assume_role(RoleArn=arn, RoleSessionName="lesson")
    # Naming only the account delegates: without an identity allow it is denied.
    acct = _role(em, f"{name}-delegated", {"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    code, _, message = error_of(lambda: em.client("sts", key, secret).assume_role(
        RoleArn=acct, RoleSessionName="lesson"))
    assert code == "AccessDenied" and "no identity-based policy allows" in message


def test_root_cannot_assume_roles(em):
    arn = _role(em, "svc-root-target", {"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    code, status, message = error_of(lambda: em.client("sts").assume_role(
        RoleArn=arn, RoleSessionName="lesson"))
    assert (code, status, message) == ("AccessDenied", 403, "Roles may not be assumed by root accounts.")


def test_creating_a_domain_needs_pass_role_on_the_execution_role(em, user):
    name, key, secret = user
    iam = em.client("iam")
    role = _role(em, f"{name}-exec", {"Service": "sagemaker.amazonaws.com"})
    iam.put_user_policy(UserName=name, PolicyName="sm", PolicyDocument=policy(
        allow(["sagemaker:CreateDomain", "sagemaker:DeleteDomain"])))
    sm = em.client("sagemaker", key, secret)
    args = dict(DomainName=f"{name}-domain", AuthMode="IAM", SubnetIds=["subnet-1"], VpcId="vpc-1",
                DefaultUserSettings={"ExecutionRole": role})
    code, status, message = error_of(lambda: sm.create_domain(**args))
    assert (code, status) == ("AccessDeniedException", 400)
    assert f"iam:PassRole on resource: \"{role}\"" in message
    iam.put_user_policy(UserName=name, PolicyName="pass", PolicyDocument=policy(allow(
        "iam:PassRole", role,
        Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}})))
    assert sm.create_domain(**args)["DomainArn"]


def test_presigned_url_is_decided_for_its_signer(em, user):
    import requests
    name, key, secret = user
    root = em.client("s3")
    root.create_bucket(Bucket=f"{name}-presign")
    root.put_object(Bucket=f"{name}-presign", Key="report.csv", Body=b"r")
    url = em.client("s3", key, secret).generate_presigned_url(
        "get_object", Params={"Bucket": f"{name}-presign", "Key": "report.csv"})
    proxies = {"https": em.proxy_url}
    denied = requests.get(url, proxies=proxies, verify=str(em.ca_bundle), timeout=30)
    assert denied.status_code == 403 and b"<Code>AccessDenied</Code>" in denied.content
    em.client("iam").put_user_policy(UserName=name, PolicyName="get", PolicyDocument=policy(
        allow("s3:GetObject", f"arn:aws:s3:::{name}-presign/*")))
    ok = requests.get(url, proxies=proxies, verify=str(em.ca_bundle), timeout=30)
    assert ok.status_code == 200 and ok.content == b"r"


@pytest.mark.parametrize("service, call, code, status", [
    ("s3", lambda c: c.list_buckets(), "SignatureDoesNotMatch", 403),
    ("iam", lambda c: c.list_users(), "SignatureDoesNotMatch", 403),
    ("ec2", lambda c: c.describe_instances(), "AuthFailure", 401),
    ("sagemaker", lambda c: c.list_domains(), "InvalidSignatureException", 400),
    ("lambda", lambda c: c.list_functions(), "InvalidSignatureException", 403),
])
def test_wrong_secret_key_is_refused(em, user, service, call, code, status):
    name, key, secret = user
    em.client("iam").put_user_policy(UserName=name, PolicyName="all", PolicyDocument=policy(
        allow(["s3:*", "iam:*", "ec2:*", "sagemaker:*", "lambda:*"])))
    call(em.client(service, key, secret))  # the right secret works
    wrong = em.client(service, key, secret[:-4] + "XXXX")
    assert error_of(lambda: call(wrong))[:2] == (code, status)


def test_wrong_root_secret_is_refused(em):
    s3 = em.client("s3", em.root.access_key_id, em.root.secret_access_key + "x")
    assert error_of(s3.list_buckets)[:2] == ("SignatureDoesNotMatch", 403)


def _studio(em, name: str):
    """A SageMaker domain (made by root) with user profiles NAME-own and NAME-other: its ID."""
    sm = em.client("sagemaker")
    role = _role(em, f"{name}-studio", {"Service": "sagemaker.amazonaws.com"})
    domain = sm.create_domain(DomainName=f"{name}-studio", AuthMode="IAM", SubnetIds=["subnet-1"],
                              VpcId="vpc-1", DefaultUserSettings={"ExecutionRole": role})
    domain_id = domain["DomainArn"].rsplit("/", 1)[1]
    for profile in ("own", "other"):
        sm.create_user_profile(DomainId=domain_id, UserProfileName=f"{name}-{profile}")
    return domain_id


def test_presigned_domain_url_only_on_own_user_profile(em, user):
    name, key, secret = user
    domain_id = _studio(em, name)
    own = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:user-profile/{domain_id}/{name}-own"
    em.client("iam").put_user_policy(UserName=name, PolicyName="studio", PolicyDocument=policy(
        allow("sagemaker:CreatePresignedDomainUrl", own),
        allow(["sagemaker:DescribeUserProfile", "sagemaker:DescribeDomain"],
              [own, f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:domain/{domain_id}"])))
    sm = em.client("sagemaker", key, secret)
    assert sm.create_presigned_domain_url(DomainId=domain_id,
                                          UserProfileName=f"{name}-own")["AuthorizedUrl"]
    assert sm.describe_user_profile(DomainId=domain_id,
                                    UserProfileName=f"{name}-own")["UserProfileArn"] == own
    assert sm.describe_domain(DomainId=domain_id)["DomainId"] == domain_id
    code, status, message = error_of(lambda: sm.create_presigned_domain_url(
        DomainId=domain_id, UserProfileName=f"{name}-other"))
    assert (code, status) == ("AccessDeniedException", 400)
    assert (f"sagemaker:CreatePresignedDomainUrl on resource: \"arn:aws:sagemaker:us-east-1:"
            f"{ACCOUNT}:user-profile/{domain_id}/{name}-other\"") in message
    code, _, _ = error_of(lambda: sm.describe_user_profile(DomainId=domain_id,
                                                           UserProfileName=f"{name}-other"))
    assert code == "AccessDeniedException"


def test_sagemaker_studio_resources_are_decided_on_their_arns(em, user):
    name, key, secret = user
    domain_id = _studio(em, name)
    prefix = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}"
    em.client("iam").put_user_policy(UserName=name, PolicyName="spaces", PolicyDocument=policy(
        allow(["sagemaker:CreateSpace", "sagemaker:DescribeSpace", "sagemaker:DeleteSpace"],
              f"{prefix}:space/{domain_id}/{name}-*"),
        allow(["sagemaker:CreateApp", "sagemaker:DescribeApp", "sagemaker:DeleteApp"],
              f"{prefix}:app/{domain_id}/{name}-own/*"),
        allow("sagemaker:ListApps")))
    sm = em.client("sagemaker", key, secret)
    sm.create_space(DomainId=domain_id, SpaceName=f"{name}-team")
    assert sm.describe_space(DomainId=domain_id, SpaceName=f"{name}-team")["SpaceName"]
    code, _, message = error_of(lambda: sm.create_space(DomainId=domain_id, SpaceName="shared"))
    assert code == "AccessDeniedException" and f'{prefix}:space/{domain_id}/shared"' in message
    app = dict(DomainId=domain_id, AppType="JupyterServer", AppName="default")
    sm.create_app(UserProfileName=f"{name}-own", **app)
    assert sm.describe_app(UserProfileName=f"{name}-own", **app)["AppName"] == "default"
    assert sm.list_apps(DomainIdEquals=domain_id)["Apps"]
    code, _, message = error_of(lambda: sm.create_app(UserProfileName=f"{name}-other", **app))
    assert code == "AccessDeniedException"
    assert f'{prefix}:app/{domain_id}/{name}-other/jupyterserver/default"' in message
    sm.delete_app(UserProfileName=f"{name}-own", **app)
    sm.delete_space(DomainId=domain_id, SpaceName=f"{name}-team")
    # Creating a domain cannot be limited to one (not yet existing) domain ID.
    em.client("iam").put_user_policy(UserName=name, PolicyName="domain", PolicyDocument=policy(
        allow("sagemaker:CreateDomain", f"{prefix}:domain/{domain_id}")))
    code, _, _ = error_of(lambda: sm.create_domain(
        DomainName=f"{name}-d2", AuthMode="IAM", SubnetIds=["subnet-1"], VpcId="vpc-1",
        DefaultUserSettings={}))
    assert code == "AccessDeniedException"
