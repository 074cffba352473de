"""KMS developer guide, "Create aliases": an alias name cannot begin with alias/aws/, the
prefix reserved for AWS managed keys (moto refuses only the ones it creates itself)."""
import pytest
from botocore.exceptions import ClientError


@pytest.mark.parametrize("name", ["alias/aws/mine", "alias/aws/s3"])
def test_the_aws_prefix_is_reserved(em, name):
    kms = em.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as refused:
        kms.create_alias(AliasName=name, TargetKeyId=key)
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert name not in [a["AliasName"] for a in kms.list_aliases(KeyId=key)["Aliases"]]


def test_other_aliases_are_created(em):
    kms = em.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/awsome-lake", TargetKeyId=key)
    assert "alias/awsome-lake" in [a["AliasName"] for a in kms.list_aliases(KeyId=key)["Aliases"]]
