"""What S3 calls "public" for ACLs (bucket policies: see labkit.policy.is_public).

From the S3 User Guide, "The meaning of "public"", section ACLs: "Amazon S3
considers a bucket or object ACL public if it grants any permissions to
members of the predefined AllUsers or AuthenticatedUsers groups."

Whether a bucket or access point *policy* is public is a question of policy
semantics, answered by the policy engine alone
(``labkit.policy.is_public(doc, access_point=...)``); the emulator calls it.
This module is pure: it never touches moto.
"""
from __future__ import annotations

from typing import Iterable

#: The ACL grantee groups that make an ACL public.
PUBLIC_GROUP_URIS = {
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
}

#: Canned ACLs that grant to one of those groups.
PUBLIC_CANNED_ACLS = {"public-read", "public-read-write", "authenticated-read"}


def is_public_grantee_uri(uri: str | None) -> bool:
    """Whether an ACL grantee group URI is one that makes an ACL public."""
    return (uri or "").rstrip("/") in PUBLIC_GROUP_URIS


def acl_is_public(grantee_uris: Iterable[str | None]) -> bool:
    """Whether an ACL with these grantee URIs is public (AllUsers/AuthenticatedUsers)."""
    return any(is_public_grantee_uri(uri) for uri in grantee_uris)
