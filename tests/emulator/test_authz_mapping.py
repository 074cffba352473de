"""Request parsing and operation -> IAM action mapping, without a running emulator."""
from __future__ import annotations

import io

import pytest

from labkit.emulator.authz import generic
from labkit.emulator.services.s3 import actions as s3
from labkit.emulator.request import parse_request

AUTH = ("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEKEY000001/20261127/{region}/{service}/aws4_request,"
        " SignedHeaders=host;x-amz-date, Signature=abc")


def environ(method="GET", host="demo.s3.amazonaws.com", path="/", query="", headers=None,
            body=b"", service="s3", region="us-east-1", signed=True):
    env = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
        "RAW_URI": path + (f"?{query}" if query else ""), "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "https",
        "HTTP_HOST": host,
    }
    if signed:
        env["HTTP_AUTHORIZATION"] = AUTH.format(region=region, service=service)
    for k, v in (headers or {}).items():
        name = k.upper().replace("-", "_")
        env[name if name == "CONTENT_TYPE" else "HTTP_" + name] = v
    return env


def s3_checks(**kw):
    req = parse_request(environ(**kw))
    return [(c.action, c.resource) for c in s3.checks(req, s3.target(req))], req


def test_credentials_service_and_region_come_from_the_signature():
    req = parse_request(environ(service="iam", region="eu-west-1", host="iam.amazonaws.com"))
    assert (req.access_key_id, req.service, req.region) == ("AKIAEXAMPLEKEY000001", "iam", "eu-west-1")
    presigned = parse_request(environ(signed=False, query=(
        "X-Amz-Credential=AKIAPRESIGNED0000001%2F20261127%2Fus-west-2%2Fs3%2Faws4_request"
        "&X-Amz-Signature=x")))
    assert (presigned.access_key_id, presigned.region) == ("AKIAPRESIGNED0000001", "us-west-2")
    anonymous = parse_request(environ(signed=False))
    assert anonymous.access_key_id is None and anonymous.service == "s3"


def test_body_is_handed_back_to_moto():
    env = environ(method="PUT", path="/k", body=b"payload")
    parse_request(env)
    assert env["wsgi.input"].read() == b"payload"


@pytest.mark.parametrize("kw, expected", [
    (dict(method="HEAD", path="/raw/a.csv"), [("s3:GetObject", "arn:aws:s3:::demo/raw/a.csv")]),
    (dict(path="/raw/a.csv", query="versionId=v1"),
     [("s3:GetObjectVersion", "arn:aws:s3:::demo/raw/a.csv")]),
    (dict(query="list-type=2&prefix=raw%2F"), [("s3:ListBucket", "arn:aws:s3:::demo")]),
    (dict(query="versions"), [("s3:ListBucketVersions", "arn:aws:s3:::demo")]),
    (dict(host="s3.amazonaws.com", path="/"), [("s3:ListAllMyBuckets", "*")]),
    (dict(method="PUT", query="policy"), [("s3:PutBucketPolicy", "arn:aws:s3:::demo")]),
    (dict(query="encryption"), [("s3:GetEncryptionConfiguration", "arn:aws:s3:::demo")]),
    (dict(method="DELETE", query="encryption"),
     [("s3:PutEncryptionConfiguration", "arn:aws:s3:::demo")]),
    (dict(method="PUT", query="publicAccessBlock"),
     [("s3:PutBucketPublicAccessBlock", "arn:aws:s3:::demo")]),
    (dict(query="policyStatus"), [("s3:GetBucketPolicyStatus", "arn:aws:s3:::demo")]),
    (dict(method="PUT", query="versioning"), [("s3:PutBucketVersioning", "arn:aws:s3:::demo")]),
    (dict(method="PUT", query="ownershipControls"),
     [("s3:PutBucketOwnershipControls", "arn:aws:s3:::demo")]),
    (dict(method="PUT"), [("s3:CreateBucket", "arn:aws:s3:::demo")]),
    (dict(method="DELETE"), [("s3:DeleteBucket", "arn:aws:s3:::demo")]),
    (dict(method="POST", path="/k", query="uploads"), [("s3:PutObject", "arn:aws:s3:::demo/k")]),
    (dict(method="PUT", path="/k", query="partNumber=1&uploadId=u"),
     [("s3:PutObject", "arn:aws:s3:::demo/k")]),
    (dict(method="DELETE", path="/k", query="uploadId=u"),
     [("s3:AbortMultipartUpload", "arn:aws:s3:::demo/k")]),
    (dict(method="DELETE", path="/k", query="versionId=v"),
     [("s3:DeleteObjectVersion", "arn:aws:s3:::demo/k")]),
    (dict(method="PUT", path="/dst", headers={"x-amz-copy-source": "/src-bucket/a%20b.txt"}),
     [("s3:GetObject", "arn:aws:s3:::src-bucket/a b.txt"), ("s3:PutObject", "arn:aws:s3:::demo/dst")]),
    (dict(method="PUT", path="/dst", query="partNumber=1&uploadId=u",
          headers={"x-amz-copy-source": "src-bucket/a?versionId=v9"}),
     [("s3:GetObjectVersion", "arn:aws:s3:::src-bucket/a"), ("s3:PutObject", "arn:aws:s3:::demo/dst")]),
])
def test_s3_operation_to_action(kw, expected):
    kw.setdefault("host", "demo.s3.amazonaws.com")
    assert s3_checks(**kw)[0] == expected


