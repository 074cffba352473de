"""Trails: CreateTrail/PutEventSelectors/StartLogging/StopLogging/GetTrailStatus/DeleteTrail, and
delivery of gzipped {"Records": [...]} files in CloudTrail's key layout through the bucket policy.

- Key layout and name: "CloudTrail log file examples" / "CloudTrail log file name format"
  (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html).
- Bucket policy: "Amazon S3 bucket policy for CloudTrail"
  (.../create-s3-bucket-policy-for-cloudtrail.html); CreateTrail's
  InsufficientS3BucketPolicyException (API reference, CreateTrail).
- Selectors: "Logging data events" (.../logging-data-events-with-cloudtrail.html), PutEventSelectors
  API reference (InvalidEventSelectorsException, InvalidParameterCombinationException).
- GetTrailStatus LatestDeliveryError: "Displays any Amazon S3 error that CloudTrail encountered
  when attempting to deliver log files to the designated bucket" (API reference, GetTrailStatus).
"""
from __future__ import annotations

import gzip
import json
import re
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from labkit.emulator.services.cloudtrail import control, delivery
from tests.emulator.services.cloudtrail.helpers import (ACCOUNT, AWS_CLI, cli_env,
                                                        cloudtrail_policy, log_bucket, trail_arn)

KEY = re.compile(rf"^AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/(\d{{4}})/(\d{{2}})/(\d{{2}})/"
                 rf"{ACCOUNT}_CloudTrail_us-east-1_(\d{{4}})(\d{{2}})(\d{{2}})T\d{{4}}Z_"
                 r"[A-Za-z0-9]{16}\.json\.gz$")
DATA, OTHER = "ct-trail-data", "ct-trail-other"


@pytest.fixture(scope="module")
def emulator(em):
    em.reset()
    s3 = em.client("s3")
    for bucket in (DATA, OTHER):
        s3.create_bucket(Bucket=bucket)
    return em


_count = iter(range(1000))


@pytest.fixture()
def world(emulator):
    """A fresh trail name and log bucket per test (a moto reset costs seconds)."""
    n = next(_count)
    emulator.trail, emulator.logs = f"ct-trail-{n}", f"ct-trail-logs-{n}"
    return emulator


def _records(em, bucket: str) -> list[dict]:
    s3, out = em.client("s3"), []
    for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        out += json.loads(gzip.decompress(body))["Records"]
    return out


def _mine(em) -> dict:
    """This test's trail's delivery result (other tests' trails may still be logging)."""
    return next(r for r in control.deliver(em) if r["trail"] == trail_arn(em.trail))


def _trail(em, name=None, bucket=None, **selectors):
    name, bucket = name or em.trail, bucket or em.logs
    log_bucket(em, bucket, name)
    ct = em.client("cloudtrail")
    ct.create_trail(Name=name, S3BucketName=bucket)
    if selectors:
        ct.put_event_selectors(TrailName=name, **selectors)
    ct.start_logging(Name=name)
    return ct


def test_create_trail_needs_a_bucket_policy_letting_cloudtrail_write(world):
    s3, ct = world.client("s3"), world.client("cloudtrail")
    s3.create_bucket(Bucket=world.logs + "-none")
    with pytest.raises(ClientError) as caught:
        ct.create_trail(Name=world.trail, S3BucketName=world.logs + "-none")
    assert caught.value.response["Error"]["Code"] == "InsufficientS3BucketPolicyException"
    log_bucket(world, world.logs + "-ro", world.trail, write=False)
    with pytest.raises(ClientError) as caught:
        ct.create_trail(Name=world.trail, S3BucketName=world.logs + "-ro")
    assert caught.value.response["Error"]["Code"] == "InsufficientS3BucketPolicyException"
    with pytest.raises(ClientError) as caught:
        ct.create_trail(Name=world.trail, S3BucketName="ct-no-such-bucket")
    assert caught.value.response["Error"]["Code"] == "S3BucketDoesNotExistException"


def test_create_twice_and_delete_unknown(world):
    ct = _trail(world)
    with pytest.raises(ClientError) as caught:
        ct.create_trail(Name=world.trail, S3BucketName=world.logs)
    assert caught.value.response["Error"]["Code"] == "TrailAlreadyExistsException"
    ct.delete_trail(Name=trail_arn(world.trail))  # by ARN
    with pytest.raises(ClientError) as caught:
        ct.delete_trail(Name=world.trail)
    assert caught.value.response["Error"]["Code"] == "TrailNotFoundException"
    assert world.trail not in [t["Name"] for t in ct.describe_trails()["trailList"]]


