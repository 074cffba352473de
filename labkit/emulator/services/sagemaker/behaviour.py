"""SageMaker fidelity: Studio user profiles, spaces, apps and presigned URLs.

moto 5.2 creates, describes, lists and deletes domains, but raises
NotImplementedError for everything lesson 06 does inside one: user profiles,
spaces, apps and CreatePresignedDomainUrl. This module adds those operations
to moto's SageMakerResponse (moto dispatches a JSON ``X-Amz-Target`` action to
the snake_case method of that name, in server mode and under ``mock_aws``)
with the request and response shapes of botocore's service model, and makes
the domain itself look like AWS's:

* domain ids are ``d-`` plus 12 lower-case letters and digits (moto used
  ``d-<name>``), the domain Url is ``https://<id>.studio.<region>.sagemaker.aws``;
* a missing domain, profile, space or app is ``ResourceNotFound``
  ("<Kind> <arn> does not exist."), a duplicate name is ``ResourceInUse``;
* DeleteDomain fails with ``ResourceInUse`` while user profiles or spaces
  remain (RetentionPolicy only decides what happens to the EFS volume, as the
  AWS guide says), DeleteUserProfile while the profile has apps or owns
  spaces, DeleteSpace while the space has apps;
* apps are InService at once; DeleteApp leaves them listed as ``Deleted``.

Use :func:`presigned_url_claims` to read the expiry a presigned URL carries.
"""
from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.moto_api._internal import mock_random
from moto.sagemaker import models as sm_models
from moto.sagemaker.exceptions import (
    AWSValidationException,
    ResourceInUseException,
    ResourceNotFound,
)
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.utilities.utils import get_partition

from labkit.emulator.patching import replace

_LIVE = ("Pending", "InService", "Updating")
_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


def install() -> None:
    """Add the Studio operations to moto's SageMaker; idempotent."""
    if getattr(SageMakerResponse, "_labkit_sagemaker", False):
        return
    _patch_domain()
    for name, func in _OPERATIONS.items():
        replace(SageMakerResponse, name, func, adds=True)  # Studio operations moto lacks
    replace(SageMakerResponse, "_labkit_sagemaker", True, adds=True)


# --- state ------------------------------------------------------------------

class _Studio:
    """Profiles, spaces and apps of one account and region (lives on the backend,
    so moto's reset wipes it with everything else)."""

    def __init__(self) -> None:
        self.profiles: dict[tuple[str, str], dict[str, Any]] = {}
        self.spaces: dict[tuple[str, str], dict[str, Any]] = {}
        self.apps: dict[tuple[str, str, str, str], dict[str, Any]] = {}


def _studio(backend: SageMakerModelBackend) -> _Studio:
    studio = backend.__dict__.get("_labkit_studio")
    if studio is None:
        studio = backend._labkit_studio = _Studio()
    return studio


def _arn(backend: SageMakerModelBackend, kind: str, path: str) -> str:
    region = backend.region_name
    return f"arn:{get_partition(region)}:sagemaker:{region}:{backend.account_id}:{kind}/{path}"


def _not_found(kind: str, arn: str) -> ResourceNotFound:
    return ResourceNotFound(message=f"{kind} {arn} does not exist.")


def _in_use(kind: str, name: str) -> ResourceInUseException:
    return ResourceInUseException(
        message=f"Resource Already Exists: {kind} with name {name} already exists. "
        "Choose a different name.")


def _domain(backend: SageMakerModelBackend, domain_id: str):
    domain = backend.domains.get(domain_id)
    if domain is None:
        raise _not_found("Domain", _arn(backend, "domain", domain_id))
    return domain


def _profile(backend, domain_id: str, name: str) -> dict[str, Any]:
    _domain(backend, domain_id)
    profile = _studio(backend).profiles.get((domain_id, name))
    if profile is None:
        raise _not_found("UserProfile", _arn(backend, "user-profile", f"{domain_id}/{name}"))
    return profile


