"""Condition operators, one row per rule of the AWS condition operators reference."""
from __future__ import annotations

import base64

import pytest

from tests.policy.helpers import cond

IP = "aws:SourceIp"
B64 = base64.b64encode(b"secret").decode()

CASES = [
    # (condition, context, holds)
    # String
    ({"StringEquals": {"aws:username": "bob"}}, {"aws:username": "bob"}, True),
    ({"StringEquals": {"aws:username": "bob"}}, {"aws:username": "Bob"}, False),
    ({"StringEquals": {"aws:username": "bob"}}, {}, False),  # missing key: positive op false
    ({"StringEquals": {"AWS:UserName": "bob"}}, {"aws:USERNAME": "bob"}, True),  # keys ignore case
    ({"StringEquals": {"aws:username": ["a", "bob"]}}, {"aws:username": "bob"}, True),  # values OR
    ({"StringNotEquals": {"aws:username": ["a", "b"]}}, {"aws:username": "c"}, True),
    ({"StringNotEquals": {"aws:username": ["a", "b"]}}, {"aws:username": "b"}, False),  # NOR
    ({"StringNotEquals": {"aws:username": "a"}}, {}, True),  # missing key: negated op true
    ({"StringEqualsIgnoreCase": {"aws:username": "BOB"}}, {"aws:username": "bob"}, True),
    ({"StringNotEqualsIgnoreCase": {"aws:username": "BOB"}}, {"aws:username": "bob"}, False),
    ({"StringLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/bob/"}, True),
    ({"StringLike": {"s3:prefix": "home/?"}}, {"s3:prefix": "home/ab"}, False),
    ({"StringLike": {"s3:prefix": "Home/*"}}, {"s3:prefix": "home/x"}, False),  # case-sensitive
    ({"StringNotLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "tmp/"}, True),
    ({"StringEquals": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/x"}, False),  # no wildcards
    # Numeric
    ({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, True),
    ({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, False),
    ({"NumericGreaterThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "11"}, True),
    ({"NumericGreaterThanEquals": {"s3:max-keys": 10}}, {"s3:max-keys": "9.5"}, False),
    ({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10.0"}, True),
    ({"NumericNotEquals": {"s3:max-keys": ["1", "2"]}}, {"s3:max-keys": "3"}, True),
    ({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "ten"}, False),  # wrong type
    # Date (ISO 8601 and epoch)
    ({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
     {"aws:CurrentTime": "2029-12-31T23:59:59Z"}, True),
    ({"DateGreaterThan": {"aws:CurrentTime": "2030-01-01"}}, {"aws:CurrentTime": "2029-06-01T00:00:00Z"},
     False),
    ({"DateEquals": {"aws:EpochTime": "1700000000"}}, {"aws:EpochTime": "2023-11-14T22:13:20Z"}, True),
    ({"DateNotEquals": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
     {"aws:CurrentTime": "2020-01-01T00:00:00+00:00"}, False),
    ({"DateLessThanEquals": {"aws:CurrentTime": "2999-01-01T00:00:00Z"}}, {}, True),  # default now
    ({"DateGreaterThanEquals": {"aws:CurrentTime": "2000-01-01T00:00:00Z"}}, {}, True),
    # Bool
    ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "false"}, True),
    ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "true"}, False),
    ({"Bool": {"aws:SecureTransport": False}}, {"aws:SecureTransport": "FALSE"}, True),
    ({"Bool": {"aws:SecureTransport": "false"}}, {}, False),
    ({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, {}, True),
    # Binary
    ({"BinaryEquals": {"key": B64}}, {"key": B64}, True),
    ({"BinaryEquals": {"key": B64}}, {"key": base64.b64encode(b"other").decode()}, False),
    # IP (IPv4 and IPv6, CIDR)
    ({"IpAddress": {IP: "203.0.113.0/24"}}, {IP: "203.0.113.7"}, True),
    ({"IpAddress": {IP: "203.0.113.0/24"}}, {IP: "198.51.100.7"}, False),
    ({"IpAddress": {IP: ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}},
     {IP: "2001:db8:1234:5678::1"}, True),
    ({"IpAddress": {IP: "203.0.113.5"}}, {IP: "203.0.113.5"}, True),
    ({"NotIpAddress": {IP: ["203.0.113.0/24", "198.51.100.0/24"]}}, {IP: "192.0.2.1"}, True),
    ({"NotIpAddress": {IP: ["203.0.113.0/24", "198.51.100.0/24"]}}, {IP: "198.51.100.9"}, False),
    ({"IpAddress": {IP: "0.0.0.0/0"}}, {IP: "::1"}, False),  # families never mix
    # ARN
    ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::bucket-*"}}, {"aws:SourceArn": "arn:aws:s3:::bucket-1"},
     True),
    ({"ArnEquals": {"aws:SourceArn": "arn:aws:sns:*:123456789012:topic"}},
     {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:topic"}, True),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:topic"}},
     {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:topic"}, False),  # per segment
    ({"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:user/alice"}}, {}, False),
    ({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::x*"}}, {}, True),
    # Null
    ({"Null": {"s3:x-amz-server-side-encryption": "true"}}, {}, True),
    ({"Null": {"s3:x-amz-server-side-encryption": "true"}},
     {"s3:x-amz-server-side-encryption": "AES256"}, False),
    ({"Null": {"s3:x-amz-server-side-encryption": "false"}},
     {"s3:x-amz-server-side-encryption": "AES256"}, True),
    # ...IfExists
    ({"StringEqualsIfExists": {"ec2:InstanceType": "t3.micro"}}, {}, True),
    ({"StringEqualsIfExists": {"ec2:InstanceType": "t3.micro"}}, {"ec2:InstanceType": "m5.large"},
     False),
    ({"NumericLessThanIfExists": {"s3:max-keys": "5"}}, {"s3:max-keys": "4"}, True),
    # Set operators
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["a"]}, True),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["a", "c"]}, False),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, {}, True),  # missing: vacuously true
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": []}, True),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["x", "a"]}, True),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {}, False),  # missing: false
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": []}, False),
    ({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["c", "d"]}, True),
    ({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["c", "a"]}, False),
    ({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["a", "z"]}, True),
    ({"ForAnyValue:StringLike": {"aws:TagKeys": "env*"}}, {"aws:TagKeys": ["owner", "envname"]}, True),
    # a plain operator on a multivalued key matches if any value matches
    ({"StringEquals": {"aws:TagKeys": "a"}}, {"aws:TagKeys": ["b", "a"]}, True),
    # several keys are ANDed, several operators are ANDed
    ({"StringEquals": {"aws:username": "bob", "s3:prefix": "home/"}},
     {"aws:username": "bob", "s3:prefix": "tmp/"}, False),
    ({"StringEquals": {"aws:username": "bob"}, "Bool": {"aws:SecureTransport": "true"}},
     {"aws:username": "bob", "aws:SecureTransport": "true"}, True),
    ({"StringEquals": {"aws:username": "bob"}, "Bool": {"aws:SecureTransport": "true"}},
     {"aws:username": "bob"}, False),
]


@pytest.mark.parametrize("condition,context,holds", CASES)
def test_condition(condition, context, holds):
    assert cond(condition, context) is holds


@pytest.mark.parametrize("condition,context,holds", CASES[:12])
def test_condition_in_deny(condition, context, holds):
    assert cond(condition, context, effect="Deny") is holds
