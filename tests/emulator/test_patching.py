"""labkit's changes to moto: each names an attribute moto has, and each is in force."""
import subprocess
import sys

import pytest

from labkit.emulator import patching

# In a fresh interpreter: what the installs change, so the test sees moto as pinned.
_PROBE = r"""
import json
from labkit.emulator import patching, services

def install_everything():
    for service in services.services():
        for mod in [service.module("behaviour"), *service.aws_like_modules()]:
            if mod is not None:
                mod.install()

def current():
    return {f"{p.owner}.{p.name}": id(vars(p.owner).get(p.name)) for p in patching.PATCHES}

install_everything()
first = current()
by_service = sorted({p.module.split(".")[3] for p in patching.PATCHES})
replaced = {f"{p.owner}.{p.name}" for p in patching.PATCHES if not p.added}
install_everything()
print(json.dumps({"by_service": by_service, "count": len(first), "replaced": len(replaced),
                  "moved": sorted(k for k, v in current().items() if first.get(k) != v)}))
"""


@pytest.fixture(scope="module")
def probe():
    import json

    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_every_service_with_a_behaviour_installs_against_the_pinned_moto(probe):
    # replace() raises MotoChanged at install if moto lost a name; a clean run proves none did.
    assert {"s3", "iam", "sts", "kms", "cloudtrail", "sagemaker", "autoscaling"} <= set(
        probe["by_service"])
    assert probe["replaced"] >= 40


def test_installing_twice_leaves_every_patch_as_it_was(probe):
    # A second install (a new lab in the same process) must not wrap moto twice.
    assert probe["moved"] == []


def test_a_name_moto_no_longer_has_fails_at_install_with_how_to_fix():
    class Backend:  # stands for a moto class after an upgrade renamed a method
        def create_thing(self):
            return "moto"

    with pytest.raises(patching.MotoChanged) as raised:
        patching.replace(Backend, "create_things", lambda self: "labkit")
    message = str(raised.value)
    assert "Backend.create_things" in message and "requirements.lock" in message
    assert __name__.rsplit(".", 1)[-1] in message  # names the module that patches it
    assert not hasattr(Backend, "create_things")


def test_an_addition_is_allowed_and_listed_as_one():
    class Response:
        pass

    patching.replace(Response, "lookup_events", lambda self: "labkit", adds=True)
    assert Response().lookup_events() == "labkit"
    assert patching.PATCHES[-1].added and patching.PATCHES[-1].name == "lookup_events"
