"""IAM's policy size quotas (IAM user guide, "IAM and AWS STS quotas", character limits):
inline policies per user 2,048, per group 5,120, per role 10,240 characters together;
a managed policy 6,144; white space is not counted; over a quota, LimitExceeded and no
change."""
import json

import pytest
from botocore.exceptions import ClientError

from labkit.emulator.services.iam import quotas


def _policy(padding: int) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::quota-bucket/" + "k" * padding}]}, indent=4)


def _sized(target: int) -> str:
    base = quotas.size(_policy(0))
    return _policy(target - base)


def test_white_space_is_not_counted():
    compact = json.dumps(json.loads(_policy(10)), separators=(",", ":"))
    assert quotas.size(_policy(10)) == len(compact.replace(" ", ""))


def test_a_users_inline_policies_together_stop_at_2048(em):
    iam = em.client("iam")
    iam.create_user(UserName="quota-user")
    iam.put_user_policy(UserName="quota-user", PolicyName="a", PolicyDocument=_sized(1500))
    iam.put_user_policy(UserName="quota-user", PolicyName="a", PolicyDocument=_sized(2048))
    with pytest.raises(ClientError) as refused:
        iam.put_user_policy(UserName="quota-user", PolicyName="b", PolicyDocument=_sized(100))
    error = refused.value.response["Error"]
    assert error["Code"] == "LimitExceeded"
    assert error["Message"] == "Maximum policy size of 2048 bytes exceeded for user quota-user"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert iam.list_user_policies(UserName="quota-user")["PolicyNames"] == ["a"]


@pytest.mark.parametrize("kind,limit", [("group", 5120), ("role", 10240)])
def test_groups_and_roles_have_their_own_quota(em, kind, limit):
    iam = em.client("iam")
    name = f"quota-{kind}"
    if kind == "group":
        iam.create_group(GroupName=name)
        put = lambda doc: iam.put_group_policy(GroupName=name, PolicyName="p", PolicyDocument=doc)
    else:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "ec2.amazonaws.com"}}]}))
        put = lambda doc: iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=doc)
    put(_sized(limit))
    with pytest.raises(ClientError) as refused:
        put(_sized(limit + 1))
    assert refused.value.response["Error"]["Message"] == (
        f"Maximum policy size of {limit} bytes exceeded for {kind} {name}")


def test_a_managed_policy_stops_at_6144(em):
    iam = em.client("iam")
    iam.create_policy(PolicyName="quota-managed", PolicyDocument=_sized(6144))
    with pytest.raises(ClientError) as refused:
        iam.create_policy(PolicyName="quota-managed-big", PolicyDocument=_sized(6145))
    assert refused.value.response["Error"]["Code"] == "LimitExceeded"
    assert "6144" in refused.value.response["Error"]["Message"]
    names = [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]]
    assert "quota-managed-big" not in names


def test_a_caller_without_permission_is_denied_before_any_quota(em):
    iam = em.client("iam")
    iam.create_user(UserName="quota-nobody")
    key = iam.create_access_key(UserName="quota-nobody")["AccessKey"]
    other = em.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as refused:
        other.put_user_policy(UserName="quota-nobody", PolicyName="p",
                              PolicyDocument=_sized(5000))
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_deleting_what_is_still_in_use_is_a_delete_conflict(em):
    """IAM API reference, DeleteUser and DeleteGroup: what the entity holds goes first."""
    iam = em.client("iam")
    iam.create_user(UserName="conflict-user")
    iam.create_group(GroupName="conflict-group")
    iam.add_user_to_group(GroupName="conflict-group", UserName="conflict-user")
    with pytest.raises(ClientError) as refused:
        iam.delete_group(GroupName="conflict-group")
    assert refused.value.response["Error"] == {
        "Code": "DeleteConflict", "Message": "Cannot delete entity, must remove users from "
        "group first.", "Type": "Sender"}
    key = iam.create_access_key(UserName="conflict-user")["AccessKey"]["AccessKeyId"]
    iam.put_user_policy(UserName="conflict-user", PolicyName="p", PolicyDocument=_sized(100))
    with pytest.raises(ClientError) as refused:
        iam.delete_user(UserName="conflict-user")
    assert refused.value.response["Error"]["Message"] == (
        "Cannot delete entity, must delete access keys first.")
    iam.delete_access_key(UserName="conflict-user", AccessKeyId=key)
    with pytest.raises(ClientError) as refused:
        iam.delete_user(UserName="conflict-user")
    assert "must delete policies first" in refused.value.response["Error"]["Message"]
    iam.delete_user_policy(UserName="conflict-user", PolicyName="p")
    iam.remove_user_from_group(GroupName="conflict-group", UserName="conflict-user")
    iam.delete_group(GroupName="conflict-group")
    iam.delete_user(UserName="conflict-user")
