"""Lesson 04: the engineers' and analysts' IAM policies, and the tests that prove them.

Where each rule lives:

- **who may do what** (engineer: everything on the lab's buckets and access points;
  analyst: read the landing zone, read/write/delete the analysis bucket) lives in
  the two customer managed policies below, attached to the groups of lesson 01;
- **"every upload must be encrypted"** lives in the bucket policies of lesson 02
  (an explicit Deny for PutObject without ``x-amz-server-side-encryption``), so it
  holds for every principal, the engineer included, and whichever way the object
  arrives (direct, copy, access point);
- **what may go through an access point** lives in the access point policies of
  lesson 03; the identity policies below also name the access point ARNs, since a
  request through an access point must be allowed for the access point ARN.

``build(lab)`` is the reference end state of lesson 04. ``MATRIX`` is the course's
CLI test matrix; ``run_matrix(lab)`` runs it as each user and explains every
decision with labkit.policy, from the policies read back from IAM and S3.
"""
from __future__ import annotations

import json

from labkit.outcomes import ALLOW, DENY, ERROR
from labkit.topics import access_points, waiting

#: AWS keeps at most five versions of a managed policy.
MAX_POLICY_VERSIONS = 5


# ----------------------------------------------------------------------------- ARNs

def bucket_arns(bucket: str) -> list[str]:
    """The bucket itself (for ListBucket) and every object in it (for Get/Put/Delete)."""
    return [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def access_point_arn(lab, name: str) -> str:
    """ARN of access point NAME (or pattern, e.g. "NAME-*") in the lab's account and region."""
    return access_points.arn(lab, name)


def access_point_arns(lab, name: str) -> list[str]:
    """The access point (ListBucket through it) and its objects (``.../object/KEY``)."""
    arn = access_point_arn(lab, name)
    return [arn, f"{arn}/object/*"]


def policy_arn(lab, policy_name: str) -> str:
    return f"arn:aws:iam::{lab.account_id}:policy/{policy_name}"


def _statement(sid: str, actions, resources, effect: str = "Allow", **extra) -> dict:
    return {"Sid": sid, "Effect": effect, "Action": actions, "Resource": resources, **extra}


# ----------------------------------------------------------------------------- documents

#: What keeps the lake safe, which engineers must not change: the bucket policies (the
#: encryption and TLS denies, the delegation), Block Public Access (bucket and account),
#: default encryption, versioning and Object Lock, Object Ownership (ACLs off), ACLs,
#: lifecycle and replication (both can delete or copy data away), logging, and the
#: permanent deletes that versioning exists to stop (versions, buckets, retention bypass).
#: Each "Delete..." API of these settings is authorized as its "Put..." action
#: (DeleteBucketEncryption is s3:PutEncryptionConfiguration, and so on).
GUARDRAIL_ACTIONS = [
    "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
    "s3:PutBucketPublicAccessBlock", "s3:PutAccountPublicAccessBlock",
    "s3:PutEncryptionConfiguration", "s3:PutBucketVersioning",
    "s3:PutBucketObjectLockConfiguration", "s3:BypassGovernanceRetention",
    "s3:PutBucketOwnershipControls", "s3:PutBucketAcl", "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl", "s3:PutLifecycleConfiguration", "s3:PutReplicationConfiguration",
    "s3:PutBucketLogging", "s3:DeleteBucket", "s3:DeleteObjectVersion",
]
#: The lake's two doors (lesson 03): engineers may create further access points, not
#: rewrite, open or remove these.
ACCESS_POINT_GUARDRAIL_ACTIONS = [
    "s3:PutAccessPointPolicy", "s3:DeleteAccessPointPolicy", "s3:DeleteAccessPoint",
    "s3:PutAccessPointPublicAccessBlock",
]


def engineer_access(lab) -> dict:
    """The engineers' policy: everything with the lab's data, nothing with its guardrails.

    ``s3:*`` on both buckets and their access points (``accesspoint/NAME-*`` lets
    engineers create and use further access points named after the lab, not other
    learners' ones), CloudShell; and explicit denies (:func:`guardrail_statements`)
    so that an engineer cannot delete the bucket policies, Block Public Access,
    default encryption or versioning that the lesson's other rules rely on. An
    explicit deny beats the ``s3:*`` allow; the admin (or a role) changes guardrails.
    """
    n = lab.names
    return {"Version": "2012-10-17", "Statement": [
        _statement("FullAccessToLabBuckets", "s3:*",
                   bucket_arns(n.landing_bucket) + bucket_arns(n.analysis_bucket)),
        _statement("FullAccessToLabAccessPoints", "s3:*",
                   [access_point_arn(lab, f"{n.name}-*")]),
        # These actions have no bucket in their ARN: the console and `aws s3 ls` need them.
        _statement("ListBucketsAndAccessPoints",
                   ["s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:ListAccessPoints"], "*"),
        _statement("CloudShell", "cloudshell:*", "*"),
    ] + guardrail_statements(lab)}


def guardrail_statements(lab) -> list[dict]:
    """Explicit denies of every guardrail change (anywhere), and of the lab's two access points'."""
    n = lab.names
    return [
        _statement("DenyChangingTheLakesGuardrails", GUARDRAIL_ACTIONS, "*", effect="Deny"),
        _statement("DenyChangingTheLakesAccessPoints", ACCESS_POINT_GUARDRAIL_ACTIONS,
                   [access_point_arn(lab, ap) for ap in n.access_points], effect="Deny"),
    ]


def analyst_access(lab, home_folders: bool = True) -> dict:
    """The analysts' policy: landing zone read-only, analysis read/write/delete.

    Both directly and through the access points. With ``home_folders`` (the
    lesson's last step) analysts also may not list other analysts' folders under
    ``home/`` in the analysis bucket (see :func:`home_folder_statements`).
    """
    n = lab.names
    landing_ap = access_point_arns(lab, n.landing_access_point)
    analysis_ap = access_point_arns(lab, n.analysis_access_point)
    statements = [
        _statement("ListLandingZone", "s3:ListBucket",
                   [bucket_arns(n.landing_bucket)[0], landing_ap[0]]),
        _statement("ReadLandingZone", "s3:GetObject",
                   [bucket_arns(n.landing_bucket)[1], landing_ap[1]]),
        _statement("ListAnalysis", "s3:ListBucket",
                   [bucket_arns(n.analysis_bucket)[0], analysis_ap[0]]),
        _statement("ReadWriteDeleteAnalysis", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                   [bucket_arns(n.analysis_bucket)[1], analysis_ap[1]]),
    ]
    if home_folders:
        statements += home_folder_statements(lab)
    return {"Version": "2012-10-17", "Statement": statements}


def home_folder_statements(lab) -> list[dict]:
    """Analysts may list ``home/`` and their own ``home/USERNAME/``, not other homes.

    ``${aws:username}`` is replaced by IAM with the caller's user name at request
    time, so one statement serves every analyst. ``home/?*`` (at least one
    character after ``home/``) keeps listing ``home/`` itself allowed.
    """
    bucket = bucket_arns(lab.names.analysis_bucket)[0]
    return [_statement(
        "DenyListingOtherHomeFolders", "s3:ListBucket",
        [bucket, access_point_arn(lab, lab.names.analysis_access_point)], effect="Deny",
        Condition={"StringLike": {"s3:prefix": "home/?*"},
                   "StringNotLike": {"s3:prefix": "home/${aws:username}/*"}})]


def home_folder_access(lab) -> dict:
    """AWS's per-user folder pattern as a policy of its own (allow-only).

    A user holding only this policy may list the bucket's root and ``home/``,
    and list, read, write and delete under ``home/USERNAME/`` only. Lesson 04
    proves it with IAM's policy simulator.
    """
    bucket, objects = bucket_arns(lab.names.analysis_bucket)
    home = "home/${aws:username}/"
    return {"Version": "2012-10-17", "Statement": [
        _statement("ListRootAndHome", "s3:ListBucket", bucket,
                   Condition={"StringEquals": {"s3:prefix": ["", "home/"],
                                               "s3:delimiter": "/"}}),
        _statement("ListOwnHome", "s3:ListBucket", bucket,
                   Condition={"StringLike": {"s3:prefix": f"{home}*"}}),
        _statement("OwnHomeObjects", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                   objects.replace("/*", f"/{home}*")),
    ]}


# ----------------------------------------------------------------------------- IAM calls

def current_document(iam, arn: str) -> dict | None:
    """The default version's document of managed policy ARN, or None if it does not exist."""
    try:
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    except iam.exceptions.NoSuchEntityException:
        return None
    doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    # boto3 decodes the URL-encoded JSON; an older client may hand back the text.
    return json.loads(doc) if isinstance(doc, str) else doc


def prune_versions(iam, arn: str, keep: int = MAX_POLICY_VERSIONS - 1) -> list[str]:
    """Delete the oldest non-default versions until at most KEEP remain; return their ids."""
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    old = sorted((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
    removed = []
    while len(versions) - len(removed) > keep and old:
        victim = old.pop(0)["VersionId"]
        iam.delete_policy_version(PolicyArn=arn, VersionId=victim)
        removed.append(victim)
    return removed


def ensure_policy(lab, policy_name: str, document: dict) -> str:
    """Create managed policy POLICY_NAME, or make DOCUMENT its default version.

    Idempotent: nothing changes when the default version already holds
    DOCUMENT. A changed document becomes a new default version, after the
    oldest versions are deleted (AWS keeps at most five). Returns the ARN.
    """
    iam, arn = lab.client("iam"), policy_arn(lab, policy_name)
    current = current_document(iam, arn)
    text = json.dumps(document)
    if current is None:
        iam.create_policy(PolicyName=policy_name, PolicyDocument=text,
                          Description=f"labkit lesson 04 for {lab.name}")
    elif current != document:
        prune_versions(iam, arn)
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=text, SetAsDefault=True)
    return arn


def attach(lab, group: str, arn: str) -> None:
    """Attach managed policy ARN to GROUP (attaching twice is harmless on AWS too)."""
    lab.client("iam").attach_group_policy(GroupName=group, PolicyArn=arn)


def build(lab) -> None:
    """Lesson 04's end state: both policies current and attached to their groups."""
    n = lab.names
    attach(lab, n.engineers_group, ensure_policy(lab, n.engineer_policy, engineer_access(lab)))
    attach(lab, n.analysts_group, ensure_policy(lab, n.analyst_policy, analyst_access(lab)))
    wait_in_force(lab)


def wait_in_force(lab, home_folders: bool = True) -> None:
    """Wait (bounded) until both groups' policies are in force for their users.

    IAM is eventually consistent: on AWS a new policy, version or attachment takes
    seconds to apply everywhere (IAM user guide, "Troubleshoot IAM": changes that I
    make are not always immediately visible). Probes what each policy allows and,
    with ``home_folders``, what the analysts' home-folder Deny refuses.
    """
    n, timeout = lab.names, waiting.iam_timeout(lab)
    engineer, analyst = lab.client("s3", profile=n.engineer_user), lab.client("s3", profile=n.analyst_user)
    waiting.in_force(lambda: engineer.list_objects_v2(Bucket=n.landing_bucket, MaxKeys=1),
                     f"{n.engineer_policy} for {n.engineer_user}", timeout)
    waiting.in_force(lambda: analyst.list_objects_v2(Bucket=n.analysis_bucket, MaxKeys=1),
                     f"{n.analyst_policy} for {n.analyst_user}", timeout)
    if home_folders:
        waiting.denied_eventually(
            lambda: analyst.list_objects_v2(Bucket=n.analysis_bucket, Prefix=f"home/{n.engineer_user}/"),
            f"the home-folder Deny of {n.analyst_policy}", timeout)


# ----------------------------------------------------------------------------- teardown

def _policy_names(lab) -> tuple[str, str]:
    return (lab.names.engineer_policy, lab.names.analyst_policy)


def delete_managed_policy(iam, arn: str) -> None:
    """Detach ARN from every user, group and role, delete its old versions, then it."""
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    for group in entities.get("PolicyGroups", []):
        iam.detach_group_policy(GroupName=group["GroupName"], PolicyArn=arn)
    for user in entities.get("PolicyUsers", []):
        iam.detach_user_policy(UserName=user["UserName"], PolicyArn=arn)
    for role in entities.get("PolicyRoles", []):
        iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
        if not version["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    iam.delete_policy(PolicyArn=arn)


def teardown(lab) -> list[str]:
    """Remove lesson 04's policies; return what could not be removed, with the reason."""
    iam, problems = lab.client("iam"), []
    for name in _policy_names(lab):
        arn = policy_arn(lab, name)
        try:
            delete_managed_policy(iam, arn)
        except iam.exceptions.NoSuchEntityException:
            continue  # already gone: what teardown wants
        except Exception as exc:  # reported to the caller, never swallowed
            problems.append(f"IAM policy {arn}: {type(exc).__name__}: {exc}")
    return problems


def leftovers(lab) -> list[str]:
    """Lesson 04's policies that still exist."""
    iam = lab.client("iam")
    return [f"IAM policy {policy_arn(lab, name)}" for name in _policy_names(lab)
            if current_document(iam, policy_arn(lab, name)) is not None]


# ----------------------------------------------------------------------------- the test matrix

ROLES = ("engineer", "analyst")

#: The course's CLI test matrix: (command, engineer, analyst). The engineer's
#: column runs first: later rows read files that earlier rows wrote.
MATRIX: tuple[tuple[str, str, str], ...] = (
    ("echo hi | aws s3 cp - s3://{landing}/test/hw.txt --sse AES256", ALLOW, DENY),
    ("aws s3 ls s3://{landing}/test/", ALLOW, ALLOW),
    ("echo hi | aws s3 cp - s3://{analysis}/test/hw.txt --sse AES256", ALLOW, ALLOW),
    ("aws s3 ls s3://{analysis}/test/", ALLOW, ALLOW),
    ("aws s3 cp s3://{landing}/test/hw.txt s3://{analysis}/test/hw_copy.txt --sse AES256",
     ALLOW, ALLOW),
    ("aws s3 cp s3://{analysis}/test/hw.txt s3://{landing}/test/hw_copy.txt --sse AES256",
     ALLOW, DENY),
    ("aws s3 cp s3://{analysis}/test/hw.txt s3://{analysis}/test_copy/hw_copy.txt --sse AES256",
     ALLOW, ALLOW),
    ("aws s3 rm s3://{landing}/test/hw_copy.txt", ALLOW, DENY),
    ("aws s3 rm s3://{analysis}/test/hw_copy.txt", ALLOW, ALLOW),
    ("aws s3 cp s3://{landing}/test/hw.txt s3://{analysis}/test/hw.txt", DENY, DENY),
)
#: The prefixes the matrix writes to, cleared before a run so that it starts alike every time.
MATRIX_PREFIXES = ("test/", "test_copy/")


def matrix_commands(lab) -> list[str]:
    """MATRIX's commands with the lab's bucket names."""
    n = lab.names
    return [row[0].format(landing=n.landing_bucket, analysis=n.analysis_bucket) for row in MATRIX]


def expected(role: str) -> list[str]:
    """MATRIX's column for ROLE ("engineer" or "analyst")."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, not {role!r}")
    return [row[1 + ROLES.index(role)] for row in MATRIX]


class S3Step:
    """One S3 request a matrix command makes, and the IAM action it needs."""

    def __init__(self, operation: str, bucket: str, key: str, sse: bool = False,
                 source: tuple[str, str] | None = None):
        self.operation, self.bucket, self.key, self.sse = operation, bucket, key, sse
        self.source = source

    def permissions(self) -> list[tuple[str, str, dict]]:
        """(IAM action, resource ARN, request context) this step needs, in AWS's order."""
        if self.operation == "list":
            return [("s3:ListBucket", f"arn:aws:s3:::{self.bucket}",
                     {"s3:prefix": self.key, "s3:delimiter": "/"})]
        obj = f"arn:aws:s3:::{self.bucket}/{self.key}"
        if self.operation == "delete":
            return [("s3:DeleteObject", obj, {})]
        put_ctx = {"s3:x-amz-server-side-encryption": "AES256"} if self.sse else {}
        needs = []
        if self.source:  # a copy reads its source: s3:GetObject there
            needs.append(("s3:GetObject", f"arn:aws:s3:::{self.source[0]}/{self.source[1]}", {}))
        return needs + [("s3:PutObject", obj, put_ctx)]


def parse_command(command: str) -> S3Step:
    """The S3 step of one `aws s3 cp|ls|rm` matrix command; ValueError for anything else."""
    words = command.split("|")[-1].split()
    if words[:2] != ["aws", "s3"] or len(words) < 3 or words[2] not in ("cp", "ls", "rm"):
        raise ValueError(f"not an `aws s3 cp|ls|rm` command: {command!r}")
    uris = [_split_uri(w) for w in words if w.startswith("s3://")]
    sse = "--sse" in words
    verb = words[2]
    if verb == "ls":
        return S3Step("list", *uris[0])
    if verb == "rm":
        return S3Step("delete", *uris[0])
    if len(uris) == 1:
        return S3Step("put", *uris[0], sse=sse)
    return S3Step("copy", *uris[1], sse=sse, source=uris[0])


def _split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def run_with_boto3(s3, step: S3Step) -> tuple[str, str]:
    """Do STEP with boto3 client S3: (ALLOW | DENY | ERROR, "code: message" of the error)."""
    from botocore.exceptions import ClientError

    sse = {"ServerSideEncryption": "AES256"} if step.sse else {}
    try:
        if step.operation == "list":
            s3.list_objects_v2(Bucket=step.bucket, Prefix=step.key, Delimiter="/")
        elif step.operation == "delete":
            s3.delete_object(Bucket=step.bucket, Key=step.key)
        elif step.operation == "put":
            s3.put_object(Bucket=step.bucket, Key=step.key, Body=b"hi\n", **sse)
        else:
            s3.copy_object(Bucket=step.bucket, Key=step.key, **sse,
                           CopySource={"Bucket": step.source[0], "Key": step.source[1]})
    except ClientError as exc:
        err = exc.response["Error"]
        outcome = DENY if err.get("Code") == "AccessDenied" else ERROR
        return outcome, f"{err.get('Code')}: {err.get('Message')}"
    return ALLOW, ""


# ----------------------------------------------------------------------------- explaining

def user_arn(lab, user: str) -> str:
    return f"arn:aws:iam::{lab.account_id}:user/{user}"


def identity_policies(lab, user: str, iam=None) -> list[tuple[str, dict]]:
    """Every policy that applies to USER, read back from IAM: (name, document) pairs.

    Inline and attached policies of the user and of each of its groups.
    """
    iam = iam or lab.client("iam")
    found = [(name, iam.get_user_policy(UserName=user, PolicyName=name)["PolicyDocument"])
             for name in iam.list_user_policies(UserName=user)["PolicyNames"]]
    attached = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
    for group in iam.list_groups_for_user(UserName=user)["Groups"]:
        g = group["GroupName"]
        found += [(f"{g}/{name}", iam.get_group_policy(GroupName=g, PolicyName=name)
                   ["PolicyDocument"]) for name in iam.list_group_policies(GroupName=g)
                  ["PolicyNames"]]
        attached += iam.list_attached_group_policies(GroupName=g)["AttachedPolicies"]
    seen = set()
    for p in attached:
        if p["PolicyArn"] not in seen:
            seen.add(p["PolicyArn"])
            found.append((p["PolicyName"], current_document(iam, p["PolicyArn"])))
    return [(name, json.loads(doc) if isinstance(doc, str) else doc) for name, doc in found]


def bucket_policy_of(lab, bucket: str, s3=None) -> tuple[str, dict] | None:
    """(name, document) of BUCKET's policy, or None when it has none."""
    s3 = s3 or lab.client("s3")
    try:
        text = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchBucketPolicy", "NoSuchBucket"):
            return None
        raise
    return f"bucket policy {bucket}", json.loads(text)


def explain(lab, user: str, step: S3Step, policies=None, bucket_policies=None):
    """labkit.policy's Decision for each permission STEP needs: [(action, resource, Decision)].

    POLICIES (the user's identity policies) and BUCKET_POLICIES ({bucket: (name,
    doc) or None}) are read from the lab when not given.
    """
    from labkit.policy import Request, evaluate

    policies = identity_policies(lab, user) if policies is None else policies
    bucket_policies = {} if bucket_policies is None else bucket_policies
    out = []
    for action, resource, context in step.permissions():
        bucket = resource.split(":::", 1)[1].split("/", 1)[0]
        if bucket not in bucket_policies:
            bucket_policies[bucket] = bucket_policy_of(lab, bucket)
        # Every lab request goes over HTTPS, so lesson 02's TLS guard does not apply.
        context = {"aws:SecureTransport": "true", **context}
        request = Request(user_arn(lab, user), action, resource, context, lab.account_id)
        out.append((action, resource, evaluate(request, policies, bucket_policies[bucket])))
    return out


def deciding(decisions):
    """The decision that settles a step: the first denial, else the last allow."""
    return next((d for d in decisions if not d[2].allowed), decisions[-1])


# ----------------------------------------------------------------------------- running

def clear_matrix_objects(lab, s3=None) -> None:
    """Delete what earlier runs wrote under MATRIX_PREFIXES (as the lab's admin identity)."""
    s3 = s3 or lab.client("s3")
    for bucket in lab.names.buckets:
        for prefix in MATRIX_PREFIXES:
            listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
            for obj in listed:
                s3.delete_object(Bucket=bucket, Key=obj["Key"])


def run_matrix(lab, via: str = "cli"):
    """Run MATRIX as engineer-NAME then analyst-NAME; a pandas DataFrame, one row per cell.

    VIA is "cli" (the real `aws` CLI with the user's lab-local profile) or
    "boto3". Columns: #, command, role, expected, actual, predicted (what
    labkit.policy decides from the policies in IAM and S3), action, reason
    (the decision in AWS's words), matched (the statements that decided), error.
    """
    import pandas as pd

    if via not in ("cli", "boto3"):
        raise ValueError(f"via must be 'cli' or 'boto3', not {via!r}")
    admin_s3 = lab.client("s3")  # clients are slow to make: one each, reused
    iam = lab.client("iam")
    clear_matrix_objects(lab, admin_s3)
    rows = []
    bucket_policies = {b: bucket_policy_of(lab, b, admin_s3) for b in lab.names.buckets}
    for role in ROLES:
        user = getattr(lab.names, f"{role}_user")
        policies = identity_policies(lab, user, iam)
        user_s3 = lab.client("s3", profile=user) if via == "boto3" else None
        for number, (command, want) in enumerate(zip(matrix_commands(lab), expected(role)), 1):
            step = parse_command(command)
            if via == "cli":
                done = lab.aws(command, profile=user)
                actual, error = done.outcome, done.error
            else:
                actual, error = run_with_boto3(user_s3, step)
            action, resource, decision = deciding(explain(lab, user, step, policies,
                                                          bucket_policies))
            rows.append({"#": number, "command": command, "role": role, "expected": want,
                         "actual": actual, "predicted": ALLOW if decision.allowed else DENY,
                         "action": f"{action} {resource.split(':::', 1)[1]}",
                         "reason": str(decision),
                         "matched": ", ".join(str(r) for r in decision.reasons), "error": error})
    return pd.DataFrame(rows)


def mismatches(table) -> list[str]:
    """Cells of a run_matrix table whose actual outcome is not the expected one."""
    bad = table[table["actual"] != table["expected"]]
    return [f"row {r['#']} as {r['role']}: expected {r['expected']}, got {r['actual']} "
            f"({r['error'] or 'no error'})" for _, r in bad.iterrows()]
