"""Where the emulator cannot decide a request faithfully, it says so.

Two gaps are reported, in the emulator log (logger ``labkit.emulator.authz``)
and on the Decision (``Decision.notes``, appended to a denial's message):

- an operation with no IAM action mapping: the request is passed to moto
  undecided (reported, never silently);
- a condition key that a policy statement for the request's action uses, that
  AWS's Service Authorization Reference lists for that action, and that the
  emulator does not fill: the engine then sees the key as missing, which may
  differ from AWS.

A key counts as modelled when the emulator fills it whenever AWS would (or its
absence is faithful for the lab: no VPC endpoints, no AWS Organizations, no
calls made through other AWS services). Service layers may add theirs with
:func:`register_modelled`.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Iterable, List, Optional, Tuple

from labkit.policy import parse_policy, service_data

log = logging.getLogger("labkit.emulator.authz")

#: Condition keys (lower case) the emulator fills; entries ending in "/" or ":" are prefixes.
_MODELLED = {
    # global keys set by authz.decide / labkit.policy
    "aws:securetransport", "aws:sourceip", "aws:requestedregion", "aws:currenttime",
    "aws:epochtime", "aws:principalaccount", "aws:principaltype", "aws:userid", "aws:username",
    "aws:principalarn", "aws:tokenissuetime", "aws:resourceaccount", "aws:principalisawsservice",
    "aws:viaawsservice", "aws:useragent", "aws:referer", "aws:multifactorauthpresent",
    "aws:principaltag/",
    # absent in the lab, as on AWS for requests like the lab's
    "aws:sourcevpc", "aws:sourcevpce", "aws:vpcsourceip", "aws:sourcearn", "aws:sourceaccount",
    "aws:sourceorgid", "aws:sourceorgpaths", "aws:principalorgid", "aws:principalorgpaths",
    "aws:resourceorgid", "aws:resourceorgpaths", "aws:calledvia", "aws:calledviafirst",
    "aws:calledvialast", "aws:principalservicename", "aws:principalservicenameslist",
    "aws:federatedprovider", "aws:sourceidentity", "aws:multifactorauthage",
    # S3 (services.s3.actions)
    "s3:signatureversion", "s3:authtype", "s3:tlsversion", "s3:x-amz-content-sha256",
    "s3:prefix", "s3:delimiter", "s3:max-keys", "s3:versionid", "s3:resourceaccount",
    "s3:dataaccesspointarn", "s3:dataaccesspointaccount", "s3:accesspointnetworkorigin",
    "s3:existingobjecttag/", "s3:requestobjecttag/", "s3:requestobjecttagkeys",
    "s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:x-amz-server-side-encryption-customer-algorithm", "s3:x-amz-acl",
    "s3:x-amz-copy-source", "s3:x-amz-metadata-directive", "s3:x-amz-storage-class",
    "s3:x-amz-website-redirect-location", "s3:x-amz-grant-read", "s3:x-amz-grant-write",
    "s3:x-amz-grant-read-acp", "s3:x-amz-grant-write-acp", "s3:x-amz-grant-full-control",
    "s3:object-lock-mode", "s3:object-lock-retain-until-date", "s3:object-lock-legal-hold",
    "s3:if-match", "s3:if-none-match", "s3:locationconstraint", "s3:x-amz-object-ownership",
    # STS, IAM, EC2, SageMaker (services.*.actions, authz.generic, authz.tags)
    "sts:externalid", "sts:rolesessionname", "sts:sourceidentity",
    "iam:passedtoservice", "iam:permissionsboundary", "iam:policyarn", "iam:awsservicename",
    "iam:resourcetag/",
    "ec2:createaction", "ec2:resourcetag/", "ec2:region", "ec2:instancetype",
    "sagemaker:resourcetag/",
}
_prefixes: Tuple[str, ...] = ()
#: keys filled for some services only (authz.tags): key -> services whose requests have it
_BY_SERVICE = {
    "aws:requesttag/": {"iam", "ec2", "sagemaker", "sts"},
    "aws:tagkeys": {"iam", "ec2", "sagemaker", "sts"},
    "aws:resourcetag/": {"iam", "ec2", "sagemaker"},
}


def register_service_keys(service: str, keys: Iterable[str]) -> None:
    """Declare keys of the _BY_SERVICE kind (aws:ResourceTag/, ...) that SERVICE fills."""
    for key in keys:
        _BY_SERVICE.setdefault(key.lower(), set()).add(service.lower())
    _is_modelled.cache_clear()


def register_modelled(keys: Iterable[str]) -> None:
    """Declare condition keys (lower-cased; "prefix/" for families) a service layer fills."""
    global _prefixes
    _MODELLED.update(k.lower() for k in keys)
    _prefixes = tuple(k for k in _MODELLED if k.endswith(("/", ":")))
    _is_modelled.cache_clear()


@lru_cache(maxsize=4096)
def _is_modelled(key: str, service: str) -> bool:
    if key in _MODELLED or key.startswith(_prefixes):
        return True
    for family, services in _BY_SERVICE.items():
        if key == family or (family.endswith("/") and key.startswith(family)):
            return service in services
    return False


register_modelled(())


def _docs(caller, check) -> List[Tuple[str, object, str]]:
    out = [(name, doc, "identity") for name, doc in caller.identity_policies]
    for item, kind in ((caller.boundary, "boundary"), (caller.session_policy, "session")):
        if item is not None:
            out.append((item[0], item[1], kind))
    gates = check.gates if isinstance(check.gates, list) else (
        [check.gates] if check.gates else [])
    out += [(g[0], g[1], "resource") for g in gates]
    return out


def unfilled_keys(caller, check, ctx_lower: set) -> List[str]:
    """Keys of statements for CHECK's action that the emulator cannot fill for it."""
    action = check.action.lower()
    service = action.split(":", 1)[0]
    missing = []
    for name, doc, kind in _docs(caller, check):
        try:
            policy = parse_policy(doc, name, kind)
        except Exception:  # noqa: BLE001 - a bad stored policy is reported elsewhere
            continue
        for st in policy.for_action(action):
            for cond in st.conditions:
                key = cond.key
                if key in ctx_lower or _is_modelled(key, service) or key in missing:
                    continue
                if service_data.supports(action, key) is False:
                    continue  # AWS never sets it for this action either: absence is faithful
                missing.append(key)
    return missing


def note_unfilled(decision, caller, check, ctx: dict) -> None:
    """Add (and log) a note on DECISION for every condition key it could not fill."""
    keys = unfilled_keys(caller, check, {k.lower() for k in ctx})
    if not keys:
        return
    text = (f"labkit emulator: condition key(s) {', '.join(keys)} used by a policy for "
            f"{check.action} are not modelled and were treated as missing; AWS may decide "
            "otherwise")
    decision.notes.append(text)
    log.warning("%s (caller %s, resource %s, decision %s)", text, caller.arn, check.resource,
                decision.decision)


def unmapped(service: str, method: str, path: str, operation: Optional[str], caller_arn: str,
             why: str) -> str:
    """Log (and return) the note for a request the emulator has no permission mapping for."""
    text = (f"labkit emulator: {why} ({service} {operation or method + ' ' + path}); "
            "passed to moto without an authorization decision")
    log.warning("%s (caller %s)", text, caller_arn)
    return text
