"""Reading the ACL a request asks for, and classifying it as S3 does.

A request can carry an ACL three ways: a canned ACL header (``x-amz-acl``),
grant headers (``x-amz-grant-read: uri="..."``), or, for PutBucketAcl and
PutObjectAcl, an AccessControlPolicy XML body. S3 treats them alike when it
decides whether an ACL is public or only gives the bucket owner full control.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moto.s3.models import OWNER, PERMISSION_FULL_CONTROL, FakeAcl

from labkit.emulator.services.s3.public import PUBLIC_CANNED_ACLS, acl_is_public

#: Canned ACLs that give only the owner access (allowed at CreateBucket).
OWNER_ONLY_CANNED_ACLS = {"private", "bucket-owner-full-control"}


@dataclass
class RequestedAcl:
    """The ACL a request sets: a canned name, explicit grants, or nothing."""

    canned: str | None = None
    acl: FakeAcl | None = None
    grantee_uris: list[str] = field(default_factory=list)

    @property
    def present(self) -> bool:
        """Whether the request sets any ACL at all."""
        return bool(self.canned) or self.acl is not None

    @property
    def is_public(self) -> bool:
        """Whether the ACL grants anything to AllUsers or AuthenticatedUsers."""
        return self.canned in PUBLIC_CANNED_ACLS or acl_is_public(self.grantee_uris)

    @property
    def bucket_owner_full_control(self) -> bool:
        """The one ACL a BucketOwnerEnforced bucket accepts on PUT requests."""
        if self.canned:
            return self.canned == "bucket-owner-full-control"
        return self._grants_owner_only()

    @property
    def owner_only(self) -> bool:
        """Whether only the bucket owner gets access (private counts too)."""
        if self.canned:
            return self.canned in OWNER_ONLY_CANNED_ACLS
        return self._grants_owner_only()

    def _grants_owner_only(self) -> bool:
        if self.acl is None:
            return True
        for grant in self.acl.grants:
            if grant.permissions != [PERMISSION_FULL_CONTROL]:
                return False
            if any(g.uri or g.id != OWNER for g in grant.grantees):
                return False
        return True


def requested_acl(response: Any, *, body_allowed: bool) -> RequestedAcl:
    """The ACL carried by the moto S3Response ``response``'s current request.

    ``body_allowed`` says whether this operation takes an AccessControlPolicy
    body (PutBucketAcl, PutObjectAcl). Uses moto's own header/body parsers, so
    malformed ACLs fail with moto's (S3's) errors.
    """
    headers = response.headers
    canned = headers.get("x-amz-acl") or None
    acl = None
    if not canned:
        acl = response._acl_from_headers(headers)
        if acl is None and body_allowed and _has_body(response):
            acl = response._acl_from_body()
    uris = [g.uri for grant in (acl.grants if acl else []) for g in grant.grantees]
    return RequestedAcl(canned=canned, acl=acl, grantee_uris=uris)


def _has_body(response: Any) -> bool:
    body = response.body
    return bool(body and body.strip())
