"""IAM fidelity: AWS managed policies without re-parsing them on every backend.

Lessons attach AWS managed policies (AdministratorAccess, AmazonSageMakerFullAccess,
ReadOnlyAccess), so the emulator has moto load them (MOTO_IAM_LOAD_MANAGED_POLICIES).
moto then parses its ~1,600-policy JSON blob and re-serialises every document each
time it builds an IAM backend, and it builds one per partition per account: on the
first request of a process, on ``Emulator.reset()`` (which rebuilds the backends
before discarding them) and again on the first request after it.

This module parses the blob once per process into prototype policies and gives
each new backend its own copies. Everything moto mutates on a managed policy
(attachment count, tags, versions and their default flag, the next version
number) is copied, so attachments never leak between accounts, partitions or
resets. Documents, dates, paths and version ids are the same as moto's.

A difference from stock moto, closer to AWS: a managed policy keeps one PolicyId
in every account and across resets (AWS gives each managed policy a single
global id; moto drew a new random one per backend).

Unique ids shaped as AWS shapes them (IAM User Guide, "IAM identifiers", "Unique
identifiers" and "Understanding unique ID prefixes"): 21 characters, a four-letter
prefix naming the kind (AIDA user, AGPA user group, ANPA managed policy, AIPA instance
profile) and 17 upper-case letters and digits. moto gives users and groups 20 random
lower-case characters and policies "A" + 20; its role ids (AROA) and access key ids
(AKIA + 16) already have AWS's shape and are left as they are.
"""
from __future__ import annotations

import threading

from moto.iam.models import AWSManagedPolicy, IAMBackend, PolicyVersion
from moto.utilities.utils import get_partition

from labkit.emulator.patching import replace

_PROTOTYPES: list[AWSManagedPolicy] | None = None
_CONTAINERS: tuple[str, ...] | None = None
_LOCK = threading.Lock()
# The prototypes' partition and account only matter until a copy overwrites them.
_PROTOTYPE_REGION = "aws"
_PROTOTYPE_ACCOUNT = "000000000000"
_boundaries_installed = False
#: moto model class name -> the prefix of its unique id (IAM User Guide, unique ID prefixes).
ID_PREFIXES = {"User": "AIDA", "Group": "AGPA", "Policy": "ANPA", "InstanceProfile": "AIPA"}
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_ID_LENGTH = 21


def install() -> None:
    """Make moto's IAM backends copy cached AWS managed policies, and give IAM users
    permissions boundaries; idempotent."""
    _install_unique_ids()  # first: the managed policy prototypes get ANPA ids too
    _install_user_boundaries()
    if getattr(IAMBackend._init_aws_policies, "_labkit", False):
        return
    _init_aws_policies._labkit = True
    replace(IAMBackend, "_init_aws_policies", _init_aws_policies)


def _init_aws_policies(self: IAMBackend) -> list[AWSManagedPolicy]:
    """Replacement for IAMBackend._init_aws_policies: fresh copies of the prototypes."""
    from moto.settings import load_iam_aws_managed_policies

    # Read on every build, like moto: tests and config may switch it at any time.
    if not load_iam_aws_managed_policies():
        return []
    partition = get_partition(self.region_name)
    return [_copy(p, self.account_id, partition) for p in prototypes()]


def prototypes() -> list[AWSManagedPolicy]:
    """moto's AWS managed policies, parsed once per process. Never hand these out."""
    global _PROTOTYPES
    if _PROTOTYPES is None:
        with _LOCK:
            if _PROTOTYPES is None:
                _PROTOTYPES = _parse()
    return _PROTOTYPES


def _parse() -> list[AWSManagedPolicy]:
    import json

    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return [AWSManagedPolicy.from_data(name, _PROTOTYPE_ACCOUNT, _PROTOTYPE_REGION, data)
            for name, data in json.loads(aws_managed_policies_data).items()]


