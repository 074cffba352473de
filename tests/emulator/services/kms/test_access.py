"""The KMS API through the emulator: key policy first, IAM where it delegates, grants, states.

Expectations come from the AWS KMS Developer Guide:
- "Determining access to AWS KMS keys"
  https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html
- "Key policies in AWS KMS" / "Default key policy"
  https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
  https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
- "Grants in AWS KMS" https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
- "Key states of AWS KMS keys" https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
- "Rotate AWS KMS keys" https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html
"""
from __future__ import annotations

from tests.emulator.services.kms.helpers import (ROOT, allow, cli, delegate_to_account, error,
                                                 make_user, policy)


def _key(em, *statements, bypass=False):
    kms = em.client("kms")
    kwargs = {"Policy": policy(*statements), "BypassPolicyLockoutSafetyCheck": bypass} \
        if statements else {}
    return kms.create_key(**kwargs)["KeyMetadata"]["Arn"]


def test_default_key_policy_lets_iam_policies_decide(em):
    # Default key policy: the account may use IAM policies for every KMS operation.
    arn = _key(em)
    _, user_arn, *keys = make_user(em, "kms-iam-user", allow("kms:Encrypt", "*"))
    kms = em.client("kms", *keys)
    assert kms.encrypt(KeyId=arn, Plaintext=b"x")["KeyId"] == arn
    code, status, message = error(lambda: kms.generate_data_key(KeyId=arn, KeySpec="AES_256"))
    assert (code, status) == ("AccessDeniedException", 400)
    assert message == (f"User: {user_arn} is not authorized to perform: kms:GenerateDataKey on "
                       f"resource: {arn} because no identity-based policy allows the "
                       "kms:GenerateDataKey action")


def test_iam_allow_counts_for_nothing_without_delegation(em):
    # Key policies: "IAM policies by themselves are not sufficient"; without the
    # account-root statement only principals the key policy names may use the key.
    _, _, *admin_keys = make_user(em, "kms-admin")
    _, reader_arn, *reader_keys = make_user(em, "kms-reader", allow("kms:*", "*"))
    _, named_arn, *named_keys = make_user(em, "kms-named")
    arn = _key(em, allow("kms:*", Principal={"AWS": ROOT}, Condition={
        "StringEquals": {"aws:PrincipalType": "Account"}}),
        allow("kms:Decrypt", Principal={"AWS": named_arn}))
    reader = em.client("kms", *reader_keys)
    code, _, message = error(lambda: reader.describe_key(KeyId=arn))
    assert code == "AccessDeniedException"
    assert message.endswith("because no resource-based policy allows the kms:DescribeKey action")
    blob = em.client("kms").encrypt(KeyId=arn, Plaintext=b"secret")["CiphertextBlob"]
    # Named in the key policy: no IAM policy needed.
    assert em.client("kms", *named_keys).decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    code, _, message = error(lambda: reader.decrypt(CiphertextBlob=blob))
    assert code == "AccessDeniedException"
    assert message == (f"User: {reader_arn} is not authorized to perform: kms:Decrypt on the "
                       "resource associated with this ciphertext because the resource does not "
                       "exist in this Region, no resource-based policies allow access, or a "
                       "resource-based policy explicitly denies access")


def test_root_is_not_trusted_unless_the_key_policy_says_so(em):
    # Key policies: unlike other resources, a KMS key does not give its account's root
    # access by default; a policy without it needs BypassPolicyLockoutSafetyCheck.
    _, admin_arn, *admin_keys = make_user(em, "kms-sole-admin")
    kms = em.client("kms")
    only_admin = policy(allow("kms:*", Principal={"AWS": admin_arn}))
    code, status, message = error(lambda: kms.create_key(Policy=only_admin))
    assert (code, status) == ("MalformedPolicyDocumentException", 400)
    assert message == ("The new key policy will not allow you to update the key policy in the "
                       "future.")
    arn = kms.create_key(Policy=only_admin, BypassPolicyLockoutSafetyCheck=True)[
        "KeyMetadata"]["Arn"]
    assert error(lambda: kms.describe_key(KeyId=arn))[0] == "AccessDeniedException"
    assert em.client("kms", *admin_keys).describe_key(KeyId=arn)["KeyMetadata"]["Arn"] == arn


