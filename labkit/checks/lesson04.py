"""Checks for lesson 04: the two managed policies, the test matrix, home folders.

Policy checks read the attached policy from IAM and ask labkit.policy what it
allows (behaviour, not wording: any correct policy passes); the matrix and
home-folder checks make real requests as the users.
"""
from __future__ import annotations

from labkit.topics import iam_policies as policies
from labkit.checks import Fail, check
from labkit.policy import Request, evaluate

FOREIGN_BUCKET = "someone-elses-bucket"


def attached_document(lab, group: str, policy_name: str) -> dict:
    """The default version of POLICY_NAME, which must be attached to GROUP."""
    iam, arn = lab.client("iam"), policies.policy_arn(lab, policy_name)
    doc = policies.current_document(iam, arn)
    if doc is None:
        raise Fail(f"there is no customer managed policy named {policy_name}",
                   f"iam.create_policy(PolicyName={policy_name!r}, PolicyDocument=json.dumps(doc))")
    attached = iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"]
    if arn not in {p["PolicyArn"] for p in attached}:
        raise Fail(f"{policy_name} exists but is not attached to group {group}",
                   f"iam.attach_group_policy(GroupName={group!r}, PolicyArn={arn!r})")
    return doc


def allowed(lab, user: str, doc: dict, action: str, resource: str, **context) -> bool:
    request = Request(policies.user_arn(lab, user), action, resource,
                      {"aws:SecureTransport": "true", **context}, lab.account_id)
    return evaluate(request, [("policy", doc)]).allowed


def _compare(lab, user, doc, must_allow, must_deny) -> None:
    for action, resource in must_allow:
        if not allowed(lab, user, doc, action, resource):
            raise Fail(f"the policy does not allow {action} on {resource}")
    for action, resource in must_deny:
        if allowed(lab, user, doc, action, resource):
            raise Fail(f"the policy allows {action} on {resource}, which it must not")


def _arns(lab):
    n = lab.names
    return {"landing": f"arn:aws:s3:::{n.landing_bucket}",
            "analysis": f"arn:aws:s3:::{n.analysis_bucket}",
            "landing_ap": policies.access_point_arn(lab, n.landing_access_point),
            "analysis_ap": policies.access_point_arn(lab, n.analysis_access_point)}


@check("04.engineer-policy", points=3,
       hint="full S3 on both buckets, their objects and the lab's access points, attached to the engineers group, with an explicit Deny of changing the guardrails (bucket policies, Block Public Access, encryption, versioning, the two access points)",
       docs='IAM User Guide › Policy evaluation logic (explicit deny); Amazon S3 User Guide › Actions, resources, and condition keys for Amazon S3',
       reference='labkit.topics.iam_policies.GUARDRAIL_ACTIONS and ACCESS_POINT_GUARDRAIL_ACTIONS are the actions to deny; labkit.topics.iam_policies.engineer_access(lab) is the reference policy')
def engineer_policy(lab):
    """engineer_access is attached to the engineers: all of the data, none of the guardrails."""
    n, a = lab.names, _arns(lab)
    doc = attached_document(lab, n.engineers_group, n.engineer_policy)
    guardrails = [(action, arn) for action in policies.GUARDRAIL_ACTIONS
                  for arn in (a["landing"], a["analysis"], f"{a['analysis']}/raw/x.csv")]
    guardrails += [(action, a[ap]) for action in policies.ACCESS_POINT_GUARDRAIL_ACTIONS
                   for ap in ("landing_ap", "analysis_ap")]
    guardrails += [("s3:PutAccountPublicAccessBlock", "*")]
    _compare(lab, n.engineer_user, doc, must_allow=[
        ("s3:PutObject", f"{a['landing']}/raw/new.csv"),
        ("s3:DeleteObject", f"{a['analysis']}/results/old.csv"),
        ("s3:ListBucket", a["landing"]),
        ("s3:GetBucketPolicy", a["analysis"]),
        ("s3:CreateAccessPoint", policies.access_point_arn(lab, f"{n.name}-extra-access")),
        ("s3:GetObject", f"{a['landing_ap']}/object/raw/x.csv"),
        ("s3:ListAllMyBuckets", "*"),
    ], must_deny=[("s3:GetObject", f"arn:aws:s3:::{FOREIGN_BUCKET}/x")] + guardrails)
    return ("engineers may do everything with the lab's data and access points, "
            "and cannot change its guardrails")


