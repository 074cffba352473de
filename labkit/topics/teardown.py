"""Lesson 99: remove everything the course created for NAME, and prove it is gone.

``teardown_all(lab)`` calls each topic module's ``teardown(lab)`` in reverse
lesson order (later lessons build on earlier ones: policies before users,
access points before buckets), then asks every module's ``leftovers(lab)``
what still exists, then runs the whole teardown a second time, which must
find nothing to do. Nothing is swallowed: whatever could not be removed is in
the report, with its reason, and ``report.ok`` is False.

Topic modules come from the builders in ``labkit.course.LESSONS`` plus
``TEARDOWN_ONLY`` (modules that create resources without being a lesson's
builder). Lesson 10's trail and log bucket go first (labkit.topics.audit, a builder: CloudTrail
stops writing before the buckets go). IAM (lesson 01) is torn down by :func:`teardown_iam` here:
``labkit.topics.users_and_groups`` has no teardown of its own.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from labkit import course
from labkit.topics import costs

#: (lesson id, module) pairs torn down even when a lesson list given to teardown_all has no
#: builder for them (every lesson of course.LESSONS has one today; duplicates are dropped).
TEARDOWN_ONLY: tuple[tuple[str, str], ...] = (
    ("05", "labkit.topics.scaling"),
    ("06", "labkit.topics.sagemaker_domain"),
    ("08", "labkit.topics.containers_serverless"),
)


# ----------------------------------------------------------------------------- IAM (lesson 01)

def _iam_users(lab) -> tuple[str, ...]:
    return lab.names.users


def remove_user(iam, user: str) -> None:
    """Delete USER after what blocks it (AWS's DeleteUser list): keys, signing
    certificates, SSH keys, login profile, MFA, groups, policies."""
    for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    for cert in iam.list_signing_certificates(UserName=user)["Certificates"]:
        iam.delete_signing_certificate(UserName=user, CertificateId=cert["CertificateId"])
    for ssh in iam.list_ssh_public_keys(UserName=user)["SSHPublicKeys"]:
        iam.delete_ssh_public_key(UserName=user, SSHPublicKeyId=ssh["SSHPublicKeyId"])
    try:
        iam.delete_login_profile(UserName=user)
    except iam.exceptions.NoSuchEntityException:
        pass  # the user never had a console password
    for device in iam.list_mfa_devices(UserName=user)["MFADevices"]:
        iam.deactivate_mfa_device(UserName=user, SerialNumber=device["SerialNumber"])
        if ":mfa/" in device["SerialNumber"]:  # a virtual device is an IAM resource of its own
            iam.delete_virtual_mfa_device(SerialNumber=device["SerialNumber"])
    for group in iam.list_groups_for_user(UserName=user)["Groups"]:
        iam.remove_user_from_group(GroupName=group["GroupName"], UserName=user)
    for policy in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]:
        iam.detach_user_policy(UserName=user, PolicyArn=policy["PolicyArn"])
    for name in iam.list_user_policies(UserName=user)["PolicyNames"]:
        iam.delete_user_policy(UserName=user, PolicyName=name)
    iam.delete_user(UserName=user)


def remove_group(iam, group: str) -> None:
    """Delete GROUP after its members, attached and inline policies."""
    for member in iam.get_group(GroupName=group)["Users"]:
        iam.remove_user_from_group(GroupName=group, UserName=member["UserName"])
    for policy in iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"]:
        iam.detach_group_policy(GroupName=group, PolicyArn=policy["PolicyArn"])
    for name in iam.list_group_policies(GroupName=group)["PolicyNames"]:
        iam.delete_group_policy(GroupName=group, PolicyName=name)
    iam.delete_group(GroupName=group)


def teardown_iam(lab) -> list[str]:
    """Remove lesson 01's users, groups and lab-local profiles; return what could not go."""
    iam, problems = lab.client("iam"), []
    for kind, names, remove in (("user", _iam_users(lab), remove_user),
                                ("group", lab.names.groups, remove_group)):
        for name in names:
            try:
                remove(iam, name)
            except iam.exceptions.NoSuchEntityException:
                continue  # already gone
            except Exception as exc:  # listed in the report, never swallowed
                problems.append(f"IAM {kind} {name}: {type(exc).__name__}: {exc}")
    for profile in _iam_users(lab):
        if profile in lab.files.profiles():
            lab.files.remove_profile(profile)
    return problems


def leftovers_iam(lab) -> list[str]:
    """Lesson 01's users, groups and lab-local profiles that still exist."""
    iam, found = lab.client("iam"), []
    for kind, names, get in (("user", _iam_users(lab), lambda n: iam.get_user(UserName=n)),
                             ("group", lab.names.groups, lambda n: iam.get_group(GroupName=n))):
        for name in names:
            try:
                get(name)
                found.append(f"IAM {kind} {name}")
            except iam.exceptions.NoSuchEntityException:
                pass
    found += [f"lab-local profile {p}" for p in _iam_users(lab) if p in lab.files.profiles()]
    return found


#: Teardown functions for modules that do not define their own.
FALLBACKS = {"labkit.topics.users_and_groups": (teardown_iam, leftovers_iam)}


# ----------------------------------------------------------------------------- discovery

@dataclass(frozen=True)
class Topic:
    """A topic module that can be torn down: its lesson and its two functions."""

    lesson: str
    module: str
    teardown: object
    leftovers: object


def _functions(module_name: str):
    """(teardown, leftovers) of MODULE_NAME; None when it has none or does not exist."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None  # not written yet: it cannot have created anything
        raise
    down, left = getattr(module, "teardown", None), getattr(module, "leftovers", None)
    if down is None and module_name in FALLBACKS:
        down, left = FALLBACKS[module_name]
    if down is None:
        return None
    return down, left


def topics(lessons=None) -> list[Topic]:
    """Modules to tear down, latest lesson first (each module once)."""
    lessons = course.LESSONS if lessons is None else lessons
    pairs = [(l.id, l.builder.partition(":")[0]) for l in lessons if l.builder]
    pairs += [pair for pair in TEARDOWN_ONLY if pair[1] not in {m for _, m in pairs}]
    found, seen = [], set()
    for lesson, module in sorted(pairs, key=lambda p: p[0], reverse=True):
        functions = None if module in seen else _functions(module)
        seen.add(module)
        if functions:
            found.append(Topic(lesson, module, *functions))
    return found


def build_teardown_only(lab) -> list[str]:
    """Build the TEARDOWN_ONLY modules' end states too (lesson order); return their names.

    For the emulator, so that lesson 99 removes everything the course can create.
    Never call it on a real account: it would create billable resources just to delete them.
    """
    if lab.target != "emulator":
        raise RuntimeError("build_teardown_only creates resources only to remove them: "
                           "it runs against the emulator only")
    built = []
    for _, module_name in sorted(TEARDOWN_ONLY):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        if hasattr(module, "build"):
            with costs.rebuilding():  # built only to be removed: no cost line for it
                module.build(lab)
            built.append(module_name)
    return built


# ----------------------------------------------------------------------------- the report

@dataclass
class TopicResult:
    lesson: str
    module: str
    problems: list = field(default_factory=list)   # first pass: what could not be removed
    leftovers: list = field(default_factory=list)  # what still exists after the first pass
    second: list = field(default_factory=list)     # problems of the second pass


@dataclass
class TeardownReport:
    """What teardown_all did, per topic module; ``ok`` only if nothing is left."""

    name: str
    results: list = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [f"{r.module}: {p}" for r in self.results for p in r.problems + r.second]

    @property
    def leftovers(self) -> list[str]:
        return [f"{r.module}: {item}" for r in self.results for item in r.leftovers]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.leftovers

    def table(self):
        """One row per module: lesson, module, problems, leftovers, second pass (pandas)."""
        import pandas as pd

        return pd.DataFrame([{"lesson": r.lesson, "module": r.module,
                              "could not remove": len(r.problems), "left": len(r.leftovers),
                              "second pass problems": len(r.second)} for r in self.results])

    def __str__(self) -> str:
        head = (f"teardown for NAME={self.name!r}: "
                + ("everything removed, second pass clean" if self.ok else "INCOMPLETE"))
        lines = [head] + [f"  {r.lesson} {r.module}: " + (
            "clean" if not (r.problems or r.leftovers or r.second)
            else "; ".join(r.problems + r.leftovers + r.second)) for r in self.results]
        return "\n".join(lines)

    def raise_if_incomplete(self) -> None:
        if not self.ok:
            raise RuntimeError(f"{self}\nRemove these by hand (or fix the cause) and run again.")


def _call(function, lab, label: str) -> list[str]:
    """FUNCTION(lab) as a list of strings; an exception becomes a reported problem."""
    try:
        return list(function(lab) or [])
    except Exception as exc:  # reported, so the caller sees it; never silent
        return [f"{label} raised {type(exc).__name__}: {exc}"]


def teardown_all(lab, lessons=None) -> TeardownReport:
    """Tear down every topic module, latest lesson first; check leftovers; run again.

    Returns a TeardownReport; ``report.ok`` is True only if every teardown
    succeeded, ``leftovers`` found nothing and the second pass had no problems.
    """
    found = topics(lessons)
    report = TeardownReport(lab.name, [TopicResult(t.lesson, t.module) for t in found])
    for topic, result in zip(found, report.results):
        result.problems = _call(topic.teardown, lab, f"{topic.module}.teardown")
    for topic, result in zip(found, report.results):
        if topic.leftovers is not None:
            result.leftovers = _call(topic.leftovers, lab, f"{topic.module}.leftovers")
    for topic, result in zip(found, report.results):
        result.second = _call(topic.teardown, lab, f"{topic.module}.teardown (second pass)")
    return report
