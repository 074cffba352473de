"""Any input: parse, evaluate and lint either work or raise PolicyError, never a traceback."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.policy import PolicyError, Request, evaluate, lint, parse_policy

KEYS = ["Version", "Statement", "Id", "Sid", "Effect", "Action", "NotAction", "Resource",
        "NotResource", "Principal", "NotPrincipal", "Condition", "AWS", "Service",
        "StringEquals", "StringLike", "ForAllValues:StringEquals", "NumericLessThan",
        "DateLessThan", "IpAddress", "Null", "BoolIfExists", "aws:SourceIp", "aws:username"]
STRINGS = ["2012-10-17", "2008-10-17", "Allow", "Deny", "*", "s3:GetObject", "s3:*",
           "arn:aws:s3:::b/*", "arn:aws:s3:::b/${aws:username}/*", "123456789012",
           "arn:aws:iam::123456789012:user/a", "10.0.0.0/8", "true", "2020-01-01", "x", ""]

scalars = st.one_of(st.sampled_from(STRINGS), st.integers(), st.booleans(), st.none(),
                    st.floats(allow_nan=True))
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
    max_leaves=12)
statement = st.dictionaries(st.sampled_from(KEYS), json_like, max_size=6)
document = st.one_of(
    json_like,
    st.fixed_dictionaries({"Version": st.sampled_from(STRINGS),
                           "Statement": st.one_of(statement, st.lists(statement, max_size=3))}))


@settings(max_examples=150, deadline=None)
@given(document, st.sampled_from(["identity", "resource", "boundary", "trust"]))
def test_parse_never_crashes(doc, kind):
    try:
        parse_policy(doc, "fuzz", kind)
    except PolicyError as exc:
        assert str(exc).startswith("fuzz: ")


@settings(max_examples=100, deadline=None)
@given(document)
def test_evaluate_and_lint_never_crash(doc):
    req = Request("arn:aws:iam::123456789012:user/a", "s3:GetObject", "arn:aws:s3:::b/a/k",
                  {"aws:SourceIp": "10.1.2.3", "aws:TagKeys": ["x"]})
    for kwargs in ({"identity_policies": [doc]}, {"resource_policy": doc}):
        try:
            evaluate(req, **kwargs)
        except PolicyError:
            pass
    findings = lint(json.dumps(doc, default=str))
    assert all(f.level in ("error", "warning", "advice") for f in findings)
