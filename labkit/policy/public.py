"""is_public(doc, *, access_point=False): S3's definition of a "public" policy.

The single authority for the question (the emulator's Block Public Access and
GetBucketPolicyStatus / GetAccessPointPolicyStatus call it too). Source: S3
User Guide, "Blocking public access to your Amazon S3 storage", section
"The meaning of "public"" (quoted below as [Docs]):

    "When evaluating a bucket policy, Amazon S3 begins by assuming that the
    policy is public. It then evaluates the policy to determine whether it
    qualifies as non-public. To be considered non-public, a bucket policy must
    grant access only to fixed values (values that don't contain a wildcard or
    an AWS Identity and Access Management Policy Variable) for one or more of
    the following: [a principal, aws:SourceIp, and the keys in FIXING_KEYS]."

So an Allow statement is public unless it names only fixed principals or a
condition pins one of those keys to fixed values. Deny grants nothing, so it
never makes a policy public. When the docs leave a case open we answer
"public", as S3 starts from that assumption.
"""
from __future__ import annotations

import copy
import ipaddress
import json
import re

from labkit.policy.conditions import split_operator
from labkit.policy.document import PrincipalSpec, Statement, parse_policy
from labkit.policy.errors import PolicyError

#: Condition keys that, pinned to fixed values, make an Allow non-public.
FIXING_KEYS = frozenset(k.lower() for k in (
    # [Docs] "An AWS principal, user, role, or service principal (e.g.
    # aws:PrincipalOrgID)": the keys that name the calling principal, its
    # account or its organization are that bullet written as a condition.
    "aws:PrincipalOrgID", "aws:PrincipalAccount", "aws:PrincipalArn",
    # [Docs] "A set of Classless Inter-Domain Routings (CIDRs), using
    # aws:SourceIp" (with the breadth limit in narrow_cidr).
    "aws:SourceIp",
    # [Docs] the bulleted keys, verbatim.
    "aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceOwner", "aws:SourceAccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "aws:userid",  # [Docs] "aws:userid, outside the pattern "AROLEID:*"", see _fixes
    "s3:DataAccessPointArn",  # with a bucket-policy exception, see _fixed_access_point_arn
    "s3:DataAccessPointAccount",
))
# Operators that require the request's value to be one of the listed values.
# Negated operators, ...IfExists and ForAllValues: are satisfied by requests
# outside the list (or without the key), so they pin nothing.
_FIXING_OPS = {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike",
               "IpAddress"}
# [Docs] s3:DataAccessPointArn note: "When used in a bucket policy, this value
# can contain a wildcard for the access point name without rendering the
# policy public, as long as the account id is fixed. For example, allowing
# access to arn:aws:s3:us-west-2:123456789012:accesspoint/* ...". Everything
# before the name must be fixed; the name may hold wildcards, not variables.
_AP_ARN_WILDCARD_NAME = re.compile(r"^arn:[a-z-]+:s3:[a-z0-9-]+:\d{12}:accesspoint/[^$]+$")


def is_public(doc, *, access_point: bool = False) -> bool:
    """True if the resource policy DOC is public in S3's sense (see module docstring).

    DOC is JSON text, bytes, a dict or a parsed Policy. ``access_point=True``
    judges it as an access point policy, where a wildcard in
    ``s3:DataAccessPointArn`` makes it public (in a bucket policy a wildcard
    access point name under a fixed account does not). Raises PolicyError if
    DOC is malformed; a wildcard in a principal ARN is answered, not refused.
    """
    policy = _parse(doc)
    return any(statement_is_public(st, access_point=access_point)
               for st in policy.statements if st.effect == "Allow")


def statement_is_public(st: Statement, *, access_point: bool = False) -> bool:
    """True if this Allow statement grants to the public."""
    if not st.not_principal and st.principal is not None and _principal_fixed(st.principal):
        return False
    return not any(_fixes(check, access_point) for check in st.conditions)


