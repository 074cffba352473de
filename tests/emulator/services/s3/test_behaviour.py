"""S3 security fidelity: AWS's defaults, Block Public Access, ACLs, policy checks.

Each test drives boto3 against moto's ``mock_aws`` with the fidelity patches
installed, and asserts AWS's answer (error code and message).
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.server import ThreadedMotoServer
from moto.s3.models import S3Backend, s3_backends
from moto.s3control.models import s3control_backends

from labkit.config import DEFAULT_REGION, EMULATOR_ACCOUNT_ID
from labkit.emulator.services.s3 import behaviour as fidelity_s3
from labkit.policy import is_public

BUCKET = "demo-landing-zone"
ACCOUNT = EMULATOR_ACCOUNT_ID
ALL_BLOCKED = {flag: True for flag in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}
ALL_OPEN = {flag: False for flag in ALL_BLOCKED}
ALL_USERS = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'


@pytest.fixture(scope="module")
def clients():
    """One mock_aws for the module: starting and stopping it costs seconds."""
    fidelity_s3.install()
    with mock_aws():
        yield {name: boto3.client(name, region_name=DEFAULT_REGION) for name in ("s3", "s3control", "iam")}


@pytest.fixture(autouse=True)
def fresh_backends(clients):
    """Each test starts from empty S3 and S3 Control state.

    IAM is not reset: rebuilding its backend reloads the managed policies and
    takes seconds; the one test that creates a user tolerates it existing.
    """
    yield
    for backends in (s3_backends, s3control_backends):
        for account_backends in list(backends.values()):
            account_backends.reset()


@pytest.fixture
def bare_s3(clients):
    return clients["s3"]


@pytest.fixture
def s3(bare_s3):
    bare_s3.create_bucket(Bucket=BUCKET)
    return bare_s3


@pytest.fixture
def s3control(clients):
    return clients["s3control"]


@pytest.fixture
def iam(clients):
    return clients["iam"]


def error_of(call, *args, **kwargs) -> tuple[int, str, str]:
    """(HTTP status, error code, message) of a call that must fail."""
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    response = info.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def public_read(bucket: str = BUCKET, **extra) -> dict:
    return {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*", **extra}


def open_bucket(s3, bucket: str = BUCKET) -> None:
    """Turn the bucket's Block Public Access off and re-enable ACLs."""
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=ALL_OPEN)
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})


BLOCKED_POLICY_MESSAGE = (
    "User: arn:aws:sts::{account}:user/moto is not authorized to perform: s3:PutBucketPolicy on resource: "
    '"arn:aws:s3:::{bucket}" because public policies are blocked by the BlockPublicPolicy block public access setting.'
)


# --- install ---------------------------------------------------------------------


def test_install_is_idempotent():
    wrapped = S3Backend.create_bucket
    fidelity_s3.install()
    assert S3Backend.create_bucket is wrapped
    assert not getattr(wrapped.__wrapped__, "_labkit_s3_fidelity", False)


# --- defaults of new buckets -----------------------------------------------------------


def test_new_bucket_has_sse_s3_default_encryption(s3):
    config = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]
    assert config["Rules"] == [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]


def test_new_bucket_blocks_all_public_access(s3):
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"] == ALL_BLOCKED


def test_new_bucket_has_acls_disabled(s3):
    rules = s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_create_bucket_object_ownership_header_wins(bare_s3):
    s3 = bare_s3
    s3.create_bucket(Bucket="writer-owned", ObjectOwnership="ObjectWriter")
    rules = s3.get_bucket_ownership_controls(Bucket="writer-owned")["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "ObjectWriter"}]


def test_put_object_without_sse_is_stored_with_aes256(s3):
    put = s3.put_object(Bucket=BUCKET, Key="raw/a.csv", Body=b"a,b\n")
    assert put["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=BUCKET, Key="raw/a.csv")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=BUCKET, Key="raw/a.csv")["ServerSideEncryption"] == "AES256"


def test_put_object_with_kms_reports_kms_and_key(s3):
    key_id = f"arn:aws:kms:{DEFAULT_REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key_id)
    head = s3.head_object(Bucket=BUCKET, Key="k")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key_id)


def test_put_object_with_kms_and_no_key_reports_aws_managed_key(s3):
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"x", ServerSideEncryption="aws:kms")
    head = s3.head_object(Bucket=BUCKET, Key="k")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == fidelity_s3.aws_managed_s3_key_arn(ACCOUNT, DEFAULT_REGION)
    assert head["SSEKMSKeyId"].startswith(f"arn:aws:kms:{DEFAULT_REGION}:{ACCOUNT}:key/")


