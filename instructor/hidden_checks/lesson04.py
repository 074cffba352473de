"""Hidden checks for lesson 04 (graded by `labkit regrade`, never shipped to learners)."""
from __future__ import annotations

from labkit.topics import iam_policies as policies
from labkit.checks import check
from labkit.checks.lesson04 import FOREIGN_BUCKET, _arns, _compare, attached_document


@check("04.least-privilege", points=2, hidden=True,
       hint="Name the lab's buckets and access points; never s3:* on \"*\", never IAM actions")
def least_privilege(lab):
    """Neither policy reaches beyond the lab's S3 resources or into IAM."""
    n, a = lab.names, _arns(lab)
    outside = [("s3:GetObject", f"arn:aws:s3:::{FOREIGN_BUCKET}/x"),
               ("s3:PutObject", f"arn:aws:s3:::{FOREIGN_BUCKET}/x"),
               ("iam:CreateUser", f"arn:aws:iam::{lab.account_id}:user/intruder"),
               ("iam:AttachUserPolicy", f"arn:aws:iam::{lab.account_id}:user/{n.analyst_user}")]
    for group, policy, user in ((n.engineers_group, n.engineer_policy, n.engineer_user),
                                (n.analysts_group, n.analyst_policy, n.analyst_user)):
        _compare(lab, user, attached_document(lab, group, policy), [], outside)
    analyst_doc = attached_document(lab, n.analysts_group, n.analyst_policy)
    _compare(lab, n.analyst_user, analyst_doc, [], [
        ("s3:PutBucketPolicy", a["analysis"]), ("s3:DeleteBucket", a["analysis"]),
        ("s3:CreateAccessPoint", policies.access_point_arn(lab, f"{n.name}-extra-access"))])
    return "both policies stay within the lab's S3 resources"
