"""Checks for lesson 09: the analysis key, its key policy, the bucket default, rotation.

Every check reads real state or makes real calls as the lab's users; a check that
writes (09.key-users) writes one small probe object, always the same key.
"""
from __future__ import annotations

from labkit.checks import Fail, check
from labkit.topics import encryption_keys as keys

PROBE_KEY = "checks/09-key-users-probe.txt"


def _key(lab) -> dict:
    meta = keys.find_key(lab)
    if meta is None:
        raise Fail(f"there is no KMS key behind {keys.alias(lab)}",
                   "Create the key (kms.create_key) and its alias (kms.create_alias)")
    return meta


def _denied(code: str, message: str, action: str) -> bool:
    return code in ("AccessDenied", "AccessDeniedException") and action in message


@check("09.key", points=2,
       hint='a customer managed key with the alias the lesson names, created with your key policy',
       docs='AWS KMS Developer Guide › Create a KMS key; Aliases in AWS KMS; Key policies in AWS KMS',
       reference='labkit.topics.encryption_keys.ensure_key(lab, policy) creates it with the alias')
def key(lab):
    """The alias names an enabled, symmetric, customer managed key."""
    meta = _key(lab)
    if meta.get("KeyManager") != "CUSTOMER":
        raise Fail(f"{keys.alias(lab)} names an AWS managed key; lesson 09 needs your own key")
    if meta.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        raise Fail(f"the key is {meta['KeySpec']}; S3 needs a symmetric key (SYMMETRIC_DEFAULT)")
    if meta["KeyState"] != "Enabled":
        raise Fail(f"the key is {meta['KeyState']}: nothing encrypted with it can be read",
                   "kms.enable_key(KeyId=key_arn) (or cancel_key_deletion, then enable_key)")
    return f"{keys.alias(lab)} -> {meta['Arn']} (Enabled)"


@check("09.key-admins", points=2,
       hint="Name the admin user in a statement with the administrative actions only",
       docs='AWS KMS Developer Guide › Default key policy › Allows key administrators to administer the KMS key')
def key_admins(lab):
    """The admin user may manage the key; analysts and engineers may not."""
    meta, n = _key(lab), lab.names
    lab.client("kms", n.admin_user).get_key_policy(KeyId=meta["Arn"], PolicyName="default")
    for user in (n.analyst_user, n.engineer_user):
        kms = lab.client("kms", user)
        code, message = keys.attempt(kms.get_key_policy, KeyId=meta["Arn"], PolicyName="default")
        if not _denied(code, message, "kms:GetKeyPolicy"):
            raise Fail(f"{user} may read the key policy ({code}): only administrators should",
                       "Give analysts and engineers only Decrypt / GenerateDataKey (+DescribeKey)")
    return f"{n.admin_user} administers the key; {n.analyst_user} and {n.engineer_user} cannot"


@check("09.key-users", points=3,
       hint="Analysts: kms:Decrypt; engineers: kms:GenerateDataKey (both with kms:ViaService s3)",
       docs='AWS KMS Developer Guide › kms:ViaService; Default key policy › Allows key users to use the KMS key')
def key_users(lab):
    """Engineers can write with the key but not read; analysts can read but not write."""
    meta, n = _key(lab), lab.names
    bucket = n.analysis_bucket
    engineer, analyst = lab.client("s3", n.engineer_user), lab.client("s3", n.analyst_user)
    code, message = keys.attempt(engineer.put_object, Bucket=bucket, Key=PROBE_KEY, Body=b"probe",
                                 ServerSideEncryption="aws:kms", SSEKMSKeyId=meta["Arn"])
    if code != "OK":
        raise Fail(f"{n.engineer_user} cannot write with the key: {code} {message}")
    code, message = keys.attempt(engineer.get_object, Bucket=bucket, Key=PROBE_KEY)
    if not _denied(code, message, "kms:Decrypt"):
        raise Fail(f"{n.engineer_user} could read an SSE-KMS object ({code}); engineers must "
                   "not decrypt")
    code, message = keys.attempt(analyst.get_object, Bucket=bucket, Key=PROBE_KEY)
    if code != "OK":
        raise Fail(f"{n.analyst_user} cannot read an SSE-KMS object: {code} {message}")
    code, message = keys.attempt(analyst.put_object, Bucket=bucket, Key=PROBE_KEY, Body=b"x",
                                 ServerSideEncryption="aws:kms", SSEKMSKeyId=meta["Arn"])
    if not _denied(code, message, "kms:GenerateDataKey"):
        raise Fail(f"{n.analyst_user} could write with the key ({code}); analysts only decrypt")
    return "engineers encrypt without reading, analysts decrypt without writing"


@check("09.separation", points=3,
       hint="The admin's AdministratorAccess reaches the key through the account statement; "
            "only an explicit Deny in the key policy takes that away",
       docs="AWS KMS Developer Guide › Key policies in AWS KMS (Deny statements, "
            "aws:PrincipalArn); Encryption context (kms:EncryptionContext:aws:s3:arn); "
            "Amazon S3 User Guide › Using SSE-KMS",
       reference="labkit.topics.encryption_keys.separation(lab) holds the two Deny statements; "
                 "encryption_keys.via_s3(lab) the condition for the key users")