def test_multipart_upload_gets_default_encryption(s3):
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="big")
    part = s3.upload_part(Bucket=BUCKET, Key="big", UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 10)
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key="big", UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    assert s3.head_object(Bucket=BUCKET, Key="big")["ServerSideEncryption"] == "AES256"


def test_delete_bucket_encryption_falls_back_to_sse_s3(s3):
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]},
    )
    s3.delete_bucket_encryption(Bucket=BUCKET)
    rule = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


# --- Block Public Access: policies ---------------------------------------------------------------


def test_public_policy_refused_while_bucket_blocks_public_policy(s3):
    status, code, message = error_of(s3.put_bucket_policy, Bucket=BUCKET, Policy=policy(public_read()))
    assert (status, code) == (403, "AccessDenied")
    assert message == BLOCKED_POLICY_MESSAGE.format(account=ACCOUNT, bucket=BUCKET)
    assert error_of(s3.get_bucket_policy, Bucket=BUCKET)[1] == "NoSuchBucketPolicy"


def test_public_policy_refused_while_account_blocks_public_policy(s3, s3control):
    s3.delete_public_access_block(Bucket=BUCKET)
    s3control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    status, code, _ = error_of(s3.put_bucket_policy, Bucket=BUCKET, Policy=policy(public_read()))
    assert (status, code) == (403, "AccessDenied")


def test_public_policy_accepted_once_unblocked_and_reported_public(s3):
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=ALL_OPEN)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy(public_read()))
    assert s3.get_bucket_policy_status(Bucket=BUCKET)["PolicyStatus"]["IsPublic"] is True


def test_policy_for_fixed_principal_accepted_while_blocked(s3):
    statement = public_read(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy(statement))
    assert s3.get_bucket_policy_status(Bucket=BUCKET)["PolicyStatus"]["IsPublic"] is False


def test_deny_everyone_policy_is_not_public(s3):
    deny_unencrypted = {
        "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*",
        "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}},
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy(deny_unencrypted))
    assert s3.get_bucket_policy_status(Bucket=BUCKET)["PolicyStatus"]["IsPublic"] is False


def test_secure_transport_condition_alone_keeps_policy_public(s3):
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=ALL_OPEN)
    statement = public_read(Condition={"Bool": {"aws:SecureTransport": "true"}})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy(statement))
    assert s3.get_bucket_policy_status(Bucket=BUCKET)["PolicyStatus"]["IsPublic"] is True


def test_access_point_delegation_policy_is_not_public(s3):
    statement = {
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*",
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
        "Condition": {"StringEquals": {"s3:DataAccessPointAccount": ACCOUNT}},
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy(statement))
    assert s3.get_bucket_policy_status(Bucket=BUCKET)["PolicyStatus"]["IsPublic"] is False