def _space(backend, domain_id: str, name: str) -> dict[str, Any]:
    _domain(backend, domain_id)
    space = _studio(backend).spaces.get((domain_id, name))
    if space is None:
        raise _not_found("Space", _arn(backend, "space", f"{domain_id}/{name}"))
    return space


# --- domain -----------------------------------------------------------------

def _patch_domain() -> None:
    original_init = sm_models.Domain.__init__
    original_delete = SageMakerModelBackend.delete_domain

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        # AWS ids are random; moto's d-<name> breaks the URL host for real names.
        self.id = "d-" + "".join(mock_random.choice(_ID_CHARS) for _ in range(12))
        self.arn = sm_models.arn_formatter("domain", self.id, self.account_id, self.region_name)
        self.url = f"https://{self.id}.studio.{self.region_name}.sagemaker.aws"
        self.home_efs_file_system_id = "fs-" + mock_random.get_random_hex(17)

    def describe_domain(self, domain_id):
        return _domain(self, domain_id).describe()

    def delete_domain(self, domain_id, retention_policy):
        domain = _domain(self, domain_id)
        studio = _studio(self)
        for kind, table in (("UserProfile", studio.profiles), ("Space", studio.spaces)):
            if any(d == domain_id for d, _ in table):
                raise ResourceInUseException(
                    message=f"Unable to delete Domain [{domain.arn}] because {kind}(s) "
                    "are associated with it.")
        for key in [k for k in studio.apps if k[0] == domain_id]:
            del studio.apps[key]
        return original_delete(self, domain_id, retention_policy)

    replace(sm_models.Domain, "__init__", __init__)
    replace(SageMakerModelBackend, "describe_domain", describe_domain)
    replace(SageMakerModelBackend, "delete_domain", delete_domain)


# --- user profiles ----------------------------------------------------------

def create_user_profile(self: SageMakerResponse) -> ActionResult:
    backend, domain_id, name = self.sagemaker_backend, self._get_param("DomainId"), self._get_param("UserProfileName")
    domain = _domain(backend, domain_id)
    studio = _studio(backend)
    if (domain_id, name) in studio.profiles:
        raise _in_use("UserProfile", name)
    now = utcnow()
    arn = _arn(backend, "user-profile", f"{domain_id}/{name}")
    studio.profiles[(domain_id, name)] = {
        "DomainId": domain_id, "UserProfileArn": arn, "UserProfileName": name,
        "HomeEfsFileSystemUid": str(200000 + len(studio.profiles) + 1),
        "Status": "InService", "CreationTime": now, "LastModifiedTime": now,
        "SingleSignOnUserIdentifier": self._get_param("SingleSignOnUserIdentifier"),
        "SingleSignOnUserValue": self._get_param("SingleSignOnUserValue"),
        "UserSettings": self._get_param("UserSettings") or dict(domain.default_user_settings or {}),
        "Tags": self._get_param("Tags") or [],
    }
    return ActionResult({"UserProfileArn": arn})


def describe_user_profile(self: SageMakerResponse) -> ActionResult:
    profile = _profile(self.sagemaker_backend, self._get_param("DomainId"), self._get_param("UserProfileName"))
    return ActionResult({k: v for k, v in profile.items() if k != "Tags" and v is not None})


def update_user_profile(self: SageMakerResponse) -> ActionResult:
    profile = _profile(self.sagemaker_backend, self._get_param("DomainId"), self._get_param("UserProfileName"))
    profile["UserSettings"] = {**(profile["UserSettings"] or {}), **(self._get_param("UserSettings") or {})}
    profile["LastModifiedTime"] = utcnow()
    return ActionResult({"UserProfileArn": profile["UserProfileArn"]})


