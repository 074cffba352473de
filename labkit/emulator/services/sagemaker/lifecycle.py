"""aws-like mode: SageMaker Studio resources come up and go away asynchronously.

AWS documents the states (SageMaker API reference, DescribeDomain /
DescribeUserProfile / DescribeSpace / DescribeApp, ``Status``): a new domain,
user profile, space or app is ``Pending`` and becomes ``InService``; a deleted
one is ``Deleting`` until it is gone (an app ends ``Deleted`` and stays listed).
Here each step takes :func:`labkit.emulator.aws_like.delay` seconds.

Installed over labkit's own Studio operations (services/sagemaker/behaviour.py),
so AWS's refusals (a domain with profiles, a space with live apps) still hold, and
a Deleting profile or space still blocks its domain's deletion, as on AWS.
"""
from __future__ import annotations

from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from labkit.emulator import aws_like
from labkit.emulator.patching import replace
from labkit.emulator.services.sagemaker import behaviour


def install() -> None:
    if getattr(SageMakerResponse, "_labkit_aws_like", False):
        return
    behaviour.install()
    _wrap_domain()
    for kind, table, name_param in (("user_profile", "profiles", "UserProfileName"),
                                    ("space", "spaces", "SpaceName")):
        _wrap_record(kind, table, name_param)
    _wrap_apps()
    replace(SageMakerResponse, "_labkit_aws_like", True, adds=True)


def _becomes(record: dict, frm: str, to: str):
    def change():
        if record.get("Status") == frm:
            record["Status"] = to
    return change


def _wrap_domain() -> None:
    create, delete = SageMakerModelBackend.create_domain, SageMakerModelBackend.delete_domain

    def create_domain(self, *args, **kwargs):
        answer = create(self, *args, **kwargs)
        domain = next((d for d in self.domains.values() if d.arn == answer["DomainArn"]), None)
        if domain is not None:
            answer = {**answer, "DomainId": domain.id}  # in botocore's model; moto leaves it out
        if aws_like.enabled() and domain is not None:
            domain.status = "Pending"
            aws_like.later(lambda: setattr(domain, "status", "InService")
                           if domain.status == "Pending" else None)
        return answer

    def delete_domain(self, domain_id, retention_policy):
        domain = self.domains.get(domain_id)
        delete(self, domain_id, retention_policy)
        if aws_like.enabled() and domain is not None:
            domain.status = "Deleting"
            self.domains[domain_id] = domain
            aws_like.later(lambda: self.domains.pop(domain_id, None)
                           if self.domains.get(domain_id) is domain else None)

    replace(SageMakerModelBackend, "create_domain", create_domain)
    replace(SageMakerModelBackend, "delete_domain", delete_domain)


def _wrap_record(kind: str, table: str, name_param: str) -> None:
    create = getattr(SageMakerResponse, f"create_{kind}")
    delete = getattr(SageMakerResponse, f"delete_{kind}")

    def key(self):
        return (self._get_param("DomainId"), self._get_param(name_param))

    def created(self):
        answer = create(self)
        if aws_like.enabled():
            record = getattr(behaviour._studio(self.sagemaker_backend), table)[key(self)]
            record["Status"] = "Pending"
            aws_like.later(_becomes(record, "Pending", "InService"))
        return answer

    def deleted(self):
        rows = getattr(behaviour._studio(self.sagemaker_backend), table)
        record = rows.get(key(self))
        answer = delete(self)
        if aws_like.enabled() and record is not None:
            record["Status"] = "Deleting"
            rows[key(self)] = record
            k = key(self)
            aws_like.later(lambda: rows.pop(k, None) if rows.get(k) is record else None)
        return answer

    replace(SageMakerResponse, f"create_{kind}", created)
    replace(SageMakerResponse, f"delete_{kind}", deleted)


def _wrap_apps() -> None:
    create, delete = SageMakerResponse.create_app, SageMakerResponse.delete_app

    def create_app(self):
        answer = create(self)
        if aws_like.enabled():
            record = behaviour._studio(self.sagemaker_backend).apps[behaviour._app_key(self)]
            record["Status"] = "Pending"
            aws_like.later(_becomes(record, "Pending", "InService"))
        return answer

    def delete_app(self):
        answer = delete(self)
        if aws_like.enabled():
            record = behaviour._studio(self.sagemaker_backend).apps[behaviour._app_key(self)]
            record["Status"] = "Deleting"
            aws_like.later(_becomes(record, "Deleting", "Deleted"))
        return answer

    replace(SageMakerResponse, "create_app", create_app)
    replace(SageMakerResponse, "delete_app", delete_app)