def test_explicit_deny_in_key_policy_beats_iam_and_key_allows(em):
    _, user_arn, *keys = make_user(em, "kms-denied", allow("kms:*", "*"))
    arn = _key(em, delegate_to_account(),
               {"Effect": "Deny", "Principal": {"AWS": user_arn}, "Action": "kms:Decrypt",
                "Resource": "*"})
    kms = em.client("kms", *keys)
    blob = kms.encrypt(KeyId=arn, Plaintext=b"x")["CiphertextBlob"]
    code, _, message = error(lambda: kms.decrypt(CiphertextBlob=blob, KeyId=arn))
    assert code == "AccessDeniedException"
    assert message.endswith("with an explicit deny in a resource-based policy")
    # moto's own check denied DescribeKey to everyone once any Deny was present: not AWS.
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["Arn"] == arn


def test_encryption_context_conditions(em):
    # Condition keys: kms:EncryptionContext:<key> is the request's encryption context pair.
    _, _, *keys = make_user(em, "kms-context", allow("kms:Encrypt", "*", Condition={
        "StringEquals": {"kms:EncryptionContext:project": "lake"}}))
    arn = _key(em)
    kms = em.client("kms", *keys)
    kms.encrypt(KeyId=arn, Plaintext=b"x", EncryptionContext={"project": "lake"})
    assert error(lambda: kms.encrypt(KeyId=arn, Plaintext=b"x",
                                     EncryptionContext={"project": "other"}))[0] == \
        "AccessDeniedException"
    assert error(lambda: kms.encrypt(KeyId=arn, Plaintext=b"x"))[0] == "AccessDeniedException"


def test_caller_account_condition_in_key_policy(em):
    _, _, *keys = make_user(em, "kms-acct")
    arn = _key(em, delegate_to_account(),
               allow("kms:Encrypt", Principal={"AWS": "*"},
                     Condition={"StringEquals": {"kms:CallerAccount": "123456789012"}}))
    em.client("kms", *keys).encrypt(KeyId=arn, Plaintext=b"x")
    other = _key(em, delegate_to_account(),
                 allow("kms:Encrypt", Principal={"AWS": "*"},
                       Condition={"StringEquals": {"kms:CallerAccount": "111122223333"}}))
    assert error(lambda: em.client("kms", *keys).encrypt(KeyId=other, Plaintext=b"x"))[0] == \
        "AccessDeniedException"


def test_grants_add_access_and_are_retired_or_revoked(em):
    # Grants: a grant allows its grantee the grant operations, within its constraints.
    _, grantee_arn, *keys = make_user(em, "kms-grantee")
    _, retiree_arn, *retire_keys = make_user(em, "kms-retiree")
    arn = _key(em)
    kms, user = em.client("kms"), em.client("kms", *keys)
    blob = kms.encrypt(KeyId=arn, Plaintext=b"x", EncryptionContext={"team": "a"})[
        "CiphertextBlob"]
    assert error(lambda: user.decrypt(CiphertextBlob=blob,
                                      EncryptionContext={"team": "a"}))[0] == \
        "AccessDeniedException"
    grant = kms.create_grant(KeyId=arn, GranteePrincipal=grantee_arn, Operations=["Decrypt"],
                             RetiringPrincipal=retiree_arn,
                             Constraints={"EncryptionContextSubset": {"team": "a"}})
    assert user.decrypt(CiphertextBlob=blob, EncryptionContext={"team": "a"})["Plaintext"] == b"x"
    # Operations not in the grant stay denied.
    assert error(lambda: user.encrypt(KeyId=arn, Plaintext=b"y"))[0] == "AccessDeniedException"
    # The constraint is checked: another context is not covered.
    other = kms.encrypt(KeyId=arn, Plaintext=b"x", EncryptionContext={"team": "b"})[
        "CiphertextBlob"]
    assert error(lambda: user.decrypt(CiphertextBlob=other,
                                      EncryptionContext={"team": "b"}))[0] == \
        "AccessDeniedException"
    listed = kms.list_grants(KeyId=arn)["Grants"]
    assert [g["GrantId"] for g in listed] == [grant["GrantId"]]
    em.client("kms", *retire_keys).retire_grant(GrantToken=grant["GrantToken"])
    assert error(lambda: user.decrypt(CiphertextBlob=blob,
                                      EncryptionContext={"team": "a"}))[0] == \
        "AccessDeniedException"
    second = kms.create_grant(KeyId=arn, GranteePrincipal=grantee_arn, Operations=["Encrypt"])
    user.encrypt(KeyId=arn, Plaintext=b"y")
    kms.revoke_grant(KeyId=arn, GrantId=second["GrantId"])
    assert error(lambda: user.encrypt(KeyId=arn, Plaintext=b"y"))[0] == "AccessDeniedException"


