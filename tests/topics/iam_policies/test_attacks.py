"""The lake built through lesson 04, attacked with the real CLI as its own users (issue 28).

Each attack is what a reviewer tries first as the engineer: undo a guardrail of lessons 02-03
(bucket policy, Block Public Access, default encryption, versioning, the access points' policies)
or open a new door (an access point of one's own, with a permissive policy). Every one must be
refused while the seed's matrix still holds. S3 user guide: "Delegating access control to access
points" (s3:DataAccessPointArn), "Blocking public access"; IAM user guide, "Policy evaluation
logic" (an explicit deny in an identity policy beats any allow).
"""
from __future__ import annotations

import json

import pytest

from labkit.policy import Request, evaluate
from labkit.topics import access_points, buckets, iam_policies
from tests.topics.iam_policies.helpers import build_through_04

NAME = "t-attack"


@pytest.fixture(scope="module")
def lab():
    return build_through_04(NAME)


def _guardrail_attacks(lab) -> dict[str, str]:
    n = lab.names
    bucket = n.analysis_bucket
    return {
        "delete the bucket policy": f"aws s3api delete-bucket-policy --bucket {bucket}",
        "replace the bucket policy": (
            f"aws s3api put-bucket-policy --bucket {bucket} --policy "
            + json.dumps(json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": lab.account_id}, "Action": "s3:*",
                "Resource": f"arn:aws:s3:::{bucket}/*"}]}))),
        "delete Block Public Access": f"aws s3api delete-public-access-block --bucket {bucket}",
        "delete account Block Public Access": (
            f"aws s3control delete-public-access-block --account-id {lab.account_id}"),
        "turn off default encryption": f"aws s3api delete-bucket-encryption --bucket {bucket}",
        "suspend versioning": (f"aws s3api put-bucket-versioning --bucket {bucket} "
                               "--versioning-configuration Status=Suspended"),
        "turn ACLs back on": (f"aws s3api put-bucket-ownership-controls --bucket {bucket} "
                              "--ownership-controls Rules=[{ObjectOwnership=ObjectWriter}]"),
        "delete the bucket": f"aws s3api delete-bucket --bucket {n.landing_bucket}",
        "remove the access point's policy": (
            f"aws s3control delete-access-point-policy --account-id {lab.account_id} "
            f"--name {n.landing_access_point}"),
        "delete the access point": (
            f"aws s3control delete-access-point --account-id {lab.account_id} "
            f"--name {n.analysis_access_point}"),
    }


def test_the_engineer_cannot_undo_a_guardrail(lab):
    before = buckets.current_policy(lab.client("s3"), lab.names.analysis_bucket)
    outcomes = {what: lab.aws(command, profile=lab.names.engineer_user)
                for what, command in _guardrail_attacks(lab).items()}
    wrong = {what: (r.outcome, r.error) for what, r in outcomes.items() if r.outcome != "DENY"}
    assert not wrong, wrong
    for r in outcomes.values():
        assert "explicit deny in an identity-based policy" in r.error, r.error
    assert buckets.current_policy(lab.client("s3"), lab.names.analysis_bucket) == before


def test_an_access_point_the_engineer_makes_is_not_a_door_into_the_lake(lab):
    """The analyst may only read the landing zone; a rogue door must not let it write there.

    The access point's own policy grants the write, and the analyst's IAM policy does not, so
    only the bucket policy could let the request in: delegating to every access point of the
    account (s3:DataAccessPointAccount) would, delegating to the named one does not.
    """
    n = lab.names
    rogue = f"{n.name}-rogue-access"
    rogue_arn = access_points.arn(lab, rogue)
    made = lab.aws(f"aws s3control create-access-point --account-id {lab.account_id} "
                   f"--name {rogue} --bucket {n.landing_bucket}", profile=n.engineer_user)
    assert made.outcome == "ALLOW", made.error  # the seed lets engineers make access points
    try:
        wide_open = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": iam_policies.user_arn(lab, n.analyst_user)},
            "Action": "s3:*", "Resource": [rogue_arn, f"{rogue_arn}/object/*"]}]}
        opened = lab.aws(f"aws s3control put-access-point-policy --account-id {lab.account_id} "
                         f"--name {rogue} --policy " + json.dumps(json.dumps(wide_open)),
                         profile=n.engineer_user)
        assert opened.outcome == "ALLOW", opened.error
        write = (f"echo x | aws s3 cp - s3://{rogue_arn}/raw/analyst_was_here.csv --sse AES256")
        through = lab.aws(write, profile=n.analyst_user)
        assert through.outcome == "DENY", (through.stdout, through.error)
        assert "AccessDenied" in through.error, through.error
        own = lab.aws(f"aws s3api head-object --bucket "
                      f"{access_points.arn(lab, n.landing_access_point)} "
                      f"--key {buckets.DATASET_KEY}", profile=n.analyst_user)
        assert own.outcome == "ALLOW", own.error  # the lab's own door still opens
    finally:
        lab.client("s3control").delete_access_point(AccountId=lab.account_id, Name=rogue)


def test_with_account_wide_delegation_the_rogue_door_would_open(lab):
    """The same attack against lesson 03's old policy succeeds: the test above can fail."""
    n = lab.names
    policy = buckets.current_policy(lab.client("s3"), n.landing_bucket)
    old = json.loads(json.dumps(policy))
    for statement in old["Statement"]:
        if statement.get("Sid") == buckets.SID_DELEGATE:
            statement["Condition"] = {"StringEquals": {"s3:DataAccessPointAccount": lab.account_id}}
    rogue_arn = access_points.arn(lab, f"{n.name}-rogue-access")
    request = Request(iam_policies.user_arn(lab, n.analyst_user), "s3:PutObject",
                      f"arn:aws:s3:::{n.landing_bucket}/raw/x.csv",
                      {"aws:SecureTransport": "true", "s3:DataAccessPointArn": rogue_arn,
                       "s3:DataAccessPointAccount": lab.account_id,
                       "s3:x-amz-server-side-encryption": "AES256"}, lab.account_id)
    assert evaluate(request, resource_policy=old).allowed
    assert not evaluate(request, resource_policy=policy).allowed


def test_the_seed_matrix_still_holds_after_the_attacks(lab):
    table = iam_policies.run_matrix(lab)
    assert not iam_policies.mismatches(table), iam_policies.mismatches(table)
