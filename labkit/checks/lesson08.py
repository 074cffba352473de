"""Checks for lesson 08 (optional): ECR repository, EKS cluster, Lambda function."""
from __future__ import annotations

from labkit.topics import containers_serverless as beyond
from labkit.checks import Fail, check


@check("08.ecr-repository", points=2,
       hint="ecr.create_repository(repositoryName=..., imageTagMutability='IMMUTABLE', "
            "imageScanningConfiguration={'scanOnPush': True})",
       docs='Amazon ECR User Guide › Creating a private repository; Image tag mutability; Image scanning')
def ecr_repository(lab):
    """The repository exists, scans images on push and keeps tags immutable."""
    ecr, name = lab.client("ecr"), beyond.repository_name(lab)
    try:
        repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    except ecr.exceptions.RepositoryNotFoundException:
        raise Fail(f"no ECR repository named {name}") from None
    if not repo.get("imageScanningConfiguration", {}).get("scanOnPush"):
        raise Fail(f"{name} does not scan images on push")
    if repo.get("imageTagMutability") != "IMMUTABLE":
        raise Fail(f"{name}'s tags are {repo.get('imageTagMutability')}: a pushed tag could be replaced")
    return f"{repo['repositoryUri']}: scan on push, immutable tags"


@check("08.eks-cluster", points=2,
       hint="eks.create_cluster(name=..., roleArn=<role trusted by eks.amazonaws.com>, "
            "resourcesVpcConfig={'subnetIds': both subnets})",
       docs='Amazon EKS User Guide › Create an Amazon EKS cluster; Amazon EKS cluster IAM role')
def eks_cluster(lab):
    """The cluster exists over subnets in two Availability Zones, with a role EKS may assume."""
    eks, name = lab.client("eks"), beyond.cluster_name(lab)
    try:
        cluster = eks.describe_cluster(name=name)["cluster"]
    except eks.exceptions.ResourceNotFoundException:
        raise Fail(f"no EKS cluster named {name}") from None
    subnets = cluster["resourcesVpcConfig"].get("subnetIds", [])
    described = lab.client("ec2").describe_subnets(SubnetIds=subnets)["Subnets"] if subnets else []
    zones = {s["AvailabilityZone"] for s in described}
    if len(zones) < 2:
        raise Fail(f"{name} uses subnets in {sorted(zones) or 'no zone'}: EKS needs two zones")
    if not cluster.get("roleArn", "").endswith(f":role/{beyond.eks_role(lab)}"):
        raise Fail(f"{name} runs as {cluster.get('roleArn')}, not {beyond.eks_role(lab)}")
    return f"{name} is {cluster['status']} over {', '.join(sorted(zones))}"


@check("08.lambda-function", points=2,
       hint="lambda.create_function(FunctionName=..., Runtime='python3.12', Role=<role trusted by "
            "lambda.amazonaws.com>, Handler='lambda_function.handler', Code={'ZipFile': ...})",
       docs='AWS Lambda Developer Guide › Defining Lambda function permissions with an execution role; API Reference › CreateFunction')
def lambda_function(lab):
    """The function exists with a Python runtime and the lesson's execution role."""
    fn, name = lab.client("lambda"), beyond.function_name(lab)
    try:
        config = fn.get_function(FunctionName=name)["Configuration"]
    except fn.exceptions.ResourceNotFoundException:
        raise Fail(f"no Lambda function named {name}") from None
    if not config.get("Runtime", "").startswith("python3"):
        raise Fail(f"{name} runs {config.get('Runtime')}, not Python 3")
    if not config["Role"].endswith(f":role/{beyond.lambda_role(lab)}"):
        raise Fail(f"{name} runs as {config['Role']}, not {beyond.lambda_role(lab)}")
    return f"{name}: {config['Runtime']}, handler {config['Handler']}"