@pytest.mark.parametrize(
    ("condition", "public"),
    [
        ({"Bool": {"aws:SecureTransport": "true"}}, True),
        ({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}, False),
        ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, True),
        ({"StringEquals": {"aws:SourceVpc": "vpc-91237329"}}, False),
        ({"StringLike": {"aws:SourceVpc": "vpc-*"}}, True),
        ({"StringNotEquals": {"aws:SourceVpc": "vpc-91237329"}}, True),
        ({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-91237329"}}, True),
        ({"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}}, True),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}, False),
        ({"StringLike": {"s3:DataAccessPointArn": f"arn:aws:s3:{DEFAULT_REGION}:{ACCOUNT}:accesspoint/*"}}, False),
    ],
)
def test_meaning_of_public_for_conditions(condition, public):
    assert is_public(policy(public_read(Condition=condition))) is public


@pytest.mark.parametrize(
    ("principal", "public"),
    [("*", True), ({"AWS": "*"}, True), ({"AWS": ["arn:aws:iam::111122223333:root", "*"]}, True),
     ({"AWS": "arn:aws:iam::*:root"}, True), ({"AWS": ACCOUNT}, False), ({"Service": "logging.s3.amazonaws.com"}, False)],
)
def test_meaning_of_public_for_principals(principal, public):
    assert is_public(policy(public_read(Principal=principal))) is public


AP_WILDCARD = f"arn:aws:s3:{DEFAULT_REGION}:{ACCOUNT}:accesspoint/*"

# The one definition (labkit.policy.is_public) on the cases where the
# emulator's former copy and the engine used to disagree, each settled by the
# S3 User Guide, "The meaning of "public"": (condition, bucket policy public?,
# access point policy public?).
SETTLED_CASES = [
    # s3:DataAccessPointArn note: a wildcard access point name under a fixed
    # account keeps a bucket policy non-public; in an access point policy it is public.
    ({"StringLike": {"s3:DataAccessPointArn": AP_WILDCARD}}, False, True),
    ({"StringLike": {"s3:DataAccessPointArn": f"arn:aws:s3:{DEFAULT_REGION}:*:accesspoint/*"}}, True, True),
    ({"StringEquals": {"s3:DataAccessPointArn": f"arn:aws:s3:{DEFAULT_REGION}:{ACCOUNT}:accesspoint/ap"}}, False, False),
    # "aws:userid, outside the pattern AROLEID:*": the pattern itself is not fixed.
    ({"StringLike": {"aws:userid": "AROAEXAMPLEROLEID0001:*"}}, True, True),
    ({"StringEquals": {"aws:userid": "AROAEXAMPLEROLEID0001:alice"}}, False, False),
    # "An AWS principal, user, role, or service principal (e.g. aws:PrincipalOrgID)".
    ({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, False, False),
    ({"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/analyst"}}, False, False),
    ({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}}, True, True),
    # aws:SourceIp: public when "broader than /8 for IPv4 and /32 for IPv6".
    ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, False, False),
    ({"IpAddress": {"aws:SourceIp": "12.0.0.0/7"}}, True, True),
    ({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}, False, False),
    ({"IpAddress": {"aws:SourceIp": "2001:db8::/31"}}, True, True),
    ({"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "0.0.0.0/1"]}}, True, True),
    # Cases both copies always agreed on, kept from the former parity test.
    ({"Bool": {"aws:SecureTransport": "true"}}, True, True),
    ({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}, False, False),
    ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, True, True),
    ({"StringEquals": {"aws:SourceVpc": "vpc-91237329"}}, False, False),
    ({"StringLike": {"aws:SourceVpc": "vpc-*"}}, True, True),
    ({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-91237329"}}, True, True),
    ({"StringEquals": {"s3:DataAccessPointAccount": ACCOUNT}}, False, False),
]


@pytest.mark.parametrize(("condition", "bucket_public", "access_point_public"), SETTLED_CASES)
def test_one_definition_of_public(condition, bucket_public, access_point_public):
    document = policy(public_read(Condition=condition))
    assert is_public(document) is bucket_public
    assert is_public(document, access_point=True) is access_point_public


def test_wildcard_access_point_arn_is_public_in_access_point_policy():
    condition = {"StringLike": {"s3:DataAccessPointArn": f"arn:aws:s3:{DEFAULT_REGION}:{ACCOUNT}:accesspoint/*"}}
    assert is_public(policy(public_read(Condition=condition)), access_point=True) is True


# --- Block Public Access: ACLs and the restriction flags -----------------------------------


def test_public_canned_acl_on_object_refused_by_block_public_acls(s3):
    s3.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    assert error_of(s3.put_object, Bucket=BUCKET, Key="k", Body=b"x", ACL="public-read") == (403, "AccessDenied", "Access Denied")
    assert error_of(s3.head_object, Bucket=BUCKET, Key="k")[0] == 404


@pytest.mark.parametrize("canned", ["public-read", "public-read-write", "authenticated-read"])
def test_public_bucket_acl_refused_by_block_public_acls(s3, canned):
    s3.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    assert error_of(s3.put_bucket_acl, Bucket=BUCKET, ACL=canned)[:2] == (403, "AccessDenied")


def test_all_users_grant_refused_by_block_public_acls(s3):
    s3.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    assert error_of(s3.put_object_acl, Bucket=BUCKET, Key="k", GrantRead=ALL_USERS)[:2] == (403, "AccessDenied")


def acl_policy(s3, *grants: dict) -> dict:
    owner = s3.get_bucket_acl(Bucket=BUCKET)["Owner"]
    return {"Owner": owner, "Grants": list(grants)}


def owner_full_control(s3) -> dict:
    owner = s3.get_bucket_acl(Bucket=BUCKET)["Owner"]
    return {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"}


def test_public_acl_in_xml_body_refused_by_block_public_acls(s3):
    s3.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    everyone = {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}
    document = acl_policy(s3, owner_full_control(s3), everyone)
    assert error_of(s3.put_bucket_acl, Bucket=BUCKET, AccessControlPolicy=document)[:2] == (403, "AccessDenied")


def test_owner_only_acl_in_xml_body_accepted_when_acls_disabled(s3):
    s3.put_bucket_acl(Bucket=BUCKET, AccessControlPolicy=acl_policy(s3, owner_full_control(s3)))
    grants = s3.get_bucket_acl(Bucket=BUCKET)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]


def test_public_acl_accepted_once_unblocked(s3):
    open_bucket(s3)
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"x", ACL="public-read")
    grants = s3.get_object_acl(Bucket=BUCKET, Key="k")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in grants)


def test_account_block_public_acls_applies_to_unblocked_bucket(s3, s3control):
    open_bucket(s3)
    s3control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    assert error_of(s3.put_object, Bucket=BUCKET, Key="k", Body=b"x", ACL="public-read")[1] == "AccessDenied"


def test_public_access_restricted_reads_bucket_and_account(s3, s3control):
    assert fidelity_s3.public_access_restricted(ACCOUNT, BUCKET) == (True, True)
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=ALL_OPEN)
    assert fidelity_s3.public_access_restricted(ACCOUNT, BUCKET) == (False, False)
    s3control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    assert fidelity_s3.public_access_restricted(ACCOUNT, BUCKET) == (True, False)


def test_public_access_restricted_counts_the_access_point(s3, s3control):
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=ALL_OPEN)
    s3control.create_access_point(AccountId=ACCOUNT, Name="demo-ap", Bucket=BUCKET)
    s3control.create_access_point(AccountId=ACCOUNT, Name="open-ap", Bucket=BUCKET, PublicAccessBlockConfiguration=ALL_OPEN)
    assert fidelity_s3.public_access_restricted(ACCOUNT, BUCKET, "demo-ap") == (True, True)
    assert fidelity_s3.public_access_restricted(ACCOUNT, BUCKET, "open-ap") == (False, False)


