"""Hidden checks for lesson 04 (graded by `labkit regrade`, never shipped to learners)."""
from __future__ import annotations

from labkit.topics import iam_policies as policies
from labkit.checks import Fail, check
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


# --- proofs, not samples (labkit.policy.analyze: IAM Access Analyzer's checks, by z3) ----------

def _counterexample(result) -> str:
    """The request that gets through, in words, for the feedback."""
    c = result.counterexample
    if c is None:
        return result.reasons[0]["description"] if result.reasons else result.message
    where = f" with context {c.context}" if c.context else ""
    return f"{c.principal} may {c.action} on {c.resource}{where}"


@check("04.no-new-access", points=2, hidden=True,
       hint="Grant exactly what the job needs: compare your policy with check_no_new_access "
            "against the lesson's reference; the counterexample names what is too much")
def no_new_access(lab):
    """Neither attached policy allows any request the reference policies do not (a proof)."""
    from labkit.policy.analyze import check_no_new_access

    n = lab.names
    for group, name, reference in ((n.engineers_group, n.engineer_policy,
                                    policies.engineer_access(lab)),
                                   (n.analysts_group, n.analyst_policy,
                                    policies.analyst_access(lab))):
        result = check_no_new_access(attached_document(lab, group, name), reference)
        if not result.passed:
            raise Fail(f"{name} grants more than the reference policy: "
                       f"{_counterexample(result)}")
    return "both policies stay within the reference policies, for every request"


@check("04.stays-forbidden", points=2, hidden=True,
       hint="Analysts: no s3:Put*/s3:Delete* on the landing zone (bucket and access point); "
            "nobody: IAM actions or other buckets")
def stays_forbidden(lab):
    """What must never be granted, proved with check_access_not_granted over every request."""
    from labkit.policy.analyze import check_access_not_granted

    n = lab.names
    ap = policies.access_point_arn(lab, n.landing_access_point)
    landing = [f"arn:aws:s3:::{n.landing_bucket}", f"arn:aws:s3:::{n.landing_bucket}/*",
               ap, f"{ap}/object/*"]
    foreign = [f"arn:aws:s3:::{FOREIGN_BUCKET}", f"arn:aws:s3:::{FOREIGN_BUCKET}/*"]
    analyst = attached_document(lab, n.analysts_group, n.analyst_policy)
    engineer = attached_document(lab, n.engineers_group, n.engineer_policy)
    forbidden = [(n.analyst_policy, analyst, ["s3:Put*", "s3:Delete*"], landing,
                  "writes or deletes in the landing zone")]
    for name, doc in ((n.analyst_policy, analyst), (n.engineer_policy, engineer)):
        forbidden += [(name, doc, ["iam:*"], None, "IAM actions"),
                      (name, doc, ["s3:*Object*", "s3:PutBucket*", "s3:DeleteBucket*"], foreign,
                       "reading, writing or managing another account's bucket")]
    for name, doc, actions, resources, what in forbidden:
        result = check_access_not_granted(doc, actions, resources)
        if not result.passed:
            raise Fail(f"{name} allows {what}: {_counterexample(result)}")
    return "proved: analysts never write or delete in the landing zone; no IAM, no other buckets"
