"""is_public(doc): S3's definition of a "public" bucket or access point policy.

From the S3 user guide, "The meaning of public" (Block Public Access): a
policy is *non-public* only if every Allow statement grants to fixed values:
a fixed principal (AWS account, user, role, or service principal, never
``"*"``), or it carries a condition that pins one of the keys below to
non-wildcard values. A CIDR in aws:SourceIp is fixed only when it is no
broader than /8 (IPv4) or /32 (IPv6), unless it is an RFC 1918 private range.
A condition on aws:SecureTransport (or any key not listed) does not make a
statement non-public. Deny statements never make a policy public.
"""
from __future__ import annotations

import ipaddress

from labkit.policy.conditions import split_operator
from labkit.policy.document import Statement, parse_policy

#: Condition keys that, fixed to non-wildcard values, make an Allow non-public.
FIXING_KEYS = frozenset(k.lower() for k in (
    "aws:SourceIp", "aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceAccount",
    "aws:SourceOwner", "aws:PrincipalOrgID", "aws:PrincipalAccount", "aws:PrincipalArn",
    "aws:userid", "s3:DataAccessPointArn", "s3:DataAccessPointAccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
))
# Operators that pin a key to the listed values (negated ones do not).
_FIXING_OPS = {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike",
               "IpAddress"}
_PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]


def is_public(doc) -> bool:
    """True if the resource policy DOC is public in S3's sense (see module docstring).

    Raises PolicyError if DOC is malformed.
    """
    policy = parse_policy(doc, "policy", "resource")
    return any(statement_is_public(st) for st in policy.statements if st.effect == "Allow")


def statement_is_public(st: Statement) -> bool:
    """True if this Allow statement grants to the public."""
    if not st.not_principal and st.principal is not None and not st.principal.public:
        return False
    return not any(_fixes(check) for check in st.conditions)


def _fixes(check) -> bool:
    if check.key not in FIXING_KEYS:
        return False
    try:
        set_op, base, if_exists = split_operator(check.op_name)
    except ValueError:
        return False
    if if_exists or set_op == "ForAllValues" or base not in _FIXING_OPS:
        return False
    if check.key == "aws:sourceip":
        return base == "IpAddress" and all(_narrow(v) for v in check.raw)
    return all(v and "*" not in v and "?" not in v and "${" not in v for v in check.raw)


def _narrow(cidr: str) -> bool:
    try:
        net = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return False
    if net.version == 4 and any(net.subnet_of(p) for p in _PRIVATE):
        return True
    return net.prefixlen >= (8 if net.version == 4 else 32)