# --- access points -------------------------------------------------------------------------------


def access_point_policy(name: str, principal) -> str:
    arn = f"arn:aws:s3:{DEFAULT_REGION}:{ACCOUNT}:accesspoint/{name}/object/*"
    return policy({"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": arn})


def test_access_point_policy_status_reports_private_policy(s3, s3control):
    s3control.create_access_point(AccountId=ACCOUNT, Name="demo-ap", Bucket=BUCKET)
    principal = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    s3control.put_access_point_policy(AccountId=ACCOUNT, Name="demo-ap", Policy=access_point_policy("demo-ap", principal))
    status = s3control.get_access_point_policy_status(AccountId=ACCOUNT, Name="demo-ap")
    assert status["PolicyStatus"]["IsPublic"] is False


def test_public_access_point_policy_refused_by_its_own_block(s3, s3control):
    s3control.create_access_point(AccountId=ACCOUNT, Name="demo-ap", Bucket=BUCKET)
    status, code, _ = error_of(
        s3control.put_access_point_policy, AccountId=ACCOUNT, Name="demo-ap", Policy=access_point_policy("demo-ap", "*")
    )
    assert (status, code) == (403, "AccessDenied")


def test_public_access_point_policy_accepted_and_reported_when_unblocked(s3, s3control):
    s3control.create_access_point(AccountId=ACCOUNT, Name="open-ap", Bucket=BUCKET, PublicAccessBlockConfiguration=ALL_OPEN)
    s3control.put_access_point_policy(AccountId=ACCOUNT, Name="open-ap", Policy=access_point_policy("open-ap", "*"))
    status = s3control.get_access_point_policy_status(AccountId=ACCOUNT, Name="open-ap")
    assert status["PolicyStatus"]["IsPublic"] is True


# --- ObjectOwnership BucketOwnerEnforced -------------------------------------------------------