def test_basic_data_selectors_deliver_only_the_chosen_bucket_in_the_key_layout(world):
    _trail(world, EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True,
                                   "DataResources": [{"Type": "AWS::S3::Object",
                                                      "Values": [f"arn:aws:s3:::{DATA}/"]}]}])
    s3 = world.client("s3")
    s3.put_object(Bucket=DATA, Key="in/a.csv", Body=b"1")
    s3.get_object(Bucket=DATA, Key="in/a.csv")
    s3.put_object(Bucket=OTHER, Key="in/b.csv", Body=b"2")
    s3.put_bucket_versioning(Bucket=OTHER, VersioningConfiguration={"Status": "Enabled"})
    mine = _mine(world)
    assert mine["error"] is None and mine["files"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=world.logs)["Contents"]]
    for key in keys:
        m = KEY.match(key)
        assert m, key
        assert m.group(1, 2, 3) == m.group(4, 5, 6)  # the folder is the delivery day
    records = _records(world, world.logs)
    data = [(r["eventName"], r["resources"][0]["ARN"]) for r in records
            if r["eventCategory"] == "Data"]
    assert ("PutObject", f"arn:aws:s3:::{DATA}/in/a.csv") in data
    assert ("GetObject", f"arn:aws:s3:::{DATA}/in/a.csv") in data
    assert not [d for d in data if OTHER in d[1]]
    names = {r["eventName"] for r in records}
    assert {"StartLogging", "PutBucketVersioning"} <= names  # management events too
    assert "CreateTrail" not in names  # before StartLogging


def test_advanced_selectors_for_s3_data_events(world):
    _trail(world, AdvancedEventSelectors=[{"Name": "writes to the data bucket", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{DATA}/"]},
        {"Field": "readOnly", "Equals": ["false"]}]}])
    s3 = world.client("s3")
    s3.put_object(Bucket=DATA, Key="x", Body=b"1")
    s3.get_object(Bucket=DATA, Key="x")
    s3.put_object(Bucket=OTHER, Key="x", Body=b"1")
    control.deliver(world)
    records = _records(world, world.logs)
    assert [(r["eventName"], r["resources"][0]["ARN"]) for r in records] == [
        ("PutObject", f"arn:aws:s3:::{DATA}/x")]  # no management events, no reads, no OTHER
    selectors = world.client("cloudtrail").get_event_selectors(TrailName=world.trail)
    assert "EventSelectors" not in selectors and selectors["AdvancedEventSelectors"]


def test_one_kind_of_selector_replaces_the_other(world):
    ct = _trail(world, AdvancedEventSelectors=[{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]}]}])
    ct.put_event_selectors(TrailName=world.trail, EventSelectors=[{"ReadWriteType": "ReadOnly"}])
    answer = ct.get_event_selectors(TrailName=world.trail)
    assert "AdvancedEventSelectors" not in answer
    assert answer["EventSelectors"][0]["ReadWriteType"] == "ReadOnly"
    mine = [t for t in ct.describe_trails()["trailList"] if t["Name"] == world.trail]
    assert mine[0]["HasCustomEventSelectors"] is True


@pytest.mark.parametrize("kwargs,code", [
    (dict(EventSelectors=[{"ReadWriteType": "All"}],
          AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "eventCategory",
                                                       "Equals": ["Management"]}]}]),
     "InvalidParameterCombinationException"),
    (dict(EventSelectors=[{"ReadWriteType": "Sometimes"}]), "InvalidEventSelectorsException"),
    (dict(EventSelectors=[{"DataResources": [{"Type": "AWS::S3::Bucket",
                                              "Values": ["arn:aws:s3:::x/"]}]}]),
     "InvalidEventSelectorsException"),
    (dict(EventSelectors=[{"DataResources": [{"Type": "AWS::S3::Object",
                                              "Values": ["s3://bucket/"]}]}]),
     "InvalidEventSelectorsException"),
    (dict(EventSelectors=[{"ReadWriteType": "All"}] * 6), "InvalidEventSelectorsException"),
    (dict(AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "resources.type",
                                                       "Equals": ["AWS::S3::Object"]}]}]),
     "InvalidEventSelectorsException"),
    (dict(AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "eventCategory",
                                                       "Equals": ["Data"]}]}]),
     "InvalidEventSelectorsException"),
    (dict(AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "colour", "Equals": ["x"]},
                                                      {"Field": "eventCategory",
                                                       "Equals": ["Data"]}]}]),
     "InvalidEventSelectorsException"),
])
def test_bad_selectors_are_refused(world, kwargs, code):
    ct = _trail(world)
    with pytest.raises(ClientError) as caught:
        ct.put_event_selectors(TrailName=world.trail, **kwargs)
    assert caught.value.response["Error"]["Code"] == code


