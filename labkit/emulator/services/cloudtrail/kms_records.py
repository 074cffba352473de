"""KMS's cryptographic operations as CloudTrail records them: the key, never the data.

The KMS developer guide's CloudTrail examples ("Decrypt", "Encrypt", "GenerateDataKey",
"ReEncrypt", ... under "Logging AWS KMS API calls with AWS CloudTrail") show the
same shape for every operation that uses a key on data: ``requestParameters`` names
the key (its ARN), the algorithm (``encryptionAlgorithm`` always, even when the request
gave none) and the encryption context; the plaintext and ciphertext of the request
and of the response are omitted; ``responseElements`` is null, ``readOnly`` true, and
``resources`` holds the key.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

#: Operations that use a key on data, with the request parameters their records keep.
CRYPTO_OPERATIONS = {
    "Encrypt": ("keyId", "encryptionAlgorithm", "encryptionContext", "grantTokens"),
    "Decrypt": ("keyId", "encryptionAlgorithm", "encryptionContext", "grantTokens"),
    "ReEncrypt": ("sourceKeyId", "destinationKeyId", "sourceEncryptionAlgorithm",
                  "destinationEncryptionAlgorithm", "sourceEncryptionContext",
                  "destinationEncryptionContext", "grantTokens"),
    "GenerateDataKey": ("keyId", "keySpec", "numberOfBytes", "encryptionContext",
                        "grantTokens"),
    "GenerateDataKeyWithoutPlaintext": ("keyId", "keySpec", "numberOfBytes",
                                        "encryptionContext", "grantTokens"),
    "GenerateDataKeyPair": ("keyId", "keyPairSpec", "encryptionContext", "grantTokens"),
    "GenerateDataKeyPairWithoutPlaintext": ("keyId", "keyPairSpec", "encryptionContext",
                                            "grantTokens"),
    "GenerateRandom": ("numberOfBytes", "customKeyStoreId"),
    "Sign": ("keyId", "signingAlgorithm", "messageType", "grantTokens"),
    "Verify": ("keyId", "signingAlgorithm", "messageType", "grantTokens"),
    "GenerateMac": ("keyId", "macAlgorithm", "grantTokens"),
    "VerifyMac": ("keyId", "macAlgorithm", "grantTokens"),
}
#: Where AWS records the algorithm even when the request left it to the default.
_DEFAULT_ALGORITHM = {"Encrypt": "SYMMETRIC_DEFAULT", "Decrypt": "SYMMETRIC_DEFAULT"}
KEY_TYPE = "AWS::KMS::Key"


def is_crypto(service: str, name: str) -> bool:
    return service == "kms" and name in CRYPTO_OPERATIONS


def request_parameters(name: str, params: Optional[Dict[str, Any]],
                       keys: List[str]) -> Dict[str, Any]:
    """The kept parameters of NAME's request, keyId as the key's ARN when it was decided."""
    given = params or {}
    kept = {k: given[k] for k in CRYPTO_OPERATIONS[name] if given.get(k) not in (None, "", [])}
    if name in _DEFAULT_ALGORITHM:
        kept.setdefault("encryptionAlgorithm", _DEFAULT_ALGORITHM[name])
    if keys and "keyId" in CRYPTO_OPERATIONS[name]:
        kept["keyId"] = keys[0]  # the ARN, as AWS records it (Decrypt names no key at all)
    return kept


def key_arns(checked: List[str]) -> List[str]:
    """The KMS key ARNs among the resources decided for a request, in order, once each."""
    found: List[str] = []
    for arn in checked:
        if arn and arn.startswith("arn:") and ":kms:" in arn and ":key/" in arn \
                and arn not in found:
            found.append(arn)
    return found
