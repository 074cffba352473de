"""Policy elements: Version, Statement, Action/NotAction, Resource/NotResource, wildcards."""
from __future__ import annotations

import json

import pytest

from labkit.policy import Request, evaluate
from tests.policy.helpers import allow, decide, deny, doc


def test_statement_may_be_a_single_object():
    policy = {"Version": "2012-10-17", "Statement": allow()}
    assert decide(policy) == "allowed"


def test_json_text_and_old_version_are_accepted():
    text = json.dumps({"Version": "2008-10-17", "Statement": [allow()]})
    assert decide(text) == "allowed"


@pytest.mark.parametrize("pattern,action,want", [
    ("s3:GetObject", "s3:GetObject", "allowed"),
    ("s3:getobject", "S3:GETOBJECT", "allowed"),          # actions are case-insensitive
    ("s3:Get*", "s3:GetObjectAcl", "allowed"),
    ("s3:Get*", "s3:PutObject", "implicit_deny"),
    ("s3:*Object", "s3:DeleteObject", "allowed"),
    ("s3:?etObject", "s3:GetObject", "allowed"),
    ("s3:?etObject", "s3:GetObjects", "implicit_deny"),
    ("*", "ec2:RunInstances", "allowed"),
    ("iam:*", "s3:GetObject", "implicit_deny"),
])
def test_action_wildcards(pattern, action, want):
    assert decide(doc(allow(pattern)), action=action) == want


@pytest.mark.parametrize("pattern,resource,want", [
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b/a/deep/key", "allowed"),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::B/key", "implicit_deny"),   # ARNs are case-sensitive
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b", "implicit_deny"),
    ("arn:aws:s3:::b?/k", "arn:aws:s3:::b1/k", "allowed"),
    ("arn:aws:s3:::b", "arn:aws:s3:::b", "allowed"),
    ("arn:aws:s3:*:123456789012:accesspoint/ap", "arn:aws:s3:us-east-1:123456789012:accesspoint/ap",
     "allowed"),
    # a wildcard in the region segment does not eat the account segment
    ("arn:aws:s3:*:accesspoint/ap", "arn:aws:s3:us-east-1:123456789012:accesspoint/ap",
     "implicit_deny"),
    ("arn:aws:sqs:*:*:queue*", "arn:aws:sqs:us-east-1:123456789012:queue-1", "allowed"),
    ("arn:aws:s3:::b/a:*", "arn:aws:s3:::b/a:b:c", "allowed"),  # colons in the resource part
])
def test_resource_wildcards(pattern, resource, want):
    assert decide(doc(allow(resource=pattern)), resource=resource) == want


def test_not_action_allow_covers_everything_else():
    # AWS docs example: NotAction with Allow grants every action not listed.
    policy = doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert decide(policy, action="s3:PutObject") == "allowed"
    assert decide(policy, action="iam:CreateUser", resource="*") == "implicit_deny"


def test_not_resource_in_deny_denies_all_other_resources():
    # The moto bug from notes/moto-fidelity.md: NotResource in a Deny must not act as Allow.
    policy = doc(allow("s3:*"),
                 {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::ok/*"]})
    assert decide(policy, resource="arn:aws:s3:::ok/x") == "allowed"
    assert decide(policy, resource="arn:aws:s3:::other/x") == "explicit_deny"


def test_not_resource_allow():
    policy = doc({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"})
    assert decide(policy, resource="arn:aws:s3:::public/x") == "allowed"
    assert decide(policy, resource="arn:aws:s3:::secret/x") == "implicit_deny"


def test_reasons_use_sid_or_index():
    d = evaluate(Request("arn:aws:iam::123456789012:user/a", "s3:GetObject", "arn:aws:s3:::b/k"),
                 [("mine", doc(allow("s3:PutObject"), allow()))])
    assert [str(r) for r in d.reasons] == ["mine/Statement[1] (Allow)"]
    d = evaluate(Request("arn:aws:iam::123456789012:user/a", "s3:GetObject", "arn:aws:s3:::b/k"),
                 [doc(deny(Sid="NoGet"))])
    assert [str(r) for r in d.reasons] == ["identity policy 1/Sid NoGet (Deny)"]
    assert d.reasons[0].policy == "identity policy 1" and d.reasons[0].effect == "Deny"


def test_dict_cache_notices_mutation():
    policy = doc(allow())
    assert decide(policy) == "allowed"
    policy["Statement"][0]["Effect"] = "Deny"
    assert decide(policy) == "explicit_deny"


def test_equal_dicts_share_one_parse():
    from labkit.policy import clear_cache, parse_policy
    clear_cache()
    a = parse_policy(doc(allow()), "p")
    b = parse_policy(doc(allow()), "p")      # a new dict with the same content
    assert a.statements is b.statements
