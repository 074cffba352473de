"""Every request the emulator serves is a CloudTrail record with AWS's fields, and no secrets.

Fields: CloudTrail user guide, "CloudTrail record contents for management, data, and network
activity events" (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html);
userIdentity: "CloudTrail userIdentity element" (.../cloudtrail-event-reference-user-identity.html);
data vs management events: "Logging data events" (.../logging-data-events-with-cloudtrail.html).
"""
from __future__ import annotations

import json
import subprocess

import pytest
from botocore.exceptions import ClientError

from labkit.emulator.services.cloudtrail import recorder
from labkit.emulator.services.cloudtrail.records import EVENT_VERSION, HIDDEN
from labkit.emulator.services.cloudtrail.store import STORE
from tests.emulator.services.cloudtrail.helpers import (ACCOUNT, AWS_CLI, cli_env, last,
                                                        user_with_policy)

BUCKET = "ct-records-bucket"
#: Fields the record-contents page marks "Optional: False" (always present), plus the ones
#: this emulator always has (requestParameters/responseElements may be null).
ALWAYS = {"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
          "sourceIPAddress", "userAgent", "requestParameters", "responseElements", "requestID",
          "eventID", "readOnly", "eventType", "managementEvent", "recipientAccountId",
          "eventCategory", "tlsDetails"}


@pytest.fixture(scope="module")
def world(em):
    s3 = em.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    reader = user_with_policy(em, "ct-reader", [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]},
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}])
    iam = em.client("iam")
    iam.create_role(RoleName="ct-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}))
    iam.put_role_policy(RoleName="ct-role", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket",
                                                "Resource": f"arn:aws:s3:::{BUCKET}"}]}))
    return {"reader": reader}


def test_root_management_event_has_every_field(em, world):
    em.client("s3").put_bucket_versioning(Bucket=BUCKET,
                                          VersioningConfiguration={"Status": "Enabled"})
    r = last("PutBucketVersioning").record
    assert ALWAYS <= set(r), ALWAYS - set(r)
    assert r["eventVersion"] == EVENT_VERSION
    assert r["userIdentity"] == {"type": "Root", "principalId": ACCOUNT,
                                 "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT,
                                 "accessKeyId": em.root.access_key_id}
    assert r["eventSource"] == "s3.amazonaws.com" and r["awsRegion"] == "us-east-1"
    assert r["eventCategory"] == "Management" and r["managementEvent"] is True
    assert r["readOnly"] is False and r["eventType"] == "AwsApiCall"
    assert r["recipientAccountId"] == ACCOUNT
    assert r["requestParameters"]["bucketName"] == BUCKET and "versioning" in r["requestParameters"]
    assert r["resources"] == [{"accountId": ACCOUNT, "type": "AWS::S3::Bucket",
                               "ARN": f"arn:aws:s3:::{BUCKET}"}]
    assert r["eventTime"].endswith("Z") and len(r["eventTime"]) == 20
    assert r["tlsDetails"]["tlsVersion"].startswith("TLSv1.")
    assert r["tlsDetails"]["clientProvidedHostHeader"] == f"{BUCKET}.s3.amazonaws.com"
    assert r["userAgent"].startswith("Boto3/")
    assert "errorCode" not in r