def _principal_fixed(spec: PrincipalSpec) -> bool:
    # [Docs] fixed: "An AWS principal, user, role, or service principal". A
    # federated (web identity) principal is not in that list, and the docs'
    # first "public bucket policies" example is Principal {"Federated":
    # "graph.facebook.com"}: anyone with an account there gets in.
    if spec.public or spec.federated:
        return False
    return all(_fixed(v) for v in spec.all_values())


def _fixes(check, access_point: bool) -> bool:
    """True if this condition test pins a FIXING_KEYS key to fixed values."""
    if check.key not in FIXING_KEYS or not check.raw:
        return False
    try:
        set_op, base, if_exists = split_operator(check.op_name)
    except ValueError:
        return False
    if if_exists or set_op == "ForAllValues" or base not in _FIXING_OPS:
        return False
    if check.key == "aws:sourceip":
        return base == "IpAddress" and all(narrow_cidr(v) for v in check.raw)
    if check.key == "s3:dataaccesspointarn" and not access_point:
        return all(_fixed(v) or _AP_ARN_WILDCARD_NAME.match(v) for v in check.raw)
    # aws:userid: [Docs] "aws:userid, outside the pattern "AROLEID:*"": a role
    # id followed by ":*" (any session of the role) is a wildcard value and
    # does not count as fixed; _fixed already says so. [Docs] access points:
    # "An access point policy that grants access to a set of access points
    # using s3:DataAccessPointArn is considered public": likewise a wildcard.
    return all(_fixed(v) for v in check.raw)


def _fixed(value: str) -> bool:
    """[Docs] fixed values: "values that don't contain a wildcard or an ... Policy Variable"."""
    return bool(value) and "*" not in value and "?" not in value and "${" not in value


def narrow_cidr(value: str) -> bool:
    """True if an aws:SourceIp value is a fixed range no broader than S3 allows.

    [Docs] "Bucket policies that grant access conditioned on the aws:SourceIp
    condition key with very broad IP ranges (for example, 0.0.0.0/1) are
    evaluated as "public." This includes values broader than /8 for IPv4 and
    /32 for IPv6 (excluding RFC1918 private ranges)." So /8 and /32 themselves
    are narrow enough. The RFC 1918 exclusion needs no code: the broadest
    private range (10.0.0.0/8) is itself /8, so any range inside one passes.
    """
    if not _fixed(value):
        return False
    try:
        net = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return False
    return net.prefixlen >= (8 if net.version == 4 else 32)


def _parse(doc):
    """Parse DOC as a resource policy; retry with wildcard principal ARNs widened to "*".

    The parser refuses a wildcard inside a principal ARN (IAM does too), but
    the question "is it public?" has an answer: such a principal is not a
    fixed value, so it is exactly as public as "*" (conditions may still fix
    it). The retry keeps the cached fast path for every other policy.
    """
    try:
        return parse_policy(doc, "policy", "resource")
    except PolicyError:
        widened = _widen_wildcard_principals(doc)
        if widened is None:
            raise
        return parse_policy(widened, "policy", "resource")


def _widen_wildcard_principals(doc):
    """A copy of DOC with wildcard AWS principal values replaced by "*", or None if none."""
    if isinstance(doc, (bytes, bytearray)):
        doc = doc.decode("utf-8", errors="replace")
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            return None
    if not isinstance(doc, dict):
        return None
    doc = copy.deepcopy(doc)
    statements = doc.get("Statement")
    statements = [statements] if isinstance(statements, dict) else statements
    changed = False
    for st in statements if isinstance(statements, list) else []:
        for field in ("Principal", "NotPrincipal"):
            spec = st.get(field) if isinstance(st, dict) else None
            if isinstance(spec, dict) and "AWS" in spec:
                spec["AWS"], widened = _widen(spec["AWS"])
                changed = changed or widened
    return doc if changed else None


def _widen(values):
    items = values if isinstance(values, list) else [values]
    out = ["*" if isinstance(v, str) and v != "*" and ("*" in v or "?" in v) else v
           for v in items]
    return (out if isinstance(values, list) else out[0]), out != items
