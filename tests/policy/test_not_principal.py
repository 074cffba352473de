"""Exact NotPrincipal with Deny.

AWS documentation, "AWS JSON policy elements: NotPrincipal"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html):
a Deny with NotPrincipal denies every principal except the ones named; AWS checks the account
first, then (for an assumed-role user) the role, then the user or role session, so the account
ARN must be named too, and a role session is spared only when its assumed-role ARN (with the
role and the account) is named. Naming the account root spares the root user, not the account.
"""
from __future__ import annotations

import pytest

from labkit.policy import Request, evaluate
from tests.policy.helpers import ACCOUNT, OTHER, USER, allow, doc

RES = "arn:aws:s3:::b/k"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/analyst-role"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/analyst-role/alice-session"


def decide(principal, not_principal, account=ACCOUNT):
    deny = {"Effect": "Deny", "NotPrincipal": {"AWS": not_principal}, "Action": "s3:*",
            "Resource": RES}
    req = Request(principal, "s3:GetObject", RES, resource_account=account)
    return evaluate(req, [doc(allow())], ("bucket policy b", doc(deny)))


def test_user_and_account_named_spares_only_that_user():
    named = [USER, ROOT]
    assert decide(USER, named).allowed
    assert decide(ROOT, named).allowed                       # the root user is named too
    assert decide(BOB, named).decision == "explicit_deny"    # the account entry spares no one else
    assert decide(SESSION, named).decision == "explicit_deny"


def test_account_root_alone_spares_the_root_user_only():
    assert decide(ROOT, [ROOT]).allowed
    d = decide(USER, [ROOT])
    assert (d.decision, d.denied_by) == ("explicit_deny", "resource")


def test_user_without_its_account_is_denied():
    # "you must also specify the account ARN of the not-denied principal"
    assert decide(USER, [USER]).decision == "explicit_deny"
    assert decide(USER, [USER, f"{ACCOUNT}"]).allowed        # an account id is its root ARN


@pytest.mark.parametrize("named, spared", [
    ([ROLE, ROOT], False),                   # the role does not name its sessions here
    ([SESSION, ROOT], False),                # the role link of the chain is missing
    ([SESSION, ROLE, ROOT], True),           # the documented form
])
def test_role_session_needs_its_assumed_role_arn(named, spared):
    assert decide(SESSION, named).allowed is spared


def test_cross_account_principal_needs_its_own_account_named():
    foreign = f"arn:aws:iam::{OTHER}:user/carol"
    deny = {"Effect": "Deny", "NotPrincipal": {"AWS": [foreign, f"arn:aws:iam::{OTHER}:root"]},
            "Action": "s3:*", "Resource": RES}
    grant = {"Effect": "Allow", "Principal": {"AWS": foreign}, "Action": "s3:GetObject",
             "Resource": RES}
    req = Request(foreign, "s3:GetObject", RES, resource_account=ACCOUNT)
    assert evaluate(req, [doc(allow())], ("bucket policy b", doc(deny, grant))).allowed


def test_lint_flags_a_not_principal_without_its_account():
    from labkit.policy import lint

    def findings(*named):
        return [f.code for f in lint(doc({"Effect": "Deny", "NotPrincipal": {"AWS": list(named)},
                                          "Action": "s3:*", "Resource": RES})) if f.level != "advice"]

    assert findings(USER) == ["notprincipal-incomplete"]
    assert findings(USER, ROOT) == []
    assert findings(SESSION, ROOT) == ["notprincipal-incomplete"]     # the role is missing
    assert findings(SESSION, ROLE, ROOT) == []