def test_create_grant_condition_keys(em):
    # kms:GrantOperations limits which operations a principal may delegate.
    _, _, *keys = make_user(em, "kms-granter", allow("kms:CreateGrant", "*", Condition={
        "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]}}))
    _, grantee_arn, *_ = make_user(em, "kms-g2")
    arn = _key(em)
    kms = em.client("kms", *keys)
    kms.create_grant(KeyId=arn, GranteePrincipal=grantee_arn, Operations=["Decrypt"])
    assert error(lambda: kms.create_grant(KeyId=arn, GranteePrincipal=grantee_arn,
                                          Operations=["Decrypt", "CreateGrant"]))[0] == \
        "AccessDeniedException"


def test_disabled_and_pending_deletion_keys_refuse_cryptography(em):
    # Key states table: Disabled -> DisabledException; PendingDeletion -> KMSInvalidStateException.
    kms = em.client("kms")
    arn = _key(em)
    blob = kms.encrypt(KeyId=arn, Plaintext=b"x")["CiphertextBlob"]
    kms.disable_key(KeyId=arn)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Disabled"
    assert error(lambda: kms.decrypt(CiphertextBlob=blob)) == (
        "DisabledException", 400, f"{arn} is disabled.")
    assert error(lambda: kms.enable_key_rotation(KeyId=arn))[0] == "DisabledException"
    kms.enable_key(KeyId=arn)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    assert error(lambda: kms.cancel_key_deletion(KeyId=arn)) == (
        "KMSInvalidStateException", 400, f"{arn} is not pending deletion.")
    kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    assert error(lambda: kms.generate_data_key(KeyId=arn, KeySpec="AES_256")) == (
        "KMSInvalidStateException", 400, f"{arn} is pending deletion.")
    assert error(lambda: kms.enable_key(KeyId=arn))[0] == "KMSInvalidStateException"
    kms.cancel_key_deletion(KeyId=arn)
    # CancelKeyDeletion leaves the key Disabled (key states).
    assert error(lambda: kms.decrypt(CiphertextBlob=blob))[0] == "DisabledException"


def test_authorization_comes_before_the_key_state(em):
    _, _, *keys = make_user(em, "kms-nobody")
    arn = _key(em)
    em.client("kms").disable_key(KeyId=arn)
    assert error(lambda: em.client("kms", *keys).encrypt(KeyId=arn, Plaintext=b"x"))[0] == \
        "AccessDeniedException"


def test_rotation_needs_its_own_permissions(em):
    _, _, *keys = make_user(em, "kms-rotator", allow(
        ["kms:EnableKeyRotation", "kms:GetKeyRotationStatus"], "*"))
    arn = _key(em)
    kms = em.client("kms", *keys)
    assert kms.get_key_rotation_status(KeyId=arn)["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=arn)
    assert kms.get_key_rotation_status(KeyId=arn)["KeyRotationEnabled"] is True
    assert error(lambda: kms.disable_key_rotation(KeyId=arn))[0] == "AccessDeniedException"


def test_alias_operations_check_the_alias_and_the_key(em):
    # Permissions reference: CreateAlias needs kms:CreateAlias on the alias (IAM) and the key.
    arn = _key(em)
    _, _, *alias_only = make_user(em, "kms-alias-only", allow("kms:CreateAlias",
                                                              "arn:aws:kms:*:*:alias/team-*"))
    code, _, message = error(lambda: em.client("kms", *alias_only).create_alias(
        AliasName="alias/team-a", TargetKeyId=arn))
    assert code == "AccessDeniedException" and f"kms:CreateAlias on resource: {arn}" in message
    _, _, *keys = make_user(em, "kms-aliaser", allow("kms:CreateAlias", [
        "arn:aws:kms:*:*:alias/team-*", "arn:aws:kms:*:*:key/*"]))
    kms = em.client("kms", *keys)
    kms.create_alias(AliasName="alias/team-lake", TargetKeyId=arn)
    code, _, message = error(lambda: kms.create_alias(AliasName="alias/other", TargetKeyId=arn))
    assert code == "AccessDeniedException" and "alias/other" in message
    # An alias names the key in other calls too.
    em.client("kms").encrypt(KeyId="alias/team-lake", Plaintext=b"x")


def test_the_cli_sees_the_key_policy_decide(em, tmp_path):
    _, user_arn, key_id, secret = make_user(em, "kms-cli", allow("kms:*", "*"))
    arn = _key(em, allow("kms:*", Principal={"AWS": ROOT}, Condition={
        "StringEquals": {"aws:PrincipalType": "Account"}}))
    result = cli(em, key_id, secret, tmp_path, "kms", "describe-key", "--key-id", arn)
    assert result.returncode != 0
    assert "AccessDeniedException" in result.stderr
    assert f"User: {user_arn} is not authorized to perform: kms:DescribeKey" in result.stderr


def test_deletion_window_is_7_to_30_days(em):
    # ScheduleKeyDeletion API: PendingWindowInDays "minimum value of 7. Maximum value of 30".
    arn = _key(em)
    kms = em.client("kms")
    code, status, message = error(lambda: kms.schedule_key_deletion(KeyId=arn,
                                                                    PendingWindowInDays=3))
    assert (code, status) == ("ValidationException", 400)
    assert "greater than or equal to 7" in message
    assert error(lambda: kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=31))[0] == \
        "ValidationException"
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Enabled"
    kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "PendingDeletion"


def test_malformed_key_policy_is_refused(em):
    arn = _key(em)
    code, status, message = error(lambda: em.client("kms").put_key_policy(
        KeyId=arn, PolicyName="default", Policy="{not json"))
    assert (code, status) == ("MalformedPolicyDocumentException", 400)
    assert "not JSON" in message


def _role_session(em, prefix, role_name, session_policy=None):
    """A session of ROLE_NAME (trusting the account), assumed by a new user; its KMS client."""
    import boto3
    from botocore.config import Config

    iam = em.client("iam")
    trust = policy({"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"})
    role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    _, _, *keys = make_user(em, prefix, allow("sts:AssumeRole", role_arn))
    kwargs = {"Policy": session_policy} if session_policy else {}
    creds = em.client("sts", *keys).assume_role(RoleArn=role_arn, RoleSessionName="kms-session",
                                                 **kwargs)["Credentials"]
    session = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], region_name="us-east-1")
    return role_arn, session.client("kms", config=Config(proxies={"https": em.proxy_url}),
                                    verify=str(em.ca_bundle))


def test_key_policy_naming_a_role_covers_its_sessions_and_grants_too(em):
    # Key policies: a role ARN as Principal applies to the role's sessions; so does a grant.
    role_arn, kms = _role_session(em, "kms-role-user", "kms-pipeline-role")
    arn = _key(em, delegate_to_account(), allow("kms:Encrypt", Principal={"AWS": role_arn}))
    kms.encrypt(KeyId=arn, Plaintext=b"x")
    assert error(lambda: kms.generate_data_key(KeyId=arn, KeySpec="AES_256"))[0] == \
        "AccessDeniedException"
    em.client("kms").create_grant(KeyId=arn, GranteePrincipal=role_arn,
                                  Operations=["GenerateDataKey"])
    assert len(kms.generate_data_key(KeyId=arn, KeySpec="AES_256")["Plaintext"]) == 32


def test_session_policy_limits_a_key_policy_allow_for_a_role(em):
    # Session policies limit what a role ARN in a resource policy grants its sessions.
    role_arn, kms = _role_session(em, "kms-role-limited", "kms-limited-role",
                                  session_policy=policy(allow("kms:Decrypt")))
    arn = _key(em, delegate_to_account(), allow("kms:Encrypt", Principal={"AWS": role_arn}))
    assert error(lambda: kms.encrypt(KeyId=arn, Plaintext=b"x"))[0] == "AccessDeniedException"