def separation(lab):
    """The admin, with AdministratorAccess, cannot use the key on data nor give itself use;
    the key works through S3 on the analysis bucket only."""
    import json

    meta, n = _key(lab), lab.names
    kms, admin_kms = lab.client("kms"), lab.client("kms", n.admin_user)
    blob = kms.encrypt(KeyId=meta["Arn"], Plaintext=b"probe")["CiphertextBlob"]
    admin_self = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": keys.user_arn(lab, n.admin_user)},
        "Action": "kms:*", "Resource": "*"}]}
    attacks = {
        "decrypt with KMS directly": (admin_kms.decrypt, dict(CiphertextBlob=blob),
                                      "kms:Decrypt"),
        "read an SSE-KMS object through S3": (
            lab.client("s3", n.admin_user).get_object,
            dict(Bucket=n.analysis_bucket, Key=keys.CURATED_KEY), "kms:Decrypt"),
        "rewrite the key policy to name itself": (
            admin_kms.put_key_policy, dict(KeyId=meta["Arn"], PolicyName="default",
                                           Policy=json.dumps(admin_self)), "kms:PutKeyPolicy"),
        "grant itself Decrypt": (
            admin_kms.create_grant, dict(KeyId=meta["Arn"], Operations=["Decrypt"],
                                         GranteePrincipal=keys.user_arn(lab, n.admin_user)),
            "kms:CreateGrant"),
    }
    for what, (call, params, action) in attacks.items():
        code, message = keys.attempt(call, **params)
        if not _denied(code, message, action):
            raise Fail(f"{n.admin_user} can {what} ({code}): administering the key must not "
                       "mean using it")
    code, message = keys.attempt(
        lab.client("s3", n.engineer_user).put_object, Bucket=n.landing_bucket,
        Key="checks/09-other-bucket-probe.txt", Body=b"x", ServerSideEncryption="aws:kms",
        SSEKMSKeyId=meta["Arn"])
    if not _denied(code, message, "kms:GenerateDataKey"):
        raise Fail(f"{n.engineer_user} can use the analysis key on {n.landing_bucket} ({code})",
                   "Limit the key users' statements with kms:EncryptionContext:aws:s3:arn")
    return (f"{n.admin_user} cannot decrypt, rewrite the policy or grant itself use; the key "
            f"works through S3 on {n.analysis_bucket} only")


@check("09.bucket-default", points=2,
       hint="put_bucket_encryption with SSEAlgorithm aws:kms, KMSMasterKeyID=key_arn, "
            "BucketKeyEnabled=True",
       docs='Amazon S3 User Guide › Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys; Setting default server-side encryption behavior for Amazon S3 buckets')
def bucket_default(lab):
    """The analysis bucket encrypts new objects with the analysis key and a Bucket Key."""
    meta = _key(lab)
    rule = keys.bucket_rule(lab)
    default = rule["ApplyServerSideEncryptionByDefault"]
    if default.get("SSEAlgorithm") != "aws:kms":
        raise Fail(f"default encryption is {default.get('SSEAlgorithm')}, not aws:kms")
    named = default.get("KMSMasterKeyID", "")
    if named not in (meta["Arn"], meta["KeyId"], keys.alias(lab)):
        raise Fail(f"default encryption names {named or 'no key (aws/s3)'}, not "
                   f"{keys.alias(lab)}")
    if not rule.get("BucketKeyEnabled"):
        raise Fail("the S3 Bucket Key is off: every object would cost its own KMS call")
    return f"SSE-KMS with {keys.alias(lab)}, Bucket Key on"


@check("09.curated", points=2,
       hint="As the engineer: put_object(..., ServerSideEncryption='aws:kms', SSEKMSKeyId=key_arn)",
       docs='Amazon S3 User Guide › Specifying server-side encryption with AWS KMS (SSE-KMS)')
def curated(lab):
    """curated/customer_orders.csv is in the analysis bucket, encrypted with the analysis key."""
    meta = _key(lab)
    s3 = lab.client("s3")
    try:
        head = s3.head_object(Bucket=lab.names.analysis_bucket, Key=keys.CURATED_KEY)
    except s3.exceptions.ClientError:
        raise Fail(f"there is no s3://{lab.names.analysis_bucket}/{keys.CURATED_KEY}") from None
    if head.get("ServerSideEncryption") != "aws:kms" or head.get("SSEKMSKeyId") != meta["Arn"]:
        raise Fail(f"{keys.CURATED_KEY} is encrypted with {head.get('ServerSideEncryption')} "
                   f"{head.get('SSEKMSKeyId', '')}, not with {meta['Arn']}")
    return f"{keys.CURATED_KEY}: aws:kms with the analysis key"


@check("09.rotation", points=1,
       hint="kms.enable_key_rotation(KeyId=key_arn)",
       docs='AWS KMS Developer Guide › Rotate AWS KMS keys')
def rotation(lab):
    """Automatic rotation of the key material is on."""
    meta = _key(lab)
    status = lab.client("kms").get_key_rotation_status(KeyId=meta["Arn"])
    if not status["KeyRotationEnabled"]:
        raise Fail("automatic key rotation is off")
    return "automatic rotation on"
