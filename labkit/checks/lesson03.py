"""Checks for lesson 03: access points, their policies, and delegation from the buckets.

Policy checks ask labkit.policy how the policies in force decide the requests
that matter (the analyst reading through the access point, someone else trying
the same, ...) instead of comparing JSON text; 03.read-through-access-point
really reads the dataset as the analyst.
"""
from __future__ import annotations

from botocore.exceptions import ClientError

from labkit.topics import access_points as aplib
from labkit.topics import buckets as s3lib
from labkit.checks import Fail, check
from labkit.policy import ALLOWED, PolicyError, Request, evaluate, evaluate_all

_AP_POLICY_HINT = ("allow the analyst (arn:aws:iam::ACCOUNT:user/analyst-NAME) s3:ListBucket on the "
                   "access point ARN and object actions on ACCESS_POINT_ARN/object/* "
                   "(labkit.topics.access_points.access_point_policy(lab, name) is the reference)")
_DELEGATION_HINT = ("add to each bucket policy an Allow for Principal {\"AWS\": \"*\"}, Action \"*\", "
                    "on the bucket and its objects, with Condition StringEquals "
                    "s3:DataAccessPointArn = the ARN of that bucket's own access point "
                    "(labkit.topics.access_points.arn(lab, name)); keep lesson 02's statements")


def _user(lab, user: str) -> str:
    return f"arn:aws:iam::{lab.account_id}:user/{user}"


def _described(lab, name: str) -> dict:
    found = aplib.describe(lab, name)
    if found is None:
        raise Fail(f"access point {name} does not exist",
                   "s3control.create_access_point(AccountId=lab.account_id, Name=..., Bucket=...)")
    return found


def _ap_policy(lab, name: str) -> dict:
    policy = aplib.current_policy(lab, name)
    if policy is None:
        raise Fail(f"access point {name} has no access point policy", _AP_POLICY_HINT)
    return policy


def _bucket_policy(lab, bucket: str) -> dict:
    try:
        policy = s3lib.current_policy(lab.client("s3"), bucket)
    except ClientError as exc:
        raise Fail(f"cannot read the policy of bucket {bucket}: {exc}") from None
    if policy is None:
        raise Fail(f"bucket {bucket} has no bucket policy", _DELEGATION_HINT)
    return policy


def _through(lab, principal: str, action: str, name: str, key: str | None, context=None):
    """How the access point policy AND the bucket policy decide a request through NAME.

    Only resource policies count (no identity policy), as for an analyst who
    has no IAM policy of their own yet: the access point must grant it.
    """
    bucket = aplib.pairs(lab)[name]
    ap_resource = aplib.arn(lab, name) + (f"/object/{key}" if key is not None else "")
    bucket_resource = s3lib.bucket_arn(bucket) + (f"/{key}" if key is not None else "")
    ctx = {"aws:SecureTransport": "true", "s3:DataAccessPointArn": aplib.arn(lab, name),
           "s3:DataAccessPointAccount": lab.account_id, **(context or {})}
    gates = [(f"access point policy {name}", _ap_policy(lab, name), ap_resource),
             (f"bucket policy {bucket}", _bucket_policy(lab, bucket), bucket_resource)]
    try:
        return evaluate_all(Request(principal, action, ap_resource, ctx, lab.account_id),
                            [], gates)
    except PolicyError as exc:
        raise Fail(f"a policy on {name} or {bucket} is not valid: {exc}") from None


def _ap_alone(lab, principal: str, action: str, name: str, key: str | None):
    """How the access point policy of NAME alone decides a request through it."""
    resource = aplib.arn(lab, name) + (f"/object/{key}" if key is not None else "")
    ctx = {"aws:SecureTransport": "true", "s3:DataAccessPointArn": aplib.arn(lab, name),
           "s3:DataAccessPointAccount": lab.account_id,
           "s3:x-amz-server-side-encryption": s3lib.SSE}
    try:
        return evaluate(Request(principal, action, resource, ctx, lab.account_id),
                        resource_policy=(f"access point policy {name}", _ap_policy(lab, name)))
    except PolicyError as exc:
        raise Fail(f"the access point policy of {name} is not valid: {exc}") from None