def test_a_policy_that_stops_cloudtrail_gives_latest_delivery_error_and_events_wait(world):
    ct, s3 = _trail(world), world.client("s3")
    _mine(world)  # StartLogging is delivered (the timer may have done it already)
    before = len(s3.list_objects_v2(Bucket=world.logs).get("Contents", []))
    s3.put_bucket_policy(Bucket=world.logs, Policy=json.dumps(
        cloudtrail_policy(world.logs, world.trail, write=False)))
    s3.put_bucket_versioning(Bucket=DATA, VersioningConfiguration={"Status": "Enabled"})
    assert _mine(world)["error"] == "AccessDenied"
    status = ct.get_trail_status(Name=world.trail)
    assert status["LatestDeliveryError"] == "AccessDenied" and status["IsLogging"]
    assert len(s3.list_objects_v2(Bucket=world.logs).get("Contents", [])) == before
    s3.put_bucket_policy(Bucket=world.logs, Policy=json.dumps(
        cloudtrail_policy(world.logs, world.trail)))
    assert _mine(world)["error"] is None
    status = ct.get_trail_status(Name=world.trail)
    assert "LatestDeliveryError" not in status and "LatestDeliveryTime" in status
    names = [r["eventName"] for r in _records(world, world.logs)]
    assert "PutBucketVersioning" in names  # the event that waited arrived


def test_a_policy_for_another_trail_does_not_let_this_one_write(world):
    log_bucket(world, world.logs, "someone-elses-trail")
    with pytest.raises(ClientError) as caught:
        world.client("cloudtrail").create_trail(Name=world.trail, S3BucketName=world.logs)
    assert caught.value.response["Error"]["Code"] == "InsufficientS3BucketPolicyException"


def test_stop_logging_delivers_what_is_pending_then_nothing(world):
    ct, s3 = _trail(world), world.client("s3")
    s3.put_bucket_versioning(Bucket=DATA, VersioningConfiguration={"Status": "Enabled"})
    ct.stop_logging(Name=world.trail)
    names = [r["eventName"] for r in _records(world, world.logs)]
    assert "PutBucketVersioning" in names
    s3.put_bucket_versioning(Bucket=OTHER, VersioningConfiguration={"Status": "Enabled"})
    control.deliver(world)
    records = _records(world, world.logs)
    assert not [r for r in records if r.get("requestParameters", {}).get("bucketName") == OTHER]
    status = ct.get_trail_status(Name=world.trail)
    assert status["IsLogging"] is False and "StopLoggingTime" in status


def test_the_timer_delivers_within_seconds(world):
    _trail(world)
    world.client("s3").put_bucket_versioning(Bucket=DATA,
                                             VersioningConfiguration={"Status": "Enabled"})
    deadline = time.time() + 4 * delivery.DEFAULT_INTERVAL
    while time.time() < deadline:
        if "PutBucketVersioning" in [r["eventName"] for r in _records(world, world.logs)]:
            return
        time.sleep(0.5)
    pytest.fail("the background timer delivered nothing within "
                f"{4 * delivery.DEFAULT_INTERVAL} s")


def test_log_files_are_encrypted_by_the_bucket_default(world):
    _trail(world)
    control.deliver(world)
    s3 = world.client("s3")
    key = s3.list_objects_v2(Bucket=world.logs)["Contents"][0]["Key"]
    assert s3.head_object(Bucket=world.logs, Key=key)["ServerSideEncryption"] == "AES256"


def test_control_paths_over_http(world):
    _trail(world)
    from labkit.emulator.proxy import TOKEN_HEADER

    url = world.url
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    opener.addheaders = [(TOKEN_HEADER, world.token)]
    request = urllib.request.Request(url + control.DELIVER_PATH, method="POST", data=b"{}")
    with opener.open(request, timeout=30) as response:
        trails = [d["trail"] for d in json.loads(response.read())["deliveries"]]
    assert trail_arn(world.trail) in trails
    with opener.open(url + control.EVENTS_PATH + "?since=0", timeout=30) as response:
        payload = json.loads(response.read())
    assert payload["events"] and payload["cap"] >= 1
    assert {"seq", "record", "reason"} <= set(payload["events"][0])
    for path, method, code in ((control.DELIVER_PATH, "GET", 405),
                               (control.EVENTS_PATH + "?since=x", "GET", 400),
                               (control.PREFIX + "nothing", "GET", 404)):
        with pytest.raises(urllib.error.HTTPError) as caught:
            opener.open(urllib.request.Request(url + path, method=method), timeout=30)
        assert caught.value.code == code
    assert control.events(world.proxy_url, since=0)  # over HTTP, as an attached process


def test_trails_with_the_aws_cli(world, tmp_path):
    log_bucket(world, world.logs, "ct-cli-trail")
    env = cli_env(world, world.root.access_key_id, world.root.secret_access_key, tmp_path)

    def aws(*args):
        done = subprocess.run([str(AWS_CLI), "cloudtrail", *args, "--output", "json"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    assert aws("create-trail", "--name", "ct-cli-trail", "--s3-bucket-name",
               world.logs)["TrailARN"] == trail_arn("ct-cli-trail")
    aws("put-event-selectors", "--trail-name", "ct-cli-trail", "--event-selectors",
        json.dumps([{"ReadWriteType": "All", "DataResources": [
            {"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{DATA}/"]}]}]))
    world.client("cloudtrail").start_logging(Name="ct-cli-trail")
    assert aws("get-trail-status", "--name", "ct-cli-trail")["IsLogging"] is True
    world.client("cloudtrail").delete_trail(Name="ct-cli-trail")
