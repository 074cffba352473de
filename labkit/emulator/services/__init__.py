"""The service registry: one folder per AWS service, in the same shape in each.

Every folder's ``__init__.py`` declares ``SERVICE = Service(...)``: the SigV4
signing names it answers (and the host prefixes that imply them, for unsigned
requests), its protocol, and (where it differs) its IAM action prefix. Beside it, each of these modules is optional and, when present, has a
fixed role the request pipeline (``labkit.emulator.authz.middleware``) and the
rest of the emulator look up through this registry, never by import:

- ``actions.py``: how a request maps to IAM actions, resources and context
  (``resource()``, ``context()``, ``checks()``, ``ACTION_NAMES``, ``PASSED_ROLES``;
  see ``labkit.emulator.authz.generic``);
- ``gateway.py``: ``handle(call)`` for a service that answers some of its requests
  itself (S3's per-key DeleteObjects, KMS key policies, STS AssumeRole, IAM
  Simulate*, Access Analyzer); it returns None to take the generic path;
- ``behaviour.py``: what labkit adds over moto, an idempotent ``install()``;
- ``control.py``: ``handle(environ, start_response)`` for the loopback control
  paths ``/labkit-api/<folder>/...`` (no AWS API);
- ``recorder.py``: ``recorded(serve, environ, start_response)`` around every
  request and ``note(environ, req, caller)`` once the caller is known (CloudTrail);
- the modules named in ``Service.aws_like``: aws-like mode's ``install()`` and,
  optionally, ``before_request(environ)`` that may answer a request itself.

A new service is one more folder: nothing else is edited.
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from dataclasses import dataclass, field
from functools import lru_cache
from types import ModuleType
from typing import Dict, Iterator, Optional, Tuple

#: The roles a module of a service folder may play (see the module docstring).
ROLES = ("actions", "gateway", "behaviour", "control", "recorder")
#: Protocols a service may declare (botocore's names, with S3's "rest-xml").
PROTOCOLS = ("query", "json", "rest-json", "rest-xml")


class RegistryError(RuntimeError):
    """A service folder does not declare itself as the registry expects."""


@dataclass(frozen=True)
class Service:
    """What one service folder declares about itself."""

    signing_names: Tuple[str, ...]          # SigV4 names its requests carry (iam, monitoring, ...)
    protocol: str                           # one of PROTOCOLS
    iam_prefix: Optional[str] = None        # IAM action prefix when it is not the signing name
    botocore_name: Optional[str] = None     # botocore model name, when not the signing name
    aws_like: Tuple[str, ...] = ()          # modules with aws-like mode's install()
    host_prefixes: Tuple[str, ...] = ()     # hosts whose first labels are not a signing name
    folder: str = field(default="", compare=False)

    @property
    def prefix(self) -> str:
        return self.iam_prefix or self.signing_names[0]

    @property
    def model_name(self) -> str:
        return self.botocore_name or self.signing_names[0]

    def module(self, role: str) -> Optional[ModuleType]:
        """The folder's module for ROLE (one of ROLES), or None when it has none."""
        if role not in ROLES:
            raise ValueError(f"{role!r} is not a service module role; the roles are {ROLES}")
        return _module(self.folder, role)

    def aws_like_modules(self) -> Iterator[ModuleType]:
        for name in self.aws_like:
            yield importlib.import_module(f"{__name__}.{self.folder}.{name}")


@lru_cache(maxsize=None)
def _module(folder: str, role: str) -> Optional[ModuleType]:
    name = f"{__name__}.{folder}.{role}"
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


@lru_cache(maxsize=1)
def services() -> Tuple[Service, ...]:
    """Every service folder's declaration, by folder name (their behaviours are independent:
    each patches its own moto classes, so the order they are installed in does not matter)."""
    found: Dict[str, Service] = {}
    for info in pkgutil.iter_modules(__path__):
        if not info.ispkg:
            continue
        package = importlib.import_module(f"{__name__}.{info.name}")
        declared = getattr(package, "SERVICE", None)
        if not isinstance(declared, Service):
            raise RegistryError(f"services/{info.name}/__init__.py must declare "
                                f"SERVICE = Service(...) (see labkit.emulator.services)")
        if declared.protocol not in PROTOCOLS:
            raise RegistryError(f"services/{info.name}: protocol {declared.protocol!r} is not "
                                f"one of {PROTOCOLS}")
        found[info.name] = Service(**{**declared.__dict__, "folder": info.name})
    return tuple(found[name] for name in sorted(found))


def signing_name_of_host(host: str) -> Optional[str]:
    """The signing name a host prefix declared by a service implies (api.ecr. -> ecr)."""
    for service in services():
        if any(host.startswith(prefix + ".") for prefix in service.host_prefixes):
            return service.signing_names[0]
    return None


@lru_cache(maxsize=None)
def for_signing_name(name: str) -> Optional[Service]:
    """The service whose requests are signed for NAME, or None (moto serves it unaided)."""
    return next((s for s in services() if name in s.signing_names), None)


def with_module(role: str) -> Iterator[Tuple[Service, ModuleType]]:
    """(service, module) for every service that has a module for ROLE."""
    for service in services():
        module = service.module(role)
        if module is not None:
            yield service, module


_installed = False


def install_all() -> None:
    """Apply every service's behaviour over moto once per process."""
    global _installed
    if _installed:
        return
    for _service, behaviour in with_module("behaviour"):
        behaviour.install()
    _installed = True