@check("03.access-points", points=2,
       hint="s3control.create_access_point(AccountId=lab.account_id, Name=..., Bucket=..., "
            "PublicAccessBlockConfiguration={all four settings True}), no VpcConfiguration",
       docs='Amazon S3 User Guide › Managing access to shared datasets with access points › Creating access points; Amazon S3 Control API Reference › CreateAccessPoint')
def access_points(lab):
    """Both access points exist on the right buckets, internet origin, public access blocked."""
    for name, bucket in aplib.pairs(lab).items():
        found = _described(lab, name)
        if found["Bucket"] != bucket:
            raise Fail(f"access point {name} serves bucket {found['Bucket']}, not {bucket}",
                       "delete it and create it again on the right bucket")
        if found.get("NetworkOrigin") != "Internet":
            raise Fail(f"access point {name} has network origin {found.get('NetworkOrigin')}, "
                       f"not Internet")
        block = found.get("PublicAccessBlockConfiguration", {})
        off = [k for k in s3lib.PUBLIC_ACCESS_BLOCK if not block.get(k)]
        if off:
            raise Fail(f"access point {name}: public access setting(s) {', '.join(off)} are off",
                       "create it again with all four PublicAccessBlockConfiguration settings True")
    return f"{' and '.join(lab.names.access_points)} exist, internet origin, public access blocked"


@check("03.access-point-policies", points=3,
       hint='allow the analyst (arn:aws:iam::ACCOUNT:user/analyst-NAME) s3:ListBucket on the access point ARN and object actions on ACCESS_POINT_ARN/object/*',
       docs='Amazon S3 User Guide › Configuring IAM policies for using access points (access point policy examples)',
       reference='labkit.topics.access_points.access_point_policy(lab, name), put with s3control.put_access_point_policy')
def access_point_policies(lab):
    """The analyst reads both, writes and deletes only through the analysis access point;
    nobody else is granted anything. (Judged on the access point policies alone: the
    bucket's delegation is 03.delegation.)"""
    n, key = lab.names, "results/check.csv"
    analyst, other = _user(lab, n.analyst_user), _user(lab, f"someone-else-{n.name}")
    expected = [(n.landing_access_point, "s3:GetObject", key, True),
                (n.landing_access_point, "s3:ListBucket", None, True),
                (n.landing_access_point, "s3:PutObject", key, False),
                (n.landing_access_point, "s3:DeleteObject", key, False),
                (n.analysis_access_point, "s3:GetObject", key, True),
                (n.analysis_access_point, "s3:ListBucket", None, True),
                (n.analysis_access_point, "s3:PutObject", key, True),
                (n.analysis_access_point, "s3:DeleteObject", key, True)]
    for name, action, obj, allowed in expected:
        decided = _ap_alone(lab, analyst, action, name, obj)
        if decided.allowed != allowed:
            verb = "is not allowed" if allowed else "is allowed"
            raise Fail(f"the access point policy of {name}: the analyst's {action} {verb}: "
                       f"{decided}")
        if _ap_alone(lab, other, action, name, obj).allowed:
            raise Fail(f"through {name}, a user the policy does not name may {action}",
                       "name only the analyst in Principal, never \"*\"")
    return "analyst: read-only through the landing zone, read-write through analysis"


@check("03.delegation", points=2,
       hint='each bucket policy also allows Principal {"AWS": "*"} every action on the bucket and its objects, but only through that bucket\'s own access point (Condition on s3:DataAccessPointArn); keep lesson 02\'s statements',
       docs='Amazon S3 User Guide › Configuring IAM policies for using access points › Delegating access control to access points',
       reference='labkit.topics.buckets.delegation_statement(lab, bucket) added to the bucket policy (labkit.topics.access_points.arn(lab, name) is the ARN)')