def _has_live_apps(studio, domain_id: str, owner_kind: str, owner: str) -> bool:
    """Whether a user profile ("user") or space ("space") still has apps running:
    AWS refuses to delete either while it does."""
    return any(k[:3] == (domain_id, owner_kind, owner) and a["Status"] in _LIVE
               for k, a in studio.apps.items())


def delete_user_profile(self: SageMakerResponse) -> EmptyResult:
    backend, domain_id, name = self.sagemaker_backend, self._get_param("DomainId"), self._get_param("UserProfileName")
    profile = _profile(backend, domain_id, name)
    studio = _studio(backend)
    if _has_live_apps(studio, domain_id, "user", name):
        raise _cannot_delete("UserProfile", profile["UserProfileArn"], "App")
    if any(s["DomainId"] == domain_id and s.get("OwnershipSettings", {}).get("OwnerUserProfileName") == name
           for s in studio.spaces.values()):
        raise _cannot_delete("UserProfile", profile["UserProfileArn"], "Space")
    del studio.profiles[(domain_id, name)]
    return EmptyResult()


def _cannot_delete(kind: str, arn: str, child: str) -> ResourceInUseException:
    return ResourceInUseException(
        message=f"Unable to delete {kind} [{arn}] because {child}(s) are associated with it.")


def list_user_profiles(self: SageMakerResponse) -> ActionResult:
    fields = ("DomainId", "UserProfileName", "Status", "CreationTime", "LastModifiedTime")
    rows = [
        {f: p[f] for f in fields} for p in _studio(self.sagemaker_backend).profiles.values()
        if _matches(self, p, "UserProfileName", "UserProfileNameContains")
    ]
    page, token = _page(self, _sorted(self, rows, "UserProfileName"))
    return ActionResult({"UserProfiles": page, "NextToken": token})


# --- spaces -----------------------------------------------------------------

def create_space(self: SageMakerResponse) -> ActionResult:
    backend, domain_id, name = self.sagemaker_backend, self._get_param("DomainId"), self._get_param("SpaceName")
    _domain(backend, domain_id)
    studio = _studio(backend)
    if (domain_id, name) in studio.spaces:
        raise _in_use("Space", name)
    owner = (self._get_param("OwnershipSettings") or {}).get("OwnerUserProfileName")
    if owner:
        _profile(backend, domain_id, owner)
    now = utcnow()
    arn = _arn(backend, "space", f"{domain_id}/{name}")
    studio.spaces[(domain_id, name)] = {
        "DomainId": domain_id, "SpaceArn": arn, "SpaceName": name,
        "HomeEfsFileSystemUid": str(300000 + len(studio.spaces) + 1),
        "Status": "InService", "CreationTime": now, "LastModifiedTime": now,
        "SpaceSettings": self._get_param("SpaceSettings") or {},
        "OwnershipSettings": self._get_param("OwnershipSettings") or {},
        "SpaceSharingSettings": self._get_param("SpaceSharingSettings") or {"SharingType": "Private"},
        "SpaceDisplayName": self._get_param("SpaceDisplayName") or name,
    }
    return ActionResult({"SpaceArn": arn})


def describe_space(self: SageMakerResponse) -> ActionResult:
    # No Url: its AWS format for IAM-auth domains is not documented.
    return ActionResult(_space(self.sagemaker_backend, self._get_param("DomainId"), self._get_param("SpaceName")))


def update_space(self: SageMakerResponse) -> ActionResult:
    space = _space(self.sagemaker_backend, self._get_param("DomainId"), self._get_param("SpaceName"))
    space["SpaceSettings"] = {**space["SpaceSettings"], **(self._get_param("SpaceSettings") or {})}
    space["SpaceDisplayName"] = self._get_param("SpaceDisplayName") or space["SpaceDisplayName"]
    space["LastModifiedTime"] = utcnow()
    return ActionResult({"SpaceArn": space["SpaceArn"]})


