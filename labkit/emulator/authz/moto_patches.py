"""moto changes the authorization layer relies on: user permissions boundaries, and
no second opinion from moto on bucket policies.

moto evaluates bucket policies itself on object calls, ignoring conditions (a
Deny "unless encrypted" denies even encrypted uploads) and principals.
labkit's middleware has already decided every request with labkit.policy, so
``FakeBucket.get_permission`` is made to agree with it (PERMITTED).

moto stores role boundaries but has no PutUserPermissionsBoundary /
DeleteUserPermissionsBoundary, ignores CreateUser's PermissionsBoundary, and
GetUser never reports one. ``install()`` (idempotent) adds all of that, so a
lesson can set a user's boundary with boto3 or the CLI and the authorizer
(identity.py reads ``user.permissions_boundary_arn``) applies it.
"""
from __future__ import annotations

_installed = False


def _invalid_error():
    try:
        from moto.iam.exceptions import ValidationError
        return ValidationError
    except ImportError:  # pragma: no cover - older moto
        from moto.core.exceptions import RESTError
        return RESTError


def put_user_permissions_boundary(backend, user_name: str, arn: str) -> None:
    """Set USER_NAME's permissions boundary to the managed policy ARN (as IAM does)."""
    user = backend.get_user(user_name)  # NoSuchEntity when missing
    if not backend.policy_arn_regex.match(arn or ""):
        raise _invalid_error()(f"Value ({arn}) for parameter PermissionsBoundary is invalid.")
    user.permissions_boundary_arn = arn


def delete_user_permissions_boundary(backend, user_name: str) -> None:
    backend.get_user(user_name).permissions_boundary_arn = None


def _user_boundary(self):
    arn = getattr(self, "permissions_boundary_arn", None)
    if not arn:
        return None
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": arn}


def _defer_bucket_policies_to_labkit() -> None:
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self, action: str, resource: str):
        return PermissionResult.PERMITTED  # decided before moto saw the request

    FakeBucket.get_permission = get_permission


def install() -> None:
    """Add user permissions boundaries to moto's IAM (once per process)."""
    global _installed
    if _installed:
        return
    from moto.core.responses import EmptyResult
    from moto.iam.models import User
    from moto.iam.responses import IamResponse

    User.permissions_boundary_arn = None
    User.permissions_boundary = property(_user_boundary)

    def put_boundary(self):
        put_user_permissions_boundary(self.backend, self._get_param("UserName"),
                                      self._get_param("PermissionsBoundary"))
        return EmptyResult()

    def delete_boundary(self):
        delete_user_permissions_boundary(self.backend, self._get_param("UserName"))
        return EmptyResult()

    original_create_user = IamResponse.create_user

    def create_user(self):
        boundary = self._get_param("PermissionsBoundary")
        if boundary and not self.backend.policy_arn_regex.match(boundary):
            raise _invalid_error()(
                f"Value ({boundary}) for parameter PermissionsBoundary is invalid.")
        result = original_create_user(self)
        if boundary:
            self.backend.get_user(self._get_param("UserName")).permissions_boundary_arn = boundary
        return result

    _defer_bucket_policies_to_labkit()
    IamResponse.put_user_permissions_boundary = put_boundary
    IamResponse.delete_user_permissions_boundary = delete_boundary
    IamResponse.create_user = create_user
    transformers = dict(IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER)
    from moto.core.serialize import return_if_not_empty, never_return

    transformers["GetUserResponse.User.PermissionsBoundary"] = return_if_not_empty
    transformers["CreateUserResponse.User.PermissionsBoundary"] = return_if_not_empty
    transformers["ListUsersResponse.Users.User.PermissionsBoundary"] = never_return
    IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER = transformers
    _installed = True