def delegation(lab):
    """Each bucket policy lets its access points decide, and still denies unencrypted uploads."""
    analyst = _user(lab, lab.names.analyst_user)
    for name, bucket in aplib.pairs(lab).items():
        policy = _bucket_policy(lab, bucket)
        gate = (f"bucket policy {bucket}", policy)
        via_ap = {"aws:SecureTransport": "true", "s3:DataAccessPointArn": aplib.arn(lab, name),
                  "s3:DataAccessPointAccount": lab.account_id}
        resource = f"{s3lib.bucket_arn(bucket)}/{s3lib.DATASET_KEY}"
        try:
            delegated = evaluate(Request(analyst, "s3:GetObject", resource, via_ap,
                                         lab.account_id), resource_policy=gate)
            direct = evaluate(Request(analyst, "s3:GetObject", resource,
                                      {"aws:SecureTransport": "true"}, lab.account_id),
                              resource_policy=gate)
        except PolicyError as exc:
            raise Fail(f"the policy of bucket {bucket} is not valid: {exc}") from None
        if delegated.decision != ALLOWED:
            raise Fail(f"bucket {bucket} does not delegate to its access points: {delegated}")
        if direct.allowed:
            raise Fail(f"the policy of {bucket} lets the analyst in without an access point",
                       "confine the delegation with s3:DataAccessPointArn")
        _refuses_other_access_points(lab, analyst, bucket, gate, resource)
    if _through(lab, analyst, "s3:PutObject", lab.names.analysis_access_point,
                "results/x.csv").allowed:
        raise Fail(f"an unencrypted upload through {lab.names.analysis_access_point} is allowed",
                   "keep lesson 02's encryption statements in the bucket policy")
    return "each bucket delegates to its own access point only, encryption guard kept"


def _refuses_other_access_points(lab, analyst: str, bucket: str, gate, resource: str) -> None:
    """A request through another access point of the account (one an engineer made) gets nothing."""
    rogue = aplib.arn(lab, f"{lab.names.name}-rogue-access")
    via_rogue = {"aws:SecureTransport": "true", "s3:DataAccessPointArn": rogue,
                 "s3:DataAccessPointAccount": lab.account_id}
    try:
        decided = evaluate(Request(analyst, "s3:GetObject", resource, via_rogue, lab.account_id),
                           resource_policy=gate)
    except PolicyError as exc:
        raise Fail(f"the policy of bucket {bucket} is not valid: {exc}") from None
    if decided.allowed:
        raise Fail(f"bucket {bucket} trusts every access point of the account: one that an "
                   f"engineer creates ({rogue}) with a permissive policy would be let in",
                   "condition the delegation on s3:DataAccessPointArn = the bucket's own access "
                   "point, not on s3:DataAccessPointAccount")


@check("03.read-through-access-point", points=3,
       hint='as the analyst, get the dataset with the access point ARN where the bucket name goes',
       docs='Amazon S3 User Guide › Using access points › Using a bucket-style alias or the access point ARN in S3 object operations',
       reference="lab.client('s3', lab.names.analyst_user).get_object(Bucket=labkit.topics.access_points.arn(lab, lab.names.landing_access_point), Key=labkit.topics.buckets.DATASET_KEY)")
def read_through_access_point(lab):
    """The analyst really reads the dataset through the landing zone's access point."""
    s3 = lab.client("s3", lab.names.analyst_user)
    ap = aplib.arn(lab, lab.names.landing_access_point)
    try:
        body = s3.get_object(Bucket=ap, Key=s3lib.DATASET_KEY)["Body"].read()
        listed = s3.list_objects_v2(Bucket=ap, Prefix="raw/").get("Contents", [])
    except ClientError as exc:
        raise Fail(f"the analyst cannot read through {ap}: {exc}") from None
    if body != s3lib.dataset_path().read_bytes():
        raise Fail(f"{s3lib.DATASET_KEY} read through {ap} is not the course dataset")
    if s3lib.DATASET_KEY not in {o["Key"] for o in listed}:
        raise Fail(f"listing raw/ through {ap} does not show {s3lib.DATASET_KEY}")
    return f"the analyst read {len(body)} bytes of {s3lib.DATASET_KEY} through {ap}"