def test_path_style_and_dotted_virtual_hosts():
    assert s3_checks(host="s3.us-east-1.amazonaws.com", path="/demo/raw/x")[0] == [
        ("s3:GetObject", "arn:aws:s3:::demo/raw/x")]
    assert s3_checks(host="my.dotted.bucket.s3.us-east-1.amazonaws.com", path="/x")[0] == [
        ("s3:GetObject", "arn:aws:s3:::my.dotted.bucket/x")]


def test_sse_and_list_context_keys():
    req = parse_request(environ(method="PUT", path="/k", headers={
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": "key-1"}))
    ctx = s3.checks(req, s3.target(req))[0].context
    assert ctx["s3:x-amz-server-side-encryption"] == "aws:kms"
    assert ctx["s3:x-amz-server-side-encryption-aws-kms-key-id"] == "key-1"
    req = parse_request(environ(query="list-type=2&prefix=home%2Fana%2F&delimiter=%2F&max-keys=5"))
    ctx = s3.checks(req, s3.target(req))[0].context
    assert (ctx["s3:prefix"], ctx["s3:delimiter"], ctx["s3:max-keys"]) == ("home/ana/", "/", "5")
    plain = parse_request(environ(method="PUT", path="/k"))
    assert "s3:x-amz-server-side-encryption" not in s3.checks(plain, s3.target(plain))[0].context


@pytest.mark.parametrize("method, path, action, resource", [
    ("PUT", "/v20180820/accesspoint/ap1", "s3:CreateAccessPoint",
     "arn:aws:s3:us-east-1:123456789012:accesspoint/ap1"),
    ("GET", "/v20180820/accesspoint", "s3:ListAccessPoints", "*"),
    ("PUT", "/v20180820/accesspoint/ap1/policy", "s3:PutAccessPointPolicy",
     "arn:aws:s3:us-east-1:123456789012:accesspoint/ap1"),
    ("GET", "/v20180820/accesspoint/ap1/policy", "s3:GetAccessPointPolicy",
     "arn:aws:s3:us-east-1:123456789012:accesspoint/ap1"),
    ("DELETE", "/v20180820/accesspoint/ap1", "s3:DeleteAccessPoint",
     "arn:aws:s3:us-east-1:123456789012:accesspoint/ap1"),
])
def test_s3_control_routes(method, path, action, resource):
    req = parse_request(environ(method=method, host="123456789012.s3-control.us-east-1.amazonaws.com",
                                path=path))
    assert s3.target(req).control
    assert [(c.action, c.resource) for c in s3.control_checks(req)] == [(action, resource)]


def test_query_json_and_rest_operations():
    form = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    ec2 = parse_request(environ(method="POST", host="ec2.us-east-1.amazonaws.com", service="ec2",
                                headers=form, body=b"Action=RunInstances&Version=2016-11-15"))
    # Service Authorization Reference, EC2: RunInstances is decided on the image, instance,
    # network interface, subnet and security group.
    assert [(a, r) for a, r, _ in generic.checks(ec2, "123456789012", "arn")] == [
        ("ec2:RunInstances", "arn:aws:ec2:us-east-1::image/*"),
        ("ec2:RunInstances", "arn:aws:ec2:us-east-1:123456789012:instance/*"),
        ("ec2:RunInstances", "arn:aws:ec2:us-east-1:123456789012:network-interface/*"),
        ("ec2:RunInstances", "arn:aws:ec2:us-east-1:123456789012:subnet/*"),
        ("ec2:RunInstances", "arn:aws:ec2:us-east-1:123456789012:security-group/*")]
    cw = parse_request(environ(method="POST", host="monitoring.us-east-1.amazonaws.com",
                               service="monitoring", headers=form, body=b"Action=PutMetricData"))
    assert generic.checks(cw, "123456789012", "arn")[0][0] == "cloudwatch:PutMetricData"
    ecr = parse_request(environ(method="POST", host="api.ecr.us-east-1.amazonaws.com", service="ecr",
                                headers={"x-amz-target":
                                         "AmazonEC2ContainerRegistry_V20150921.CreateRepository"},
                                body=b'{"repositoryName": "lab"}'))
    assert generic.checks(ecr, "123456789012", "arn") == [
        ("ecr:CreateRepository", "arn:aws:ecr:us-east-1:123456789012:repository/lab", {})]
    fn = parse_request(environ(method="POST", host="lambda.us-east-1.amazonaws.com", service="lambda",
                               path="/2015-03-31/functions/hello/invocations"))
    assert generic.checks(fn, "123456789012", "arn") == [
        ("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:hello", {})]
    eks = parse_request(environ(method="GET", host="eks.us-east-1.amazonaws.com", service="eks",
                                path="/clusters/lab"))
    assert generic.checks(eks, "123456789012", "arn") == [
        ("eks:DescribeCluster", "arn:aws:eks:us-east-1:123456789012:cluster/lab", {})]


def test_get_caller_identity_needs_no_permission():
    req = parse_request(environ(method="POST", host="sts.amazonaws.com", service="sts",
                                headers={"content-type": "application/x-www-form-urlencoded"},
                                body=b"Action=GetCallerIdentity&Version=2011-06-15"))
    assert generic.checks(req, "123456789012", "arn") == []


def test_passing_a_role_needs_iam_pass_role():
    body = (b'{"DomainName": "lab", "AuthMode": "IAM", "DefaultUserSettings": '
            b'{"ExecutionRole": "arn:aws:iam::123456789012:role/analyst-exec"}}')
    req = parse_request(environ(method="POST", host="api.sagemaker.us-east-1.amazonaws.com",
                                service="sagemaker", headers={"x-amz-target": "SageMaker.CreateDomain"},
                                body=body))
    assert generic.checks(req, "123456789012", "arn") == [
        # CreateDomain is decided on the domain ARN pattern (its id does not exist yet).
        ("sagemaker:CreateDomain", "arn:aws:sagemaker:us-east-1:123456789012:domain/*", {}),
        ("iam:PassRole", "arn:aws:iam::123456789012:role/analyst-exec",
         {"iam:PassedToService": "sagemaker.amazonaws.com"})]
