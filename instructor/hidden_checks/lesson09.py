"""Hidden checks for lesson 09 (graded by `labkit regrade`, never shipped to learners)."""
from __future__ import annotations

import json

from labkit.checks import Fail, check
from labkit.checks.lesson09 import _key
from labkit.topics import encryption_keys as keys


@check("09.via-s3-only", points=2, hidden=True,
       hint="Add Condition StringEquals kms:ViaService s3.<region>.amazonaws.com to the "
            "analysts' and engineers' statements")
def via_s3_only(lab):
    """Analysts and engineers may use the key only through S3, not by calling KMS directly."""
    meta = _key(lab)
    blob = lab.client("kms").encrypt(KeyId=meta["Arn"], Plaintext=b"probe")["CiphertextBlob"]
    analyst = lab.client("kms", lab.names.analyst_user)
    code, _ = keys.attempt(analyst.decrypt, CiphertextBlob=blob)
    if code != "AccessDeniedException":
        raise Fail(f"{lab.names.analyst_user} can call kms:Decrypt directly ({code})")
    engineer = lab.client("kms", lab.names.engineer_user)
    code, _ = keys.attempt(engineer.generate_data_key, KeyId=meta["Arn"], KeySpec="AES_256")
    if code != "AccessDeniedException":
        raise Fail(f"{lab.names.engineer_user} can call kms:GenerateDataKey directly ({code})")
    return "key users reach the key through S3 only"


@check("09.no-broad-user-grants", points=1, hidden=True,
       hint="Statements for analysts and engineers list their actions; no kms:* or kms:Put*")
def no_broad_user_grants(lab):
    """No key policy statement gives analysts or engineers administrative or wildcard actions."""
    meta = _key(lab)
    doc = json.loads(lab.client("kms").get_key_policy(KeyId=meta["Arn"],
                                                      PolicyName="default")["Policy"])
    users = {keys.user_arn(lab, lab.names.analyst_user), keys.user_arn(lab, lab.names.engineer_user)}
    statements = doc.get("Statement", [])
    for st in statements if isinstance(statements, list) else [statements]:
        principal = (st.get("Principal") or {})
        named = principal.get("AWS", []) if isinstance(principal, dict) else principal
        named = {named} if isinstance(named, str) else set(named)
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        broad = [a for a in actions if "*" in a]
        if st.get("Effect") == "Allow" and named & users and broad:
            raise Fail(f"statement {st.get('Sid', '?')} gives {sorted(named & users)} {broad}")
    return "key users get only the actions they need"


@check("09.account-keeps-control", points=1, hidden=True,
       hint="Keep the statement that allows the account root kms:* (AWS's default)")
def account_keeps_control(lab):
    """The lab's own identity can still read the key policy: the key is not unmanageable."""
    meta = _key(lab)
    lab.client("kms").get_key_policy(KeyId=meta["Arn"], PolicyName="default")
    return "the account can still manage the key"