def delete_space(self: SageMakerResponse) -> EmptyResult:
    backend, domain_id, name = self.sagemaker_backend, self._get_param("DomainId"), self._get_param("SpaceName")
    space = _space(backend, domain_id, name)
    studio = _studio(backend)
    if _has_live_apps(studio, domain_id, "space", name):
        raise _cannot_delete("Space", space["SpaceArn"], "App")
    del studio.spaces[(domain_id, name)]
    return EmptyResult()


def list_spaces(self: SageMakerResponse) -> ActionResult:
    rows = []
    for s in _studio(self.sagemaker_backend).spaces.values():
        if not _matches(self, s, "SpaceName", "SpaceNameContains"):
            continue
        rows.append({
            "DomainId": s["DomainId"], "SpaceName": s["SpaceName"], "Status": s["Status"],
            "CreationTime": s["CreationTime"], "LastModifiedTime": s["LastModifiedTime"],
            "SpaceSettingsSummary": {k: v for k, v in s["SpaceSettings"].items() if k == "AppType"},
            "SpaceSharingSettingsSummary": s["SpaceSharingSettings"],
            "OwnershipSettingsSummary": s["OwnershipSettings"],
            "SpaceDisplayName": s["SpaceDisplayName"],
        })
    page, token = _page(self, _sorted(self, rows, "SpaceName"))
    return ActionResult({"Spaces": page, "NextToken": token})


# --- apps -------------------------------------------------------------------

def _app_key(self: SageMakerResponse) -> tuple[str, str, str, str, str]:
    """(domain, 'user'|'space', owner name, app type, app name), owner checked."""
    backend, domain_id = self.sagemaker_backend, self._get_param("DomainId")
    user, space = self._get_param("UserProfileName"), self._get_param("SpaceName")
    if bool(user) == bool(space):
        raise AWSValidationException(
            "Exactly one of UserProfileName or SpaceName must be specified for an app.")
    if user:
        _profile(backend, domain_id, user)
    else:
        _space(backend, domain_id, space)
    return (domain_id, "user" if user else "space", user or space,
            self._get_param("AppType"), self._get_param("AppName"))


def create_app(self: SageMakerResponse) -> ActionResult:
    backend = self.sagemaker_backend
    key = _app_key(self)
    studio = _studio(backend)
    if key in studio.apps and studio.apps[key]["Status"] in _LIVE:
        raise _in_use("App", key[4])
    domain_id, kind, owner, app_type, app_name = key
    now = utcnow()
    studio.apps[key] = {
        "AppArn": _arn(backend, "app", f"{domain_id}/{owner}/{app_type.lower()}/{app_name}"),
        "AppType": app_type, "AppName": app_name, "DomainId": domain_id,
        "UserProfileName" if kind == "user" else "SpaceName": owner,
        "Status": "InService", "CreationTime": now, "LastUserActivityTimestamp": now,
        "ResourceSpec": self._get_param("ResourceSpec") or {
            "InstanceType": "system" if app_type == "JupyterServer" else "ml.t3.medium"},
    }
    return ActionResult({"AppArn": studio.apps[key]["AppArn"]})


def _app(self: SageMakerResponse) -> dict[str, Any]:
    key = _app_key(self)
    app = _studio(self.sagemaker_backend).apps.get(key)
    if app is None:
        domain_id, _, owner, app_type, app_name = key
        arn = _arn(self.sagemaker_backend, "app", f"{domain_id}/{owner}/{app_type.lower()}/{app_name}")
        raise _not_found("App", arn)
    return app


def describe_app(self: SageMakerResponse) -> ActionResult:
    return ActionResult(_app(self))


def delete_app(self: SageMakerResponse) -> EmptyResult:
    app = _app(self)
    if app["Status"] not in _LIVE:
        raise _not_found("App", app["AppArn"])
    app["Status"] = "Deleted"
    return EmptyResult()


