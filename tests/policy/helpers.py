"""Small builders shared by the policy tests."""
from __future__ import annotations

from labkit.config import EMULATOR_ACCOUNT_ID
from labkit.policy import Request, evaluate

ACCOUNT = EMULATOR_ACCOUNT_ID
OTHER = "111122223333"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"


def doc(*statements, version="2012-10-17"):
    """A policy document of STATEMENTS."""
    return {"Version": version, "Statement": list(statements)}


def allow(action="s3:GetObject", resource="*", **extra):
    return dict({"Effect": "Allow", "Action": action, "Resource": resource}, **extra)


def deny(action="s3:GetObject", resource="*", **extra):
    return dict({"Effect": "Deny", "Action": action, "Resource": resource}, **extra)


def decide(policy, action="s3:GetObject", resource="arn:aws:s3:::b/k", context=None,
           principal=USER, **kw):
    """The decision string for one identity policy."""
    req = Request(principal, action, resource, context, kw.pop("resource_account", None))
    return evaluate(req, [policy] if policy is not None else [], **kw).decision


def cond(condition, context, effect="Allow"):
    """True if a statement with CONDITION applies to a request with CONTEXT."""
    st = {"Effect": effect, "Action": "s3:GetObject", "Resource": "*", "Condition": condition}
    return decide(doc(st), context=context) == ("allowed" if effect == "Allow" else "explicit_deny")
