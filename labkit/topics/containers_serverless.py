"""Lesson 08 (optional): containers and serverless, as far as an offline emulator can go.

Creates and describes, for NAME (:func:`build`, idempotent):

* an ECR repository ``NAME-analysis`` (scan on push, immutable tags, AES256);
* an EKS cluster ``NAME-cluster`` over lesson 05's two subnets, with its IAM role;
* a Lambda function ``NAME-hello`` (Python, a zip built in memory) with its IAM role.

The emulator keeps these resources' *records* (ARNs, states, settings) exactly as
the APIs return them, but runs nothing: there is no Docker here, so no image is
pushed, no Kubernetes node starts, no function is invoked. The lesson says so.
"""
from __future__ import annotations

import io
import json
import zipfile


from labkit.topics import cleanup, costs, scaling as ec2

LAMBDA_RUNTIME = "python3.12"
LAMBDA_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
EKS_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
HANDLER_SOURCE = '''def handler(event, context):
    """Say hello to whoever is named in the event."""
    return {"message": f"hello, {event.get('name', 'analyst')}"}
'''


def repository_name(lab) -> str:
    return f"{lab.name}-analysis"


def cluster_name(lab) -> str:
    return f"{lab.name}-cluster"


def function_name(lab) -> str:
    return f"{lab.name}-hello"


def eks_role(lab) -> str:
    return f"{lab.name}-eks-cluster-role"


def lambda_role(lab) -> str:
    return f"{lab.name}-lambda-role"


def service_trust(service: str) -> dict:
    """A trust policy letting one AWS service (e.g. lambda.amazonaws.com) assume a role."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}


def ensure_service_role(lab, role: str, service: str, policy_arn: str) -> str:
    """Role ``role`` trusted by ``service`` with one managed policy; returns its ARN."""
    iam = lab.client("iam")
    try:
        arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(service_trust(service)),
                              Tags=[{"Key": "labkit", "Value": "course"}])["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        arn = iam.get_role(RoleName=role)["Role"]["Arn"]
    iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)
    return arn


# --- ECR ------------------------------------------------------------------------

def ensure_repository(lab) -> dict:
    """NAME-analysis: images scanned on push, tags immutable, encrypted; returns its description."""
    ecr, name = lab.client("ecr"), repository_name(lab)
    try:
        return ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    except ecr.exceptions.RepositoryNotFoundException:
        pass
    return ecr.create_repository(
        repositoryName=name, imageTagMutability="IMMUTABLE",
        imageScanningConfiguration={"scanOnPush": True},
        encryptionConfiguration={"encryptionType": "AES256"},
        tags=[{"Key": "labkit", "Value": "course"}])["repository"]


# --- EKS ------------------------------------------------------------------------

def ensure_cluster(lab) -> dict:
    """NAME-cluster over lesson 05's subnets; returns DescribeCluster's cluster."""
    eks, name = lab.client("eks"), cluster_name(lab)
    try:
        return eks.describe_cluster(name=name)["cluster"]
    except eks.exceptions.ResourceNotFoundException:
        pass
    role_arn = ensure_service_role(lab, eks_role(lab), "eks.amazonaws.com", EKS_POLICY_ARN)
    network = ec2.ensure_network(lab)
    return eks.create_cluster(
        name=name, roleArn=role_arn,
        resourcesVpcConfig={"subnetIds": network["subnets"], "endpointPublicAccess": True,
                            "endpointPrivateAccess": True},
        tags={"labkit": "course"})["cluster"]


# --- Lambda -----------------------------------------------------------------------

def handler_zip() -> bytes:
    """The function's deployment package: one file, lambda_function.py, zipped in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("lambda_function.py", date_time=(2024, 1, 1, 0, 0, 0))
        archive.writestr(info, HANDLER_SOURCE)
    return buffer.getvalue()


def ensure_function(lab) -> dict:
    """NAME-hello (Python, 128 MB, 10 s); returns GetFunction's Configuration."""
    fn, name = lab.client("lambda"), function_name(lab)
    try:
        return fn.get_function(FunctionName=name)["Configuration"]
    except fn.exceptions.ResourceNotFoundException:
        pass
    role_arn = ensure_service_role(lab, lambda_role(lab), "lambda.amazonaws.com", LAMBDA_POLICY_ARN)
    return fn.create_function(
        FunctionName=name, Runtime=LAMBDA_RUNTIME, Role=role_arn,
        Handler="lambda_function.handler", Code={"ZipFile": handler_zip()},
        MemorySize=128, Timeout=10, Description="labkit lesson 08: says hello",
        Tags={"labkit": "course"})


