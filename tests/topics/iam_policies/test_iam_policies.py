"""labkit.topics.iam_policies (lesson 04): documents, idempotent build, checks, matrix, teardown."""
from __future__ import annotations

import copy
import json

import pytest

from labkit import checks
from labkit.topics import iam_policies as policies
from labkit.topics import buckets as s3lib
from labkit.checks import lesson04  # noqa: F401  (registers the checks)
from labkit.grading import checks as graded
from tests.topics.iam_policies.helpers import build_through_04

graded.load_hidden("04")  # the instructor's hidden checks (instructor/hidden_checks)

NAME = "t-pol"


@pytest.fixture(scope="module")
def lab():
    lab = build_through_04(NAME)
    yield lab
    assert policies.teardown(lab) == []
    assert policies.leftovers(lab) == []


def _versions(lab, policy_name):
    iam = lab.client("iam")
    return iam.list_policy_versions(PolicyArn=policies.policy_arn(lab, policy_name))["Versions"]


def _fails(lab, check_id, text=""):
    result = checks.run(lab, check_id)
    assert not result.passed, f"{check_id} passed on a broken state: {result.message}"
    assert text in result.message, result.message
    assert not result.error, result.error  # a failure with a message, not a crash


# --------------------------------------------------------------------------- offline helpers
def test_parse_command_maps_each_verb_to_its_iam_actions():
    put = policies.parse_command("echo hi | aws s3 cp - s3://b/test/hw.txt --sse AES256")
    assert [p[0] for p in put.permissions()] == ["s3:PutObject"]
    assert put.permissions()[0][2] == {"s3:x-amz-server-side-encryption": "AES256"}
    copy_ = policies.parse_command("aws s3 cp s3://a/k s3://b/x/k2")
    assert [(p[0], p[1]) for p in copy_.permissions()] == [
        ("s3:GetObject", "arn:aws:s3:::a/k"), ("s3:PutObject", "arn:aws:s3:::b/x/k2")]
    assert copy_.permissions()[1][2] == {}  # no --sse: no encryption header
    ls = policies.parse_command("aws s3 ls s3://b/test/")
    assert ls.permissions() == [("s3:ListBucket", "arn:aws:s3:::b",
                                 {"s3:prefix": "test/", "s3:delimiter": "/"})]
    assert policies.parse_command("aws s3 rm s3://b/k").permissions()[0][0] == "s3:DeleteObject"


@pytest.mark.parametrize("bad", ["aws s3api list-buckets", "ls -l", "aws s3 mb s3://x"])
def test_parse_command_rejects_other_commands(bad):
    with pytest.raises(ValueError, match="not an `aws s3 cp"):
        policies.parse_command(bad)


def test_expected_columns_and_bad_role():
    assert policies.expected("engineer").count("DENY") == 1
    assert policies.expected("analyst") == ["DENY", "ALLOW", "ALLOW", "ALLOW", "ALLOW", "DENY",
                                            "ALLOW", "DENY", "ALLOW", "DENY"]
    with pytest.raises(ValueError, match="role must be one of"):
        policies.expected("admin")


# --------------------------------------------------------------------------- build
def test_build_is_idempotent_and_attaches(lab):
    before = {p: len(_versions(lab, p)) for p in (lab.names.engineer_policy,
                                                  lab.names.analyst_policy)}
    policies.build(lab)
    after = {p: len(_versions(lab, p)) for p in before}
    assert after == before == {lab.names.engineer_policy: 1, lab.names.analyst_policy: 1}
    iam = lab.client("iam")
    attached = iam.list_attached_group_policies(GroupName=lab.names.analysts_group)
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == [lab.names.analyst_policy]


def test_changed_document_becomes_a_new_default_and_old_versions_are_pruned(lab):
    name = lab.names.analyst_policy
    for i in range(7):
        doc = copy.deepcopy(policies.analyst_access(lab))
        doc["Statement"][0]["Sid"] = f"ListLandingZone{i}"
        policies.ensure_policy(lab, name, doc)
        assert len(_versions(lab, name)) <= policies.MAX_POLICY_VERSIONS
    iam = lab.client("iam")
    assert policies.current_document(iam, policies.policy_arn(lab, name)) == doc
    policies.build(lab)  # back to the reference
    assert policies.current_document(iam, policies.policy_arn(lab, name)) == \
        policies.analyst_access(lab)


# --------------------------------------------------------------------------- checks
@pytest.mark.parametrize("check_id", ["04.engineer-policy", "04.analyst-policy",
                                      "04.home-folders", "04.least-privilege", "04.matrix",
                                      "04.no-new-access", "04.stays-forbidden"])
def test_checks_pass_on_the_reference_build(lab, check_id):
    result = checks.run(lab, check_id)
    assert result.passed, str(result) + result.error


def test_analyst_policy_check_fails_when_detached(lab):
    iam, arn = lab.client("iam"), policies.policy_arn(lab, lab.names.analyst_policy)
    iam.detach_group_policy(GroupName=lab.names.analysts_group, PolicyArn=arn)
    try:
        _fails(lab, "04.analyst-policy", "not attached")
    finally:
        policies.build(lab)


def test_checks_fail_on_a_too_broad_analyst_policy(lab):
    broad = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    policies.ensure_policy(lab, lab.names.analyst_policy, broad)
    try:
        _fails(lab, "04.analyst-policy", "must not")
        _fails(lab, "04.least-privilege", "must not")
        _fails(lab, "04.home-folders", "another user's folder")
        _fails(lab, "04.no-new-access", "grants more than the reference policy")
        _fails(lab, "04.stays-forbidden", "allows writes or deletes in the landing zone")
    finally:
        policies.build(lab)


