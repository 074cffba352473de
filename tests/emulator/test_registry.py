"""The service registry: every folder declares itself so the pipeline can find its parts."""
import botocore.session
import pytest

from labkit.emulator import services

ALL = services.services()


def test_every_folder_is_registered_once_under_its_own_signing_names():
    names = [n for s in ALL for n in s.signing_names]
    assert len(names) == len(set(names)), "two folders claim one signing name"
    assert {s.folder for s in ALL} >= {"s3", "iam", "sts", "kms", "cloudtrail", "accessanalyzer"}


@pytest.mark.parametrize("service", ALL, ids=lambda s: s.folder)
def test_botocore_knows_the_model_each_service_names(service):
    # A wrong model name only shows later, as a request CloudTrail cannot name.
    assert service.model_name in botocore.session.get_session().get_available_services()


@pytest.mark.parametrize("service", [s for s in ALL if s.protocol == "rest-json"],
                         ids=lambda s: s.folder)
def test_rest_json_routes_resolve_from_botocore_models(service):
    from labkit.emulator.authz import generic

    model = botocore.session.get_session().get_service_model(service.model_name)
    name = model.operation_names[0]
    http = model.operation_model(name).http
    path = http["requestUri"].split("?")[0]
    path = path.replace("{", "").replace("}", "").replace("+", "")
    op, _ = generic.rest_operation(service.model_name, http["method"], path)
    assert op is not None


@pytest.mark.parametrize("service", ALL, ids=lambda s: s.folder)
def test_each_role_module_imports_and_has_its_entry_point(service):
    entry = {"gateway": "handle", "behaviour": "install", "control": "handle",
             "recorder": "recorded"}
    for role in services.ROLES:
        mod = service.module(role)
        if mod is not None and role in entry:
            assert callable(getattr(mod, entry[role], None)), f"{service.folder}/{role}.py"
    for mod in service.aws_like_modules():
        assert callable(getattr(mod, "install", None))


def test_an_unknown_role_is_a_clear_error():
    with pytest.raises(ValueError, match="roles are"):
        ALL[0].module("handlers")
