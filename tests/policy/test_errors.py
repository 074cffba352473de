"""Malformed policies raise PolicyError naming the statement and field, never a traceback."""
from __future__ import annotations

import pytest

from labkit.policy import PolicyError, Request, evaluate, parse_policy
from tests.policy.helpers import USER, allow, doc


@pytest.mark.parametrize("bad,field,words", [
    ("{not json", "document", "not valid JSON"),
    ([1, 2], "document", "JSON object"),
    ({"Version": "2012-10-17"}, "Statement", "no Statement"),
    ({"Version": "2020-01-01", "Statement": [allow()]}, "Version", "2012-10-17"),
    (doc({"Effect": "Permit", "Action": "s3:*", "Resource": "*"}), "Effect", "Allow"),
    (doc({"Effect": "Allow", "Resource": "*"}), "Action", "needs Action"),
    (doc({"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"}),
     "Action", "not both"),
    (doc({"Effect": "Allow", "Action": "GetObject", "Resource": "*"}), "Action", "service:Action"),
    (doc({"Effect": "Allow", "Action": "s3:*"}), "Resource", "needs Resource"),
    (doc({"Effect": "Allow", "Action": "s3:*", "Resource": "bucket/*"}), "Resource", "ARN"),
    (doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"}), "Principal",
     "must not name a principal"),
    (doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Bogus": 1}), "Bogus", "unknown"),
    (doc(allow(Condition={"StringEqualz": {"aws:username": "a"}})), "Condition",
     "unknown condition operator"),
    (doc(allow(Condition={"stringequals": {"aws:username": "a"}})), "Condition",
     "did you mean 'StringEquals'"),
    (doc(allow(Condition={"NumericLessThan": {"s3:max-keys": "ten"}})), "Condition", "Numeric"),
    (doc(allow(Condition={"IpAddress": {"aws:SourceIp": "300.1.1.1/8"}})), "Condition", "Ip"),
    (doc(allow(Condition={"DateLessThan": {"aws:CurrentTime": "yesterday"}})), "Condition", "Date"),
    (doc(allow(Condition={"Bool": {"aws:SecureTransport": "yes"}})), "Condition", "true or false"),
    (doc(allow(Condition={"NullIfExists": {"aws:username": "true"}})), "Condition", "IfExists"),
    (doc(allow(Condition={"ForSomeValues:StringLike": {"k": "v"}})), "Condition", "set operator"),
    (doc(allow(Sid="A"), allow(Sid="A")), "Sid", "unique"),
    (doc(allow(Action=[])), "Action", "empty"),
])
def test_malformed_policy(bad, field, words):
    with pytest.raises(PolicyError) as info:
        evaluate(Request(USER, "s3:GetObject", "arn:aws:s3:::b/k"), [("mine", bad)])
    err = info.value
    assert err.field == field, str(err)
    assert words in str(err)
    assert str(err).startswith("mine: ")


def test_error_names_the_statement():
    bad = doc(allow(Sid="Good"), {"Sid": "Broken", "Effect": "Allow", "Action": "s3:*"})
    with pytest.raises(PolicyError) as info:
        parse_policy(bad, "p")
    assert info.value.statement == "Sid Broken"
    assert "Statement[1] (Sid Broken)" in str(info.value)


def test_resource_policy_requires_principal():
    with pytest.raises(PolicyError) as info:
        parse_policy(doc(allow()), "bucket", kind="resource")
    assert info.value.field == "Principal"


def test_wildcard_principal_arn_rejected():
    with pytest.raises(PolicyError, match="wildcards are not allowed"):
        parse_policy(doc(allow(Principal={"AWS": "arn:aws:iam::123456789012:user/*"})), kind="resource")


def test_bad_request_is_a_clear_error():
    with pytest.raises(ValueError, match="service:Action"):
        Request(USER, "GetObject", "arn:aws:s3:::b")
    with pytest.raises(ValueError, match="principal"):
        Request("alice", "s3:GetObject", "arn:aws:s3:::b")
    with pytest.raises(TypeError, match="string or a list"):
        evaluate(Request(USER, "s3:GetObject", "arn:aws:s3:::b", {"k": {"x": 1}}), [doc(allow())])
