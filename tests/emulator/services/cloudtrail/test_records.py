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
    assert assume["responseElements"]["credentials"]["secretAccessKey"] == HIDDEN
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
    assert last("CreateAccessKey").record["responseElements"]["accessKey"][
        "secretAccessKey"] == HIDDEN


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
