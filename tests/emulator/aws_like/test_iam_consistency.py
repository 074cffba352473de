"""aws-like mode: IAM is eventually consistent.

AWS IAM user guide, "Troubleshoot IAM" > "Changes that I make are not always
immediately visible": IAM replicates changes, so a new key or policy takes
seconds to work. A new key is refused as an unknown one is
(InvalidClientTokenId, "The security token included in the request is invalid.";
IAM API reference, Common errors).
"""
import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.emulator.aws_like.support import delay, until

READ_USERS = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]}


def _user_with_key(em, name):
    iam = em.client("iam")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key, em.client("iam", key["AccessKeyId"], key["SecretAccessKey"])


def _code(call):
    try:
        call()
        return "OK"
    except ClientError as exc:
        return exc.response["Error"]["Code"]


def test_a_new_access_key_is_refused_until_the_delay_has_passed(aws_like_em):
    created = time.monotonic()
    key, _ = _user_with_key(aws_like_em, "fresh-key")
    sts = aws_like_em.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as refused:
        sts.get_caller_identity()
    assert refused.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert refused.value.response["Error"]["Message"] == \
        "The security token included in the request is invalid."
    _, seen = until(lambda: _code(sts.get_caller_identity), "OK")
    assert seen == ["InvalidClientTokenId", "OK"]
    assert time.monotonic() - created >= delay()


def test_s3_refuses_a_new_key_as_it_refuses_an_unknown_one(aws_like_em):
    key, _ = _user_with_key(aws_like_em, "fresh-s3-key")
    s3 = aws_like_em.client("s3", key["AccessKeyId"], key["SecretAccessKey"])
    assert _code(s3.list_buckets) == "InvalidAccessKeyId"


def test_a_new_policy_is_not_yet_in_force(aws_like_em):
    key, iam = _user_with_key(aws_like_em, "new-policy")
    until(lambda: _code(iam.list_users), "AccessDenied")  # the key works, with no policy
    aws_like_em.client("iam").put_user_policy(UserName="new-policy", PolicyName="read",
                                              PolicyDocument=json.dumps(READ_USERS))
    changed = time.monotonic()
    assert _code(iam.list_users) == "AccessDenied"
    _, seen = until(lambda: _code(iam.list_users), "OK")
    assert seen == ["AccessDenied", "OK"]
    assert time.monotonic() - changed >= delay() - 0.3


def test_a_removed_policy_still_applies_for_a_while(aws_like_em):
    key, iam = _user_with_key(aws_like_em, "old-policy")
    admin = aws_like_em.client("iam")
    admin.put_user_policy(UserName="old-policy", PolicyName="read", PolicyDocument=json.dumps(READ_USERS))
    until(lambda: _code(iam.list_users), "OK")
    admin.delete_user_policy(UserName="old-policy", PolicyName="read")
    assert _code(iam.list_users) == "OK"  # AWS may still allow it for seconds
    _, seen = until(lambda: _code(iam.list_users), "AccessDenied")
    assert seen == ["OK", "AccessDenied"]


def test_a_group_membership_takes_effect_late(aws_like_em):
    key, iam = _user_with_key(aws_like_em, "joiner")
    admin = aws_like_em.client("iam")
    admin.create_group(GroupName="readers")
    admin.put_group_policy(GroupName="readers", PolicyName="read", PolicyDocument=json.dumps(READ_USERS))
    until(lambda: _code(iam.list_users), "AccessDenied")
    admin.add_user_to_group(GroupName="readers", UserName="joiner")
    assert _code(iam.list_users) == "AccessDenied"
    until(lambda: _code(iam.list_users), "OK")


def test_the_lab_root_is_never_delayed(aws_like_em):
    assert aws_like_em.client("sts").get_caller_identity()["Arn"].endswith(":root")
