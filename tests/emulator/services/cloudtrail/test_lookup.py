"""LookupEvents as the CloudTrail API reference describes it
(https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html):
management events only, newest first, one lookup attribute of EventId, EventName, ReadOnly,
Username, ResourceType, ResourceName, EventSource, AccessKeyId; StartTime/EndTime; MaxResults
(1-50, default 50) with NextToken; CloudTrailEvent is the record as a JSON string.
"""
from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.emulator.services.cloudtrail.helpers import AWS_CLI, cli_env, user_with_policy

BUCKET = "ct-lookup-bucket"


@pytest.fixture(scope="module")
def world(em):
    em.reset()
    s3, iam = em.client("s3"), em.client("iam")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="k.csv", Body=b"x")        # a data event
    s3.get_object(Bucket=BUCKET, Key="k.csv")                   # a data event
    iam.create_user(UserName="ct-lookup-user")
    looker = user_with_policy(em, "ct-looker", [
        {"Effect": "Allow", "Action": "cloudtrail:LookupEvents", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}])
    nobody = user_with_policy(em, "ct-nobody", [
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}])
    em.client("s3", *looker).list_objects_v2(Bucket=BUCKET)
    time.sleep(0.01)
    return {"looker": looker, "nobody": nobody}


def _all(ct, **kwargs):
    events, token = [], None
    while True:
        page = ct.lookup_events(**kwargs, **({"NextToken": token} if token else {}))
        events += page["Events"]
        token = page.get("NextToken")
        if not token:
            return events


def test_management_events_only_newest_first_with_cloudtrail_event_json(em, world):
    ct = em.client("cloudtrail")
    events = _all(ct)
    names = [e["EventName"] for e in events]
    assert "CreateBucket" in names and "CreateUser" in names
    assert "PutObject" not in names and "GetObject" not in names  # data events never
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["eventID"] == events[0]["EventId"]
    assert record["managementEvent"] is True
    assert set(events[0]) >= {"EventId", "EventName", "ReadOnly", "EventTime", "EventSource",
                              "Resources", "CloudTrailEvent"}


@pytest.mark.parametrize("key,value,expect", [
    ("EventName", "CreateUser", lambda e, r: e["EventName"] == "CreateUser"),
    ("Username", "ct-looker", lambda e, r: e["Username"] == "ct-looker"),
    ("ResourceName", "ct-lookup-bucket", lambda e, r: any(
        x["ResourceName"] == "ct-lookup-bucket" for x in e["Resources"])),
    ("ResourceType", "AWS::IAM::User", lambda e, r: any(
        x["ResourceType"] == "AWS::IAM::User" for x in e["Resources"])),
    ("EventSource", "iam.amazonaws.com", lambda e, r: e["EventSource"] == "iam.amazonaws.com"),
    ("ReadOnly", "true", lambda e, r: e["ReadOnly"] == "true"),
    ("ReadOnly", "false", lambda e, r: e["ReadOnly"] == "false"),
])
def test_each_lookup_attribute_filters(em, world, key, value, expect):
    events = _all(em.client("cloudtrail"),
                  LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])
    assert events, f"nothing found for {key}={value}"
    assert all(expect(e, json.loads(e["CloudTrailEvent"])) for e in events)


def test_access_key_and_event_id_attributes(em, world):
    ct = em.client("cloudtrail")
    key = world["looker"][0]
    by_key = _all(ct, LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": key}])
    assert by_key and all(e["AccessKeyId"] == key for e in by_key)
    one = by_key[0]["EventId"]
    by_id = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": one}])
    assert [e["EventId"] for e in by_id["Events"]] == [one]


def test_max_results_and_next_token_page_through_everything_once(em, world):
    ct = em.client("cloudtrail")
    # LookupEvents calls are management events too: leave out the ones these lookups add.
    everything = [e["EventId"] for e in _all(ct) if e["EventName"] != "LookupEvents"]
    paged = [e["EventId"] for e in _all(ct, MaxResults=2) if e["EventName"] != "LookupEvents"]
    assert paged == everything and len(set(paged)) == len(paged) > 4
    first = ct.lookup_events(MaxResults=2)
    assert len(first["Events"]) == 2 and "NextToken" in first


def test_time_range(em, world):
    ct = em.client("cloudtrail")
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    assert ct.lookup_events(StartTime=future)["Events"] == []
    past = datetime.now(timezone.utc) - timedelta(hours=1)
    assert ct.lookup_events(EndTime=past)["Events"] == []
    assert ct.lookup_events(StartTime=past, EndTime=future)["Events"]


@pytest.mark.parametrize("kwargs,code", [
    (dict(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "A"},
                            {"AttributeKey": "Username", "AttributeValue": "B"}]),
     "InvalidLookupAttributesException"),
    (dict(LookupAttributes=[{"AttributeKey": "Colour", "AttributeValue": "red"}]),
     "InvalidLookupAttributesException"),
    (dict(MaxResults=51), "InvalidMaxResultsException"),
    (dict(StartTime=datetime(2030, 1, 2), EndTime=datetime(2030, 1, 1)),
     "InvalidTimeRangeException"),
    (dict(NextToken="not-a-token"), "InvalidNextTokenException"),
])
def test_bad_requests_get_aws_errors(em, world, kwargs, code):
    with pytest.raises(ClientError) as caught:
        em.client("cloudtrail").lookup_events(**kwargs)
    assert caught.value.response["Error"]["Code"] == code


def test_a_token_is_only_good_for_its_own_query(em, world):
    ct = em.client("cloudtrail")
    token = ct.lookup_events(MaxResults=1)["NextToken"]
    with pytest.raises(ClientError) as caught:
        ct.lookup_events(MaxResults=1, NextToken=token, LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "CreateUser"}])
    assert caught.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_lookup_is_authorized_like_any_call(em, world):
    with pytest.raises(ClientError) as caught:
        em.client("cloudtrail", *world["nobody"]).lookup_events()
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "cloudtrail:LookupEvents" in caught.value.response["Error"]["Message"]
    assert em.client("cloudtrail", *world["looker"]).lookup_events(MaxResults=1)["Events"]


def test_lookup_events_with_the_aws_cli(em, world, tmp_path):
    env = cli_env(em, *world["looker"], tmp_path)
    done = subprocess.run([str(AWS_CLI), "cloudtrail", "lookup-events", "--lookup-attributes",
                           "AttributeKey=EventName,AttributeValue=CreateUser", "--max-results", "5",
                           "--output", "json"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    events = json.loads(done.stdout)["Events"]
    assert events and {e["EventName"] for e in events} == {"CreateUser"}
    assert json.loads(events[0]["CloudTrailEvent"])["eventName"] == "CreateUser"
