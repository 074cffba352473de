"""The evaluation logic: deny wins, same account, boundaries, sessions, cross-account, root,
anonymous and service callers (AWS "policy evaluation logic")."""
from __future__ import annotations

import pytest

from labkit.policy import ANONYMOUS, Request, evaluate
from tests.policy.helpers import ACCOUNT, OTHER, USER, allow, deny, doc

RES = "arn:aws:s3:::b/k"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/analyst-role"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/analyst-role/alice-session"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
FOREIGN = f"arn:aws:iam::{OTHER}:user/carol"


def bucket(*statements):
    return ("bucket policy b", doc(*statements))


def grant(principal, effect="Allow", action="s3:GetObject", **extra):
    return dict({"Effect": effect, "Principal": principal, "Action": action, "Resource": RES}, **extra)


def run(principal=USER, identity=(), resource=None, boundary=None, session=None, **kw):
    req = Request(principal, kw.pop("action", "s3:GetObject"), RES, kw.pop("context", None),
                  kw.pop("resource_account", None))
    return evaluate(req, identity, resource, boundary, session)


def test_no_policy_is_implicit_deny():
    d = run()
    assert (d.decision, d.allowed, d.denied_by) == ("implicit_deny", False, "identity")


def test_explicit_deny_in_identity_beats_allow_everywhere():
    d = run(identity=[doc(allow()), doc(deny())], resource=bucket(grant({"AWS": USER})))
    assert d.decision == "explicit_deny" and d.denied_by == "identity"
    assert str(d).endswith("with an explicit deny in an identity-based policy")


def test_explicit_deny_in_resource_policy():
    d = run(identity=[doc(allow())], resource=bucket(grant("*", "Deny")))
    assert (d.decision, d.denied_by) == ("explicit_deny", "resource")


def test_same_account_resource_policy_alone_allows_named_user():
    d = run(resource=bucket(grant({"AWS": USER})))
    assert d.allowed and [str(r) for r in d.reasons] == ["bucket policy b/Statement[0] (Allow)"]


def test_same_account_identity_alone_allows():
    assert run(identity=[doc(allow())], resource=bucket(grant({"AWS": FOREIGN}))).allowed


def test_account_principal_only_delegates():
    # Naming the account (root) in a resource policy does not itself grant an IAM user access.
    d = run(resource=bucket(grant({"AWS": ACCOUNT})))
    assert d.decision == "implicit_deny"
    assert run(principal=ROOT, resource=bucket(grant({"AWS": ACCOUNT}))).allowed


def test_permissions_boundary_limits_identity_allows():
    boundary = doc(allow("s3:ListBucket"))
    d = run(identity=[doc(allow("s3:*"))], boundary=boundary)
    assert (d.decision, d.denied_by) == ("implicit_deny", "boundary")
    assert "because no permissions boundary allows the s3:GetObject action" in str(d)
    d = run(identity=[doc(allow("s3:*"))], boundary=doc(allow("s3:Get*")))
    assert d.allowed


def test_boundary_alone_grants_nothing():
    assert run(boundary=doc(allow("s3:*"))).decision == "implicit_deny"


def test_explicit_deny_in_boundary():
    d = run(identity=[doc(allow())], boundary=doc(allow("s3:*"), deny()))
    assert (d.decision, d.denied_by) == ("explicit_deny", "boundary")
    assert str(d).endswith("with an explicit deny in a permissions boundary")


def test_boundary_does_not_limit_resource_policy_naming_the_user():
    d = run(resource=bucket(grant({"AWS": USER})), boundary=doc(allow("ec2:*")))
    assert d.allowed


def test_boundary_limits_resource_policy_naming_the_role():
    # AWS docs: a resource policy naming the role ARN is limited by the role's boundary;
    # one naming the role session ARN is not.
    limited = run(SESSION, resource=bucket(grant({"AWS": ROLE})), boundary=doc(allow("ec2:*")))
    assert limited.decision == "implicit_deny"
    assert run(SESSION, resource=bucket(grant({"AWS": ROLE}))).allowed
    assert run(SESSION, resource=bucket(grant({"AWS": SESSION})), boundary=doc(allow("ec2:*"))).allowed


def test_role_principal_matches_its_sessions_only():
    other_session = f"arn:aws:sts::{ACCOUNT}:assumed-role/other-role/alice-session"
    assert run(other_session, resource=bucket(grant({"AWS": ROLE}))).decision == "implicit_deny"
    with_path = f"arn:aws:iam::{ACCOUNT}:role/team/analyst-role"
    assert run(SESSION, resource=bucket(grant({"AWS": with_path}))).allowed


def test_session_policy_limits_identity_allows():
    d = run(SESSION, identity=[doc(allow("s3:*"))], session=doc(allow("s3:ListBucket")))
    assert (d.decision, d.denied_by) == ("implicit_deny", "session")
    assert run(SESSION, identity=[doc(allow("s3:*"))], session=doc(allow())).allowed


def test_cross_account_needs_both_sides():
    cross = dict(principal=FOREIGN, resource_account=ACCOUNT)
    only_identity = run(identity=[doc(allow())], **cross)
    assert (only_identity.decision, only_identity.denied_by) == ("implicit_deny", "resource")
    assert "because no resource-based policy allows" in str(only_identity)
    only_resource = run(resource=bucket(grant({"AWS": FOREIGN})), **cross)
    assert (only_resource.decision, only_resource.denied_by) == ("implicit_deny", "identity")
    both = run(identity=[doc(allow())], resource=bucket(grant({"AWS": FOREIGN})), **cross)
    assert both.allowed and len(both.reasons) == 2
    account = run(identity=[doc(allow())], resource=bucket(grant({"AWS": OTHER})), **cross)
    assert account.allowed  # trusting the account delegates to its IAM


