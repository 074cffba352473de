"""Checks for lesson 99: nothing the course created for NAME is left."""
from __future__ import annotations

from labkit.topics import teardown
from labkit.checks import Fail, check


@check("99.nothing-left", points=5,
       hint="remove every resource the course made, in an order that AWS accepts (objects before buckets, policies detached before users); the check's message names what is left",
       docs='Amazon S3 User Guide › Deleting a bucket (versioned objects and delete markers); IAM User Guide › Delete an IAM user',
       reference='labkit.topics.teardown.teardown_all(lab): read its report, each line says what could not be removed and why')
def nothing_left(lab):
    """Every topic module's leftovers(lab) is empty."""
    found = []
    for topic in teardown.topics():
        if topic.leftovers is not None:
            found += [f"{topic.module}: {item}" for item in topic.leftovers(lab)]
    if found:
        raise Fail(f"{len(found)} resource(s) still exist: " + "; ".join(found))
    return f"nothing is left of NAME={lab.name!r} ({len(teardown.topics())} topic modules asked)"


@check("99.profiles-removed", points=1,
       hint="lab.files.remove_profile(user) for each of lab.names.users",
       docs='AWS CLI User Guide › Configuration and credential file settings',
       reference='lab.files.remove_profile(user) for each of lab.names.users')
def profiles_removed(lab):
    """The users' lab-local profiles are gone with their keys."""
    stale = [p for p in lab.names.users if p in lab.files.profiles()]
    if stale:
        raise Fail(f"lab-local profiles of deleted users remain: {', '.join(stale)}")
    return "no lab-local profile of a deleted user remains"