def test_proofs_catch_what_the_samples_miss(lab):
    """s3:*Version* on the landing zone passes every sampled check; the proofs fail it,
    naming the request (IAM Access Analyzer's CheckNoNewAccess / CheckAccessNotGranted)."""
    doc = policies.analyst_access(lab)
    doc["Statement"].append({"Sid": "ReadOldVersions", "Effect": "Allow", "Action": "s3:*Version*",
                             "Resource": f"arn:aws:s3:::{lab.names.landing_bucket}/*"})
    policies.ensure_policy(lab, lab.names.analyst_policy, doc)
    try:
        for sampled in ("04.analyst-policy", "04.least-privilege", "04.home-folders"):
            assert checks.run(lab, sampled).passed, sampled
        _fails(lab, "04.no-new-access", "Version")
        _fails(lab, "04.stays-forbidden", "may s3:")
    finally:
        policies.build(lab)


def test_engineer_check_fails_without_access_point_rights(lab):
    doc = policies.engineer_access(lab)
    doc["Statement"] = [s for s in doc["Statement"] if s["Sid"] != "FullAccessToLabAccessPoints"]
    policies.ensure_policy(lab, lab.names.engineer_policy, doc)
    try:
        _fails(lab, "04.engineer-policy", "s3:CreateAccessPoint")
    finally:
        policies.build(lab)


def test_matrix_check_fails_when_the_bucket_no_longer_requires_encryption(lab):
    s3 = lab.client("s3")
    bucket = lab.names.analysis_bucket
    saved = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    doc = json.loads(saved)
    doc["Statement"] = [s for s in doc["Statement"]
                        if s["Sid"] not in (s3lib.SID_NO_SSE, s3lib.SID_WRONG_SSE)]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    try:
        _fails(lab, "04.matrix", "row 10 as engineer: expected DENY, got ALLOW")
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=saved)


# --------------------------------------------------------------------------- explanations
def test_run_matrix_explains_each_decision(lab):
    table = policies.run_matrix(lab, via="boto3")
    assert list(table.columns[:5]) == ["#", "command", "role", "expected", "actual"]
    assert policies.mismatches(table) == []
    assert (table["predicted"] == table["actual"]).all()
    row10 = table[(table["#"] == 10) & (table["role"] == "engineer")].iloc[0]
    assert "explicit deny in a resource-based policy" in row10["reason"]
    assert s3lib.SID_NO_SSE in row10["matched"]
    row1 = table[(table["#"] == 1) & (table["role"] == "analyst")].iloc[0]
    assert "no identity-based policy allows the s3:PutObject action" in row1["reason"]
    assert row1["error"].startswith("AccessDenied")


def test_run_matrix_rejects_an_unknown_runner(lab):
    with pytest.raises(ValueError, match="via must be"):
        policies.run_matrix(lab, via="curl")


def test_policy_simulator_proves_the_home_folder_policy(lab):
    iam = lab.client("iam")
    doc = json.dumps(policies.home_folder_access(lab))
    bucket = f"arn:aws:s3:::{lab.names.analysis_bucket}"

    def decide(user, resource):
        result = iam.simulate_custom_policy(
            PolicyInputList=[doc], ActionNames=["s3:PutObject"], ResourceArns=[resource],
            CallerArn=policies.user_arn(lab, user))
        return result["EvaluationResults"][0]["EvalDecision"]

    analyst = lab.names.analyst_user
    assert decide(analyst, f"{bucket}/home/{analyst}/notes.txt") == "allowed"
    assert decide(analyst, f"{bucket}/home/someone-else/notes.txt") == "implicitDeny"
    assert decide(lab.names.engineer_user, f"{bucket}/home/{analyst}/notes.txt") == "implicitDeny"


def test_simulate_principal_policy_reads_the_attached_policies(lab):
    iam = lab.client("iam")
    objects = f"arn:aws:s3:::{lab.names.landing_bucket}/raw/x.csv"
    result = iam.simulate_principal_policy(
        PolicySourceArn=policies.user_arn(lab, lab.names.analyst_user),
        ActionNames=["s3:GetObject", "s3:PutObject"], ResourceArns=[objects])
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in result["EvaluationResults"]}
    assert decisions == {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"}


@pytest.mark.slow
def test_matrix_with_the_real_cli_matches(lab):
    table = policies.run_matrix(lab, via="cli")
    assert policies.mismatches(table) == []


def test_teardown_removes_both_policies_and_reports_nothing_left(lab):
    assert policies.teardown(lab) == []
    assert policies.leftovers(lab) == []
    assert policies.teardown(lab) == []  # a second run finds nothing to do
    policies.build(lab)
    assert len(policies.leftovers(lab)) == 2


def test_the_lessons_matrix_is_the_outlines():
    """labkit.topics.iam_policies.MATRIX (what lesson 04 runs) equals the outline's table, held in tests."""
    from labkit.topics.iam_policies import MATRIX
    from tests.policy.course import MATRIX as OUTLINE

    names = {"landing": "demo-landing-zone", "analysis": "demo-analysis"}
    assert [(cmd.format(**names), eng, ana) for cmd, eng, ana in MATRIX] == [tuple(r) for r in OUTLINE]