ACL_NOT_SUPPORTED = (400, "AccessControlListNotSupported", "The bucket does not allow ACLs")


def test_put_bucket_acl_refused_when_acls_disabled(s3):
    assert error_of(s3.put_bucket_acl, Bucket=BUCKET, ACL="private") == ACL_NOT_SUPPORTED


def test_put_object_with_acl_refused_when_acls_disabled(s3):
    assert error_of(s3.put_object, Bucket=BUCKET, Key="k", Body=b"x", ACL="public-read") == ACL_NOT_SUPPORTED
    assert error_of(s3.put_object, Bucket=BUCKET, Key="k", Body=b"x", GrantRead=ALL_USERS) == ACL_NOT_SUPPORTED


def test_put_object_with_bucket_owner_full_control_accepted(s3):
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"x"


def test_put_object_acl_refused_when_acls_disabled(s3):
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    assert error_of(s3.put_object_acl, Bucket=BUCKET, Key="k", ACL="public-read") == ACL_NOT_SUPPORTED


def test_copy_object_with_acl_refused_when_acls_disabled(s3):
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    source = {"Bucket": BUCKET, "Key": "k"}
    assert error_of(s3.copy_object, Bucket=BUCKET, Key="k2", CopySource=source, ACL="public-read") == ACL_NOT_SUPPORTED
    assert error_of(s3.head_object, Bucket=BUCKET, Key="k2")[0] == 404


def test_multipart_upload_with_acl_refused_when_acls_disabled(s3):
    assert error_of(s3.create_multipart_upload, Bucket=BUCKET, Key="k", ACL="public-read") == ACL_NOT_SUPPORTED


def test_create_bucket_with_acl_refused_by_default_ownership(bare_s3):
    s3 = bare_s3
    assert error_of(s3.create_bucket, Bucket="acl-bucket", ACL="public-read") == (
        400, "InvalidBucketAclWithObjectOwnership",
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
    )
    assert error_of(s3.head_bucket, Bucket="acl-bucket")[0] == 404


def test_create_bucket_with_public_acl_refused_by_block_public_access(bare_s3):
    s3 = bare_s3
    assert error_of(s3.create_bucket, Bucket="acl-bucket", ACL="public-read", ObjectOwnership="ObjectWriter") == (
        400, "InvalidBucketAclWithBlockPublicAccessError", "Bucket cannot have public ACLs set with BlockPublicAccess enabled",
    )