def test_root_needs_no_identity_policy_but_obeys_resource_denies():
    d = run(ROOT)
    assert d.allowed and str(d.reasons[0]) == f"root user/account {ACCOUNT} (Allow)"
    assert run(ROOT, resource=bucket(grant("*", "Deny"))).decision == "explicit_deny"
    assert run(ROOT, boundary=doc(allow("ec2:*"))).allowed  # boundaries do not apply to root
    assert run(f"arn:aws:iam::{OTHER}:root", resource_account=ACCOUNT).decision == "implicit_deny"


def test_anonymous_needs_public_resource_policy():
    assert run(ANONYMOUS, identity=[doc(allow())]).decision == "implicit_deny"
    d = run(ANONYMOUS, resource=bucket(grant("*")))
    assert d.allowed and str(d).startswith("Allowed: User: anonymous")
    assert run(ANONYMOUS, resource=bucket(grant({"AWS": "*"}))).allowed
    d = run(ANONYMOUS, resource=bucket(grant({"AWS": USER})))
    assert (d.decision, d.denied_by) == ("implicit_deny", "resource")
    assert str(d).startswith("User: anonymous is not authorized")


def test_service_principal():
    svc = "cloudtrail.amazonaws.com"
    assert run(svc, resource=bucket(grant({"Service": svc}))).allowed
    assert run(svc, resource=bucket(grant({"Service": "ec2.amazonaws.com"}))).decision == \
        "implicit_deny"


def test_not_principal_deny_spares_the_named():
    # AWS JSON policy elements: NotPrincipal: name the spared user AND its account.
    st = {"Effect": "Deny", "NotPrincipal": {"AWS": [USER, ROOT]}, "Action": "s3:*",
          "Resource": RES}
    assert run(identity=[doc(allow())], resource=bucket(st)).allowed
    other = f"arn:aws:iam::{ACCOUNT}:user/bob"
    assert run(other, identity=[doc(allow())], resource=bucket(st)).decision == "explicit_deny"


def test_principal_condition_keys_are_derived():
    st = grant("*", Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT,
                                                 "aws:PrincipalType": "User",
                                                 "aws:username": "alice"}})
    assert run(resource=bucket(st)).allowed
    st = grant("*", Condition={"ArnEquals": {"aws:PrincipalArn": ROLE}})
    assert run(SESSION, resource=bucket(st)).allowed  # PrincipalArn of a session is its role


def test_allowed_message_names_the_statement():
    d = run(identity=[("engineer_access", doc(allow(Sid="X")))])
    assert str(d) == (f"Allowed: User: {USER} may perform: s3:GetObject on resource: \"{RES}\" "
                      f"by engineer_access/Sid X (Allow)")


def test_decision_exposes_request():
    d = run()
    assert d.request.action == "s3:GetObject" and d.request.resource == RES


@pytest.mark.parametrize("identity", [[doc(allow())], [("named", doc(allow()))],
                                      ['{"Version":"2012-10-17","Statement":'
                                       '{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}']])
def test_identity_policy_forms(identity):
    assert run(identity=identity).allowed


def test_single_named_identity_policy_without_list():
    d = run(identity=("solo", doc(allow(Sid="S"))))
    assert d.allowed and str(d.reasons[0]) == "solo/Sid S (Allow)"


def test_not_principal_deny_always_denies_a_bounded_principal():
    # AWS docs (permissions boundaries): a Deny with NotPrincipal denies every principal that
    # has a permissions boundary, whatever NotPrincipal names.
    st = {"Effect": "Deny", "NotPrincipal": {"AWS": USER}, "Action": "s3:*", "Resource": RES}
    d = run(identity=[doc(allow())], resource=bucket(st), boundary=doc(allow("s3:*")))
    assert (d.decision, d.denied_by) == ("explicit_deny", "resource")


def test_role_trust_policy_as_resource_policy():
    from labkit.policy import parse_policy
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/analyst-role"
    trust = parse_policy(doc({"Effect": "Allow", "Principal": {"AWS": OTHER},
                              "Action": "sts:AssumeRole",
                              "Condition": {"StringEquals": {"sts:ExternalId": "lab-42"}}}),
                         "trust policy analyst-role", "trust")
    req = Request(FOREIGN, "sts:AssumeRole", role_arn, {"sts:ExternalId": "lab-42"}, ACCOUNT)
    assert evaluate(req, [doc(allow("sts:AssumeRole"))], trust).allowed
    req = Request(FOREIGN, "sts:AssumeRole", role_arn, {"sts:ExternalId": "wrong"}, ACCOUNT)
    assert evaluate(req, [doc(allow("sts:AssumeRole"))], trust).decision == "implicit_deny"


def test_none_context_value_means_absent():
    pol = doc(allow(Condition={"Null": {"aws:username": "true"}}))
    assert run(identity=[pol]).decision == "implicit_deny"       # derived for IAM users
    assert run(identity=[pol], context={"aws:username": None}).allowed


def test_identity_policies_may_be_any_iterable():
    assert run(identity=(p for p in [doc(allow())])).allowed
