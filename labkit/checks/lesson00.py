"""Checks for lesson 00: where the lab runs and where its credentials come from."""
from __future__ import annotations

import os
from pathlib import Path

from labkit.checks import Fail, check


@check("00.identity", points=1,
       hint="Run labkit.start(NAME) first; it sets up the emulator and the lab-local files.",
       docs='IAM User Guide › Temporary security credentials; the AWS STS API Reference › GetCallerIdentity')
def identity(lab):
    """STS answers, for the account the lab targets."""
    ident = lab.client("sts").get_caller_identity()
    if ident["Account"] != lab.account_id:
        raise Fail(f"STS reports account {ident['Account']}, the lab targets {lab.account_id}")
    return f"STS says you are {ident['Arn']}"


@check("00.lab-files", points=1,
       hint="Do not point AWS_SHARED_CREDENTIALS_FILE at ~/.aws: labkit.start() sets it for you.",
       docs='AWS CLI User Guide › Configuration and credential file settings (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE)')
def lab_files(lab):
    """Clients read the lab-local config and credentials, never ~/.aws."""
    home_aws = (Path.home() / ".aws").resolve()
    for variable in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        value = os.environ.get(variable)
        if not value:
            raise Fail(f"{variable} is not set, so clients would read ~/.aws")
        if home_aws in Path(value).resolve().parents:
            raise Fail(f"{variable} points into your own ~/.aws ({value})")
    return f"clients read {lab.files.folder}"


@check("00.scratch-profile", points=2,
       hint='the scratch profile needs a region in the lab-local config file',
       docs='AWS CLI User Guide › Configuration and credential file settings › Named profiles',
       reference='aws configure set region <region> --profile scratch  (then re-run the check)')
def scratch_profile(lab):
    """The learner added a profile named 'scratch' with the lab's region, using `aws configure set`."""
    result = lab.aws("aws configure get region --profile scratch")
    region = result.stdout.strip()
    if result.returncode != 0 or not region:
        raise Fail("there is no profile 'scratch' with a region in the lab-local config file")
    if region != lab.region:
        raise Fail(f"profile 'scratch' has region {region!r}; the lab uses {lab.region!r}")
    return f"profile 'scratch' uses region {region}"