def test_create_bucket_with_private_acl_accepted(bare_s3):
    s3 = bare_s3
    s3.create_bucket(Bucket="private-bucket", ACL="private")
    assert s3.head_bucket(Bucket="private-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_enforcing_ownership_refused_while_bucket_acl_is_public(s3):
    open_bucket(s3)
    s3.put_bucket_acl(Bucket=BUCKET, ACL="public-read")
    status, code, _ = error_of(
        s3.put_bucket_ownership_controls, Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    assert (status, code) == (400, "InvalidBucketAclWithObjectOwnership")


# --- malformed bucket policies ------------------------------------------------------------------


def statement(**changes) -> dict:
    base = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("Version: 2012-10-17", "Policies must be valid JSON and the first byte must be '{'"),
        ('{"Version": "2012-10-17",', "This policy contains invalid Json"),
        ('{"Version": "2012-10-17"}', "Missing required field Statement"),
        ('{"Version": "2012-10-17", "Statement": []}', "Could not parse the policy: Statement is empty!"),
        (json.dumps({"Version": "2020-01-01", "Statement": [statement()]}), "The policy must contain a valid version string"),
        (policy(statement(Effect="Allowed")), "Invalid effect: Allowed"),
        (policy(statement(Principal=None)), "Missing required field Principal"),
        (policy(statement(Principal={"AWS": "engineer-demo"})), "Invalid principal in policy"),
        (policy(statement(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/nobody"})), "Invalid principal in policy"),
        (policy(statement(Action=None)), "Missing required field Action"),
        (policy(statement(Action="s3:GetObjects")), "Policy has invalid action"),
        (policy(statement(Action="ec2:RunInstances")), "Policy has invalid action"),
        (policy(statement(Resource=None)), "Missing required field Resource"),
        (policy(statement(Resource="arn:aws:s3:::another-bucket/*")), "Policy has invalid resource"),
        (policy(statement(Action="s3:ListBucket")), "Action does not apply to any resource(s) in statement"),
        (policy(statement(Resource=f"arn:aws:s3:::{BUCKET}")), "Action does not apply to any resource(s) in statement"),
    ],
)
def test_malformed_policy_refused_and_bucket_stays_usable(s3, document, message):
    assert error_of(s3.put_bucket_policy, Bucket=BUCKET, Policy=document) == (400, "MalformedPolicy", message)
    assert error_of(s3.get_bucket_policy, Bucket=BUCKET)[1] == "NoSuchBucketPolicy"
    s3.put_object(Bucket=BUCKET, Key="still-works", Body=b"ok")
    assert s3.get_object(Bucket=BUCKET, Key="still-works")["Body"].read() == b"ok"


@pytest.mark.parametrize(
    ("actions", "resources"),
    [
        ("s3:ListBucket", f"arn:aws:s3:::{BUCKET}"),
        (["s3:ListBucket", "s3:GetObject"], f"arn:aws:s3:::{BUCKET}/*"),
        ("s3:*", f"arn:aws:s3:::{BUCKET}"),
        ("s3:Get*", f"arn:aws:s3:::{BUCKET}"),
        ("s3:PutObject", f"arn:aws:s3:::{BUCKET}*"),
        ("s3:GetBucketObjectLockConfiguration", f"arn:aws:s3:::{BUCKET}"),
    ],
)
def test_actions_that_apply_to_their_resources_accepted(s3, actions, resources):
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy(statement(Action=actions, Resource=resources)))


def test_policy_naming_existing_iam_user_accepted(s3, iam):
    try:
        arn = iam.create_user(UserName="analyst-demo")["User"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        arn = iam.get_user(UserName="analyst-demo")["User"]["Arn"]
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy(statement(Effect="Allow", Principal={"AWS": arn}, Action="s3:Get*")))
    assert json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"][0]["Principal"] == {"AWS": arn}
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")


# --- ordinary behaviour is unchanged --------------------------------------------------------


def test_ordinary_bucket_and_object_lifecycle(s3):
    s3.put_object(Bucket=BUCKET, Key="raw/data.csv", Body=b"1,2\n", ServerSideEncryption="AES256")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["raw/data.csv"]
    s3.copy_object(Bucket=BUCKET, Key="copy.csv", CopySource={"Bucket": BUCKET, "Key": "raw/data.csv"})
    assert s3.get_object(Bucket=BUCKET, Key="copy.csv")["Body"].read() == b"1,2\n"
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "raw/data.csv"}, {"Key": "copy.csv"}]})
    s3.delete_bucket(Bucket=BUCKET)
    assert BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_versioned_bucket_teardown_deletes_every_version(s3):
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"v1", b"v2"):
        s3.put_object(Bucket=BUCKET, Key="k", Body=body)
    s3.delete_object(Bucket=BUCKET, Key="k")
    listing = s3.list_object_versions(Bucket=BUCKET)
    entries = listing.get("Versions", []) + listing.get("DeleteMarkers", [])
    assert len(entries) == 3
    objects = [{"Key": e["Key"], "VersionId": e["VersionId"]} for e in entries]
    result = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": objects})
    assert len(result["Deleted"]) == 3 and not result.get("Errors")
    s3.delete_bucket(Bucket=BUCKET)
    assert error_of(s3.head_bucket, Bucket=BUCKET)[0] == 404


# --- server mode -----------------------------------------------------------------------------


def http(method: str, url: str, headers: dict | None = None, body: bytes = b"") -> tuple[int, bytes]:
    """A raw loopback HTTP request (urllib, which mock_aws does not intercept)."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_rules_apply_in_moto_server_mode(clients):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        base = f"http://{host}:{port}/server-bucket"
        assert http("PUT", base)[0] == 200
        assert http("PUT", f"{base}/k", {"x-amz-acl": "public-read"}, b"x")[0] == 400
        status, body = http("PUT", f"{base}?policy", body=b"not json")
        assert status == 400 and b"<Code>MalformedPolicy</Code>" in body
        status, body = http("GET", f"{base}?publicAccessBlock")
        assert status == 200 and body.count(b"true") == 4
    finally:
        server.stop()
