"""KMS behaviour moto lacks or gets wrong, patched into moto's KMS (the store).

- moto refuses DescribeKey (and others) when the key policy holds *any* Deny
  statement for the action, whatever its Principal or Condition. Key policies
  are decided by labkit (access.py), as KMS documents, before moto sees the
  request; moto's own check is switched off so it cannot contradict that.
- AWS managed keys (``alias/aws/s3`` and friends, created by moto on first use)
  get AWS's managed-key policy: every principal of the account may use the key
  through that one service (kms:CallerAccount + kms:ViaService), and they are
  reported with KeyManager AWS.
- DisableKey, EnableKey, CancelKeyDeletion and ScheduleKeyDeletion accept a key
  ARN on AWS (KeyId: "key ID or key ARN"); moto fails with KeyError on one. KMS "AWS managed keys"
  (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key).
"""
from __future__ import annotations

import json

from labkit.emulator.patching import replace

_INSTALLED = []


def managed_key_policy(account: str, region: str, service: str) -> str:
    """The key policy of the AWS managed key for SERVICE (e.g. "s3")."""
    via = f"{service}.{region}.amazonaws.com"
    return json.dumps({
        "Version": "2012-10-17",
        "Id": f"auto-{service}-2",
        "Statement": [
            {"Sid": f"Allow access through {service.upper()} for all principals in the account "
                    "that are authorized to use it",
             "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                        "kms:DescribeKey"],
             "Resource": "*",
             "Condition": {"StringEquals": {"kms:CallerAccount": account,
                                            "kms:ViaService": via}}},
            {"Sid": "Allow direct access to key metadata to the account",
             "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
             "Action": ["kms:Describe*", "kms:Get*", "kms:List*"], "Resource": "*"},
        ],
    })


def _no_moto_policy_check(key, action) -> None:
    """moto's own key-policy check: labkit's gateway has decided every KMS call already."""


def install() -> None:
    """Apply the patches above once. Idempotent."""
    if _INSTALLED:
        return
    _declare_condition_keys()
    from moto.kms import responses
    from moto.kms.models import KmsBackend

    replace(responses, "validate_policy", _no_moto_policy_check)
    original = KmsBackend._generate_default_keys

    def generate_default_keys(self, alias_name):
        key_id = original(self, alias_name)
        key = self.keys.get(key_id) if key_id else None
        if key is not None:
            service = alias_name.split("/")[-1]
            key.policy = managed_key_policy(self.account_id, self.region_name, service)
            key.key_manager = "AWS"
        return key_id

    replace(KmsBackend, "_generate_default_keys", generate_default_keys)
    for name in ("disable_key", "enable_key", "cancel_key_deletion", "schedule_key_deletion"):
        replace(KmsBackend, name, _by_key_id(getattr(KmsBackend, name)))
    _INSTALLED.append(True)


def _by_key_id(method):
    """METHOD(backend, key_id, ...) accepting a key ARN as AWS does."""

    def patched(self, key_id, *args, **kwargs):
        return method(self, self.get_key_id(key_id), *args, **kwargs)

    patched.__name__ = method.__name__
    return patched


#: The KMS condition keys services.kms.actions and kms.s3 fill (see authz.coverage).
KMS_KEYS = ("kms:calleraccount", "kms:encryptioncontext:", "kms:encryptioncontextkeys",
            "kms:encryptionalgorithm", "kms:grantoperations", "kms:granteeprincipal",
            "kms:retiringprincipal", "kms:grantisforawsresource", "kms:grantconstrainttype",
            "kms:keyspec", "kms:keyusage", "kms:keyorigin", "kms:multiregion",
            "kms:requestalias", "kms:resourcealiases", "kms:bypasspolicylockoutsafetycheck",
            "kms:schedulekeydeletionpendingwindowindays", "kms:rotationperiodindays",
            "kms:viaservice")


def _declare_condition_keys() -> None:
    """Tell the coverage report which KMS keys are filled, so none is flagged as unmodelled."""
    from labkit.emulator.authz import coverage

    coverage.register_modelled(KMS_KEYS)
    coverage.register_service_keys("kms", ("aws:resourcetag/", "aws:requesttag/", "aws:tagkeys"))