def build(lab) -> None:
    """Lesson 08's end state (reference solution); safe to run any number of times."""
    ensure_repository(lab)
    announce_cost(lab)
    ensure_cluster(lab)
    ensure_function(lab)
    wait_until_active(lab)


#: boto3 waiters: EKS polls every 10 s (a cluster takes ~10 minutes), Lambda every 2 s.
EKS_WAIT = {"Delay": 10, "MaxAttempts": 120}
LAMBDA_WAIT = {"Delay": 2, "MaxAttempts": 150}


def cost_items() -> dict[str, int]:
    """What lesson 08 leaves running: the EKS control plane (the function costs nothing idle)."""
    return {"eks:cluster": 1, "lambda:idle": 1}


def announce_cost(lab) -> str:
    """Print the hourly estimate of the cluster and function, and how to remove them."""
    return costs.announce(lab, "the EKS cluster (and the idle Lambda function)", cost_items(),
                          "containers_serverless")


def wait_until_active(lab) -> dict:
    """Wait for the cluster (CREATING -> ACTIVE) and the function (Pending -> Active).

    EKS API reference, Cluster status; Lambda developer guide, "Lambda function
    states" (a Pending function cannot be invoked). Uses boto3's waiters
    ``cluster_active`` and ``function_active_v2``. Returns {"cluster": status, "function": state}.
    """
    eks, fn = lab.client("eks"), lab.client("lambda")
    eks.get_waiter("cluster_active").wait(name=cluster_name(lab), WaiterConfig=EKS_WAIT)
    fn.get_waiter("function_active_v2").wait(FunctionName=function_name(lab), WaiterConfig=LAMBDA_WAIT)
    return {"cluster": eks.describe_cluster(name=cluster_name(lab))["cluster"]["status"],
            "function": fn.get_function(FunctionName=function_name(lab))["Configuration"]["State"]}


# --- teardown ---------------------------------------------------------------------

def leftovers(lab) -> list[str]:
    """What lesson 08 left for NAME (empty after teardown)."""
    found = []
    ecr, eks, fn, iam = (lab.client(s) for s in ("ecr", "eks", "lambda", "iam"))
    try:
        ecr.describe_repositories(repositoryNames=[repository_name(lab)])
        found.append(f"ECR repository {repository_name(lab)}")
    except ecr.exceptions.RepositoryNotFoundException:
        pass
    if cluster_name(lab) in eks.list_clusters()["clusters"]:
        found.append(f"EKS cluster {cluster_name(lab)}")
    try:
        fn.get_function(FunctionName=function_name(lab))
        found.append(f"Lambda function {function_name(lab)}")
    except fn.exceptions.ResourceNotFoundException:
        pass
    for role in (eks_role(lab), lambda_role(lab)):
        try:
            iam.get_role(RoleName=role)
            found.append(f"IAM role {role}")
        except iam.exceptions.NoSuchEntityException:
            pass
    return found


def teardown(lab) -> list[str]:
    """Remove lesson 08's resources (cluster before its role); return what could not go.

    Run it before labkit.topics.scaling.teardown: the cluster uses lesson 05's subnets.
    """
    return cleanup.run_steps(
        lab, (_delete_function, _delete_cluster, _delete_repository, _delete_roles))


def _delete_function(lab) -> None:
    fn = lab.client("lambda")
    try:
        fn.delete_function(FunctionName=function_name(lab))
    except fn.exceptions.ResourceNotFoundException:
        pass


def _delete_cluster(lab) -> None:
    eks = lab.client("eks")
    if cluster_name(lab) not in eks.list_clusters()["clusters"]:
        return
    eks.delete_cluster(name=cluster_name(lab))
    # DELETING takes minutes on AWS: wait, so lesson 99 can prove it is gone.
    eks.get_waiter("cluster_deleted").wait(name=cluster_name(lab), WaiterConfig=EKS_WAIT)


def _delete_repository(lab) -> None:
    ecr = lab.client("ecr")
    try:
        ecr.delete_repository(repositoryName=repository_name(lab), force=True)
    except ecr.exceptions.RepositoryNotFoundException:
        pass


def _delete_roles(lab) -> None:
    iam = lab.client("iam")
    for role in (eks_role(lab), lambda_role(lab)):
        try:
            for policy in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=role, PolicyArn=policy["PolicyArn"])
            iam.delete_role(RoleName=role)
        except iam.exceptions.NoSuchEntityException:
            pass