def _copy(prototype: AWSManagedPolicy, account_id: str, partition: str) -> AWSManagedPolicy:
    """A policy for one backend: shares only immutable values with the prototype."""
    policy = object.__new__(AWSManagedPolicy)
    state = dict(prototype.__dict__)
    for key in _container_keys():
        state[key] = type(state[key])(state[key])
    state.update(account_id=account_id, partition=partition, attachment_count=0, tags={})
    policy.__dict__ = state
    arn = policy.arn
    policy.versions = [_copy_version(v, arn) for v in prototype.versions]
    return policy


def _container_keys() -> tuple[str, ...]:
    """Attributes holding a container besides tags and versions (none in moto 5.2).

    Found once from the prototypes, so that a field a later moto adds is copied
    too instead of being shared between backends.
    """
    global _CONTAINERS
    if _CONTAINERS is None:
        _CONTAINERS = tuple(sorted({key for p in prototypes() for key, value in p.__dict__.items()
                                    if isinstance(value, (dict, list, set))
                                    and key not in ("tags", "versions")}))
    return _CONTAINERS


def _copy_version(version: PolicyVersion, policy_arn: str) -> PolicyVersion:
    copied = object.__new__(PolicyVersion)
    copied.__dict__ = dict(version.__dict__)
    copied.policy_arn = policy_arn
    return copied


# ----------------------------------------------------------------------------- user boundaries

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


def unique_id(prefix: str) -> str:
    """A unique id as IAM gives one: PREFIX and upper-case letters and digits, 21 in all."""
    # moto's seeded random: a test that seeds moto gets the same ids again.
    from moto.moto_api._internal import mock_random

    return prefix + "".join(mock_random.choice(_ID_ALPHABET)
                            for _ in range(_ID_LENGTH - len(prefix)))


def _install_unique_ids() -> None:
    """Give moto's users, groups, managed policies and instance profiles AWS-shaped ids."""
    from moto.iam import models

    for class_name, prefix in ID_PREFIXES.items():
        cls = getattr(models, class_name)
        original = cls.__init__
        if getattr(original, "_labkit_ids", False):
            continue

        def init(self, *args, _original=original, _prefix=prefix, **kwargs):
            _original(self, *args, **kwargs)
            self.id = unique_id(_prefix)

        init._labkit_ids = True
        cls.__init__ = init


def _user_boundary(self):
    arn = getattr(self, "permissions_boundary_arn", None)
    if not arn:
        return None
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": arn}


def _install_user_boundaries() -> None:
    """Add user permissions boundaries to moto's IAM (once per process).

    moto stores role boundaries but has no PutUserPermissionsBoundary /
    DeleteUserPermissionsBoundary, ignores CreateUser's PermissionsBoundary, and
    GetUser never reports one; the authorizer (authz/identity.py reads
    ``user.permissions_boundary_arn``) applies what a lesson sets with boto3 or the CLI.
    """
    global _boundaries_installed
    if _boundaries_installed:
        return
    from moto.core.responses import EmptyResult
    from moto.iam.models import User
    from moto.iam.responses import IamResponse

    replace(User, "permissions_boundary_arn", None, adds=True)
    replace(User, "permissions_boundary", property(_user_boundary), adds=True)

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

    replace(IamResponse, "put_user_permissions_boundary", put_boundary, adds=True)
    replace(IamResponse, "delete_user_permissions_boundary", delete_boundary, adds=True)
    replace(IamResponse, "create_user", create_user)
    transformers = dict(IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER)
    from moto.core.serialize import return_if_not_empty, never_return

    transformers["GetUserResponse.User.PermissionsBoundary"] = return_if_not_empty
    transformers["CreateUserResponse.User.PermissionsBoundary"] = return_if_not_empty
    transformers["ListUsersResponse.Users.User.PermissionsBoundary"] = never_return
    replace(IamResponse, "RESPONSE_KEY_PATH_TO_TRANSFORMER", transformers)
    _boundaries_installed = True