def test_object_calls_are_data_events_with_object_and_bucket_resources(em, world):
    s3 = em.client("s3")
    s3.put_object(Bucket=BUCKET, Key="d/x.csv", Body=b"top secret body",
                  ServerSideEncryption="AES256")
    put = last("PutObject").record
    assert put["eventCategory"] == "Data" and put["managementEvent"] is False
    assert put["resources"] == [
        {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{BUCKET}/d/x.csv"},
        {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{BUCKET}"}]
    assert put["requestParameters"]["key"] == "d/x.csv"
    assert put["requestParameters"]["x-amz-server-side-encryption"] == "AES256"
    assert put["responseElements"]["x-amz-server-side-encryption"] == "AES256"
    s3.head_object(Bucket=BUCKET, Key="d/x.csv")
    head = last("HeadObject").record
    assert head["readOnly"] is True and head["responseElements"] is None
    assert "top secret body" not in json.dumps([e.record for e in STORE.newest_first()])


def test_iam_user_denial_has_error_code_message_and_labkit_reason(em, world):
    key, secret = world["reader"]
    s3 = em.client("s3", key, secret)
    with pytest.raises(ClientError):
        s3.put_object(Bucket=BUCKET, Key="d/denied.csv", Body=b"x")
    event = last("PutObject")
    r = event.record
    assert r["userIdentity"]["type"] == "IAMUser"
    assert r["userIdentity"]["userName"] == "ct-reader"
    assert r["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/ct-reader"
    assert r["userIdentity"]["accessKeyId"] == key
    assert r["userIdentity"]["principalId"].strip()
    assert r["errorCode"] == "AccessDenied"
    assert "no identity-based policy allows the s3:PutObject action" in r["errorMessage"]
    assert "no identity-based policy allows" in event.reason


def test_allowed_call_reason_names_the_allowing_statement(em, world):
    key, secret = world["reader"]
    em.client("s3", key, secret).get_object(Bucket=BUCKET, Key="d/x.csv")
    event = last("GetObject")
    assert event.record["userIdentity"]["userName"] == "ct-reader"
    assert "(Allow)" in event.reason and "p/" in event.reason


def test_role_session_has_session_context_and_no_token(em, world):
    key, secret = world["reader"]
    sts = em.client("sts", key, secret)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/ct-role",
                            RoleSessionName="audit-session")["Credentials"]
    assume = last("AssumeRole").record
    text = json.dumps(assume)
    assert creds["SecretAccessKey"] not in text and creds["SessionToken"] not in text
    # AWS leaves the secret key out of the record (not a placeholder); labkit also hides the
    # session token, which AWS prints, so that no part of a credential is in the trail.
    assert "secretAccessKey" not in assume["responseElements"]["credentials"]
    assert assume["responseElements"]["credentials"]["sessionToken"] == HIDDEN
    assert assume["responseElements"]["credentials"]["accessKeyId"] == creds["AccessKeyId"]
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                    aws_secret_access_key=creds["SecretAccessKey"],
                                    aws_session_token=creds["SessionToken"], region_name="us-east-1")
    s3 = session.client("s3", config=Config(proxies={"https": em.proxy_url}), verify=str(em.ca_bundle))
    s3.list_objects_v2(Bucket=BUCKET)
    ident = last("ListObjects").record["userIdentity"]
    assert ident["type"] == "AssumedRole"
    assert ident["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/ct-role/audit-session"
    assert ident["principalId"].endswith(":audit-session")
    issuer = ident["sessionContext"]["sessionIssuer"]
    assert issuer == {"type": "Role", "principalId": ident["principalId"].split(":")[0],
                      "arn": f"arn:aws:iam::{ACCOUNT}:role/ct-role", "accountId": ACCOUNT,
                      "userName": "ct-role"}
    assert ident["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    assert ident["accessKeyId"] == creds["AccessKeyId"]
    everything = json.dumps([e.record for e in STORE.newest_first()])
    assert creds["SessionToken"] not in everything


def test_secret_keys_and_passwords_never_reach_a_record(em, world):
    iam = em.client("iam")
    iam.create_user(UserName="ct-secrets")
    created = iam.create_access_key(UserName="ct-secrets")["AccessKey"]
    iam.create_login_profile(UserName="ct-secrets", Password="Sup3r-Secret-Passw0rd!")
    everything = json.dumps([e.record for e in STORE.newest_first()])
    assert created["SecretAccessKey"] not in everything
    assert "Sup3r-Secret-Passw0rd!" not in everything
    assert em.root.secret_access_key not in everything
    profile = last("CreateLoginProfile").record
    assert profile["requestParameters"]["password"] == HIDDEN
    recorded_key = last("CreateAccessKey").record["responseElements"]["accessKey"]
    assert "secretAccessKey" not in recorded_key  # as AWS's CreateAccessKey record
    assert recorded_key["accessKeyId"] == created["AccessKeyId"]


def test_unknown_keys_are_not_recorded(em):
    before = STORE.last_seq
    bad = em.client("s3", "AKIAUNKNOWNKEY000000", "x" * 40)
    with pytest.raises(ClientError):
        bad.list_buckets()
    assert STORE.last_seq == before


def test_recording_can_be_switched_off(em, monkeypatch):
    monkeypatch.setenv(recorder.ENABLED_VARIABLE, "off")
    before = STORE.last_seq
    em.client("s3").list_buckets()
    assert STORE.last_seq == before


def test_iam_event_names_resources_and_readonly(em):
    iam = em.client("iam")
    iam.create_group(GroupName="ct-group")
    r = last("CreateGroup").record
    assert r["eventSource"] == "iam.amazonaws.com" and r["readOnly"] is False
    assert r["requestParameters"] == {"groupName": "ct-group"}
    assert r["resources"][0]["type"] == "AWS::IAM::Group"
    assert r["responseElements"]["group"]["groupName"] == "ct-group"
    iam.get_group(GroupName="ct-group")
    assert last("GetGroup").record["readOnly"] is True


def test_the_aws_cli_is_recorded_with_its_user_agent(em, world, tmp_path):
    key, secret = world["reader"]
    done = subprocess.run([str(AWS_CLI), "s3api", "get-object", "--bucket", BUCKET, "--key",
                           "d/x.csv", str(tmp_path / "out")], env=cli_env(em, key, secret, tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    r = last("GetObject").record
    assert r["userAgent"].startswith("aws-cli/")
    assert r["userIdentity"]["userName"] == "ct-reader"


def test_anonymous_s3_requests_are_recorded_as_aws_account_anonymous(em, world):
    """S3 logs unsigned requests with userIdentity type AWSAccount, accountId "anonymous"
    (userIdentity element, "AWSAccount" type; Amazon S3 user guide, "Logging Amazon S3 API
    calls using AWS CloudTrail")."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    s3 = boto3.session.Session(region_name="us-east-1").client(
        "s3", config=Config(signature_version=UNSIGNED, proxies={"https": em.proxy_url}),
        verify=str(em.ca_bundle))
    with pytest.raises(ClientError):
        s3.get_object(Bucket=BUCKET, Key="d/x.csv")
    r = last("GetObject").record
    assert r["userIdentity"] == {"type": "AWSAccount", "principalId": "", "accountId": "anonymous"}
    assert r["errorCode"] == "AccessDenied" and r["recipientAccountId"] == ACCOUNT


def test_kms_records_name_the_key_and_never_hold_the_data(em, world):
    """KMS developer guide, "Logging AWS KMS API calls with AWS CloudTrail": the Encrypt,
    Decrypt, GenerateDataKey and ReEncrypt examples (ct-encrypt, ct-decrypt, ...): the
    plaintext and ciphertext are omitted, encryptionAlgorithm is always there,
    responseElements is null, readOnly true, and the key is the record's resource."""
    import base64

    kms = em.client("kms")
    key = kms.create_key()["KeyMetadata"]
    other = kms.create_key()["KeyMetadata"]
    context = {"Department": "Engineering"}
    plaintext = b"card 4111-1111-1111-1111"
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=plaintext,
                       EncryptionContext=context)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == plaintext
    data_key = kms.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256")
    moved = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=context,
                           DestinationKeyId=other["KeyId"])["CiphertextBlob"]
    everything = json.dumps([e.record for e in STORE.newest_first()])
    for secret in (plaintext, blob, data_key["Plaintext"], data_key["CiphertextBlob"], moved):
        assert base64.b64encode(secret).decode() not in everything
    assert plaintext.decode() not in everything
    for name in ("Encrypt", "Decrypt", "GenerateDataKey"):
        record = last(name).record
        assert record["readOnly"] is True and record["responseElements"] is None, name
        assert record["requestParameters"]["keyId"] == key["Arn"], name
        assert {"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": key["Arn"]} in record[
            "resources"], name
    assert last("Decrypt").record["requestParameters"] == {
        "keyId": key["Arn"], "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "encryptionContext": context}
    assert last("GenerateDataKey").record["requestParameters"]["keySpec"] == "AES_256"
    reencrypt = last("ReEncrypt").record
    assert reencrypt["readOnly"] is True and reencrypt["responseElements"] is None
    assert reencrypt["requestParameters"]["destinationKeyId"] == other["KeyId"]


_SECRET_NAMES = ("secret", "password", "token", "privatekey", "plaintext", "ciphertext")


def _walk(value, path=""):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _walk(inner, f"{path}.{key}")
            yield f"{path}.{key}", inner
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _walk(inner, f"{path}[{i}]")


def test_no_recorded_field_of_any_service_holds_a_secret(em, world):
    """Every field of every record made so far in this module (IAM, STS, S3, KMS calls
    above): one named like a secret is absent or AWS's placeholder, never a value."""
    records = [e.record for e in STORE.newest_first()]
    assert len({r["eventSource"] for r in records}) >= 4
    leaks = []
    for record in records:
        for path, value in _walk(record):
            name = path.rsplit(".", 1)[-1].lower()
            if name in ("accesskeyid", "sessioncontext", "sessionissuer"):
                continue
            if any(word in name for word in _SECRET_NAMES) and value not in (None, "", HIDDEN):
                leaks.append((record["eventName"], path))
    assert leaks == []


def test_a_kms_refusal_behind_an_s3_read_is_the_reason_recorded(em, world):
    """The decision that refused a request is its reason, wherever it was made: a GetObject
    of an SSE-KMS object the caller may read but not decrypt fails on kms:Decrypt (S3
    user guide, "Using SSE-KMS": the requester needs kms:Decrypt on the key)."""
    kms, s3 = em.client("kms"), em.client("s3")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket="ct-kms-reason")
    s3.put_object(Bucket="ct-kms-reason", Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=key)
    reader = user_with_policy(em, "ct-no-decrypt", [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}])
    with pytest.raises(ClientError):
        em.client("s3", *reader).get_object(Bucket="ct-kms-reason", Key="k")
    event = last("GetObject")
    assert event.record["errorCode"] == "AccessDenied"
    assert "kms:Decrypt" in event.reason and key in event.reason
    assert "s3:GetObject" not in event.reason