def list_apps(self: SageMakerResponse) -> ActionResult:
    fields = ("DomainId", "UserProfileName", "SpaceName", "AppType", "AppName", "Status",
              "CreationTime", "ResourceSpec")
    rows = []
    for a in _studio(self.sagemaker_backend).apps.values():
        if any(self._get_param(p) and self._get_param(p) != a.get(f) for p, f in (
                ("DomainIdEquals", "DomainId"), ("UserProfileNameEquals", "UserProfileName"),
                ("SpaceNameEquals", "SpaceName"))):
            continue
        rows.append({f: a[f] for f in fields if f in a})
    page, token = _page(self, _sorted(self, rows, None))
    return ActionResult({"Apps": page, "NextToken": token})


# --- presigned URL ----------------------------------------------------------

def _check_range(value: int | None, field: str, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    if not low <= value <= high:
        bound = f"greater than or equal to {low}" if value < low else f"less than or equal to {high}"
        raise AWSValidationException(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
            f"constraint: Member must have value {bound}")
    return value


def create_presigned_domain_url(self: SageMakerResponse) -> ActionResult:
    backend, domain_id = self.sagemaker_backend, self._get_param("DomainId")
    user = self._get_param("UserProfileName")
    _profile(backend, domain_id, user)
    space = self._get_param("SpaceName")
    if space:
        _space(backend, domain_id, space)
    expires = _check_range(self._get_int_param("ExpiresInSeconds"), "expiresInSeconds", 5, 300, 300)
    session = _check_range(self._get_int_param("SessionExpirationDurationInSeconds"),
                           "sessionExpirationDurationInSeconds", 1800, 43200, 43200)
    now = int(time.time())
    claims = {"domain": domain_id, "user": user, "space": space, "iat": now,
              "exp": now + expires, "sessionExp": now + session,
              "landingUri": self._get_param("LandingUri")}
    token = ".".join([
        _b64({"alg": "HS256", "typ": "JWT"}), _b64({k: v for k, v in claims.items() if v is not None}),
        mock_random.token_urlsafe(32)])
    region = backend.region_name
    return ActionResult({"AuthorizedUrl": f"https://{domain_id}.studio.{region}.sagemaker.aws/auth?token={token}"})


def _b64(obj: dict[str, Any]) -> str:
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def presigned_url_claims(url: str) -> dict[str, Any]:
    """What an emulator presigned Studio URL grants: domain, user, ``exp`` (epoch
    seconds after which the URL no longer signs in) and ``sessionExp``.

    Raises ValueError for a URL this emulator did not issue.
    """
    token = (parse_qs(urlparse(url).query).get("token") or [""])[0]
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError(f"not an emulator presigned domain URL: {url!r}")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


# --- listing helpers --------------------------------------------------------

def _matches(self: SageMakerResponse, row: dict[str, Any], name_field: str, contains_param: str) -> bool:
    domain = self._get_param("DomainIdEquals")
    contains = self._get_param(contains_param)
    return (not domain or row["DomainId"] == domain) and (not contains or contains in row[name_field])


def _sorted(self: SageMakerResponse, rows: list[dict[str, Any]], name_field: str | None) -> list:
    by = self._get_param("SortBy") or "CreationTime"
    key = name_field if by.endswith("Name") and name_field else "CreationTime"
    return sorted(rows, key=lambda r: r[key], reverse=(self._get_param("SortOrder") or "Descending") == "Descending")


def _page(self: SageMakerResponse, rows: list) -> tuple[list, str | None]:
    start = int(self._get_param("NextToken") or 0)
    size = int(self._get_param("MaxResults") or 50)
    end = start + size
    return rows[start:end], (str(end) if end < len(rows) else None)


_OPERATIONS = {f.__name__: f for f in (
    create_user_profile, describe_user_profile, update_user_profile, delete_user_profile,
    list_user_profiles, create_space, describe_space, update_space, delete_space, list_spaces,
    create_app, describe_app, delete_app, list_apps, create_presigned_domain_url,
)}