@check("04.analyst-policy", points=3,
       hint="Landing zone: s3:ListBucket on the bucket, s3:GetObject on BUCKET/*; analysis: "
            "ListBucket, Get/Put/DeleteObject; the same on the access point ARNs "
            "(ARN and ARN/object/*); attached to the analysts group",
       docs='IAM User Guide › Example IAM identity-based policies › Amazon S3: Allows read and write access to objects in an S3 bucket; Amazon S3 User Guide › Configuring IAM policies for using access points')
def analyst_policy(lab):
    """analyst_access is attached to the analysts: read the landing zone, read/write analysis."""
    n, a = lab.names, _arns(lab)
    doc = attached_document(lab, n.analysts_group, n.analyst_policy)
    _compare(lab, n.analyst_user, doc, must_allow=[
        ("s3:ListBucket", a["landing"]),
        ("s3:GetObject", f"{a['landing']}/raw/data.csv"),
        ("s3:ListBucket", a["analysis"]),
        ("s3:GetObject", f"{a['analysis']}/results/r.csv"),
        ("s3:PutObject", f"{a['analysis']}/results/r.csv"),
        ("s3:DeleteObject", f"{a['analysis']}/results/r.csv"),
        ("s3:ListBucket", a["landing_ap"]),
        ("s3:GetObject", f"{a['landing_ap']}/object/raw/data.csv"),
        ("s3:PutObject", f"{a['analysis_ap']}/object/results/r.csv"),
    ], must_deny=[
        ("s3:PutObject", f"{a['landing']}/raw/data.csv"),
        ("s3:DeleteObject", f"{a['landing']}/raw/data.csv"),
        ("s3:PutObject", f"{a['landing_ap']}/object/raw/data.csv"),
    ])
    return "analysts read the landing zone and read, write and delete in the analysis bucket"


@check("04.matrix", points=4,
       hint="Run policies.run_matrix(lab) and read the rows that differ: each names the user, "
            "action and policy that decided",
       docs='IAM User Guide › Testing IAM policies with the IAM policy simulator; IAM User Guide › Policy evaluation logic')
def matrix(lab):
    """The course's test matrix, rerun with boto3 as both users, gives the expected outcomes."""
    table = policies.run_matrix(lab, via="boto3")
    wrong = policies.mismatches(table)
    if wrong:
        raise Fail(f"{len(wrong)} of {len(table)} cells differ: " + "; ".join(wrong))
    return f"all {len(table)} cells of the test matrix match"


@check("04.home-folders", points=2,
       hint='analysts may list only their own folder under home/: a Deny on s3:ListBucket for other prefixes',
       docs='IAM User Guide › IAM policy elements: Variables and tags (${aws:username}); Amazon S3 User Guide › Condition key examples (s3:prefix)',
       reference="a Deny on s3:ListBucket with StringLike s3:prefix 'home/?*' and StringNotLike s3:prefix 'home/${aws:username}/*' in analyst_access")
def home_folders(lab):
    """The analyst may list its own home folder in the analysis bucket, not another one."""
    n = lab.names
    s3 = lab.client("s3", profile=n.analyst_user)
    own, other = f"home/{n.analyst_user}/", f"home/{n.engineer_user}/"
    try:
        s3.list_objects_v2(Bucket=n.analysis_bucket, Prefix=own, Delimiter="/")
    except s3.exceptions.ClientError as exc:
        raise Fail(f"the analyst cannot list its own folder {own}: "
                   f"{exc.response['Error']['Code']}") from None
    try:
        s3.list_objects_v2(Bucket=n.analysis_bucket, Prefix=other, Delimiter="/")
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] == "AccessDenied":
            return f"the analyst lists {own} and is denied {other}"
        raise
    raise Fail(f"the analyst can list another user's folder {other}")
