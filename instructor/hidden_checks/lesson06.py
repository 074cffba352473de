"""Hidden checks for lesson 06 (graded by `labkit regrade`, never shipped to learners)."""
from __future__ import annotations

import json
from urllib.parse import unquote

from labkit.topics import scaling as ec2
from labkit.topics import sagemaker_domain as lab_sm
from labkit.checks import Fail, check
from labkit.checks.lesson06 import _as_list, _domain, _role


@check("06.private-space", points=1, hidden=True,
       hint="SpaceSharingSettings={'SharingType': 'Private'}: a shared space lets every profile in")
def private_space(lab):
    """The analyst's space is private, not shared with the whole domain."""
    described = _domain(lab)
    found = lab.client("sagemaker").describe_space(DomainId=described["DomainId"], SpaceName=lab_sm.space_name(lab))
    sharing = (found.get("SpaceSharingSettings") or {}).get("SharingType")
    if sharing != "Private":
        raise Fail(f"space sharing is {sharing}")
    return "private"


@check("06.role-scope", points=1, hidden=True,
       hint="the execution role is for SageMaker only: trust no other service or account")
def role_scope(lab):
    """Nothing but SageMaker is trusted by the execution role."""
    doc = _role(lab)["AssumeRolePolicyDocument"]
    doc = json.loads(unquote(doc)) if isinstance(doc, str) else doc
    for statement in doc.get("Statement", []):
        principal = statement.get("Principal") or {}
        others = set(principal) - {"Service"}
        if statement.get("Effect") == "Allow" and (others or principal == "*"
                                                   or set(_as_list(principal.get("Service"))) - {lab_sm.SERVICE_PRINCIPAL}):
            raise Fail(f"the trust policy also trusts {principal}")
    return "trusted by SageMaker only"
