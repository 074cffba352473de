"""The lessons, in order, and the reference builds that let each one run alone.

A lesson may start in a fresh kernel, in any order: ``labkit.start(NAME,
lesson="04")`` first runs the builders of the lessons before 04 (the reference
solutions of 01-03), each idempotent, so 04 finds the users, buckets and access
points it expects. Nothing is passed between notebooks.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass

#: On a real account, billable builders (EC2, SageMaker, EKS) run only when asked:
#: LABKIT_BUILD_BILLABLE=1 (or build_upto/build_through(..., billable=True)).
BILLABLE_VARIABLE = "LABKIT_BUILD_BILLABLE"


class SolutionWithheld(RuntimeError):
    """A lesson's reference solution is not in this copy of labkit (not released yet, or
    withheld while that lesson is graded)."""

    def __init__(self, lesson: str, where: str = "", message: str = ""):
        self.lesson = lesson
        super().__init__(message or (
            f"lesson {lesson}'s reference solution ({where or 'its builder'}) is not in this "
            f"copy of labkit: your instructor releases it after lesson {lesson} is handed in"))


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    notebook: str
    #: "module:function" that builds this lesson's end state (reference solution),
    #: or None when later lessons do not depend on it.
    builder: str | None = None
    #: The earlier lessons whose end state this one starts from; None means all of
    #: them. Declaring fewer keeps a lesson's start quick (05 needs no IAM users).
    needs: tuple[str, ...] | None = None
    #: Its end state costs money on a real account (instances, a domain, a cluster).
    billable: bool = False

    def build(self, lab, billable: bool | None = None) -> bool:
        """Build this lesson's end state; False when skipped (billable, on real AWS, not asked)."""
        if not self.builder:
            return False
        if self.billable and getattr(lab, "target", "emulator") != "emulator" and not (
                billable if billable is not None else os.environ.get(BILLABLE_VARIABLE) == "1"):
            print(f"labkit: skipped lesson {self.id}'s end state ({self.title}): it is billable "
                  f"on a real account; set {BILLABLE_VARIABLE}=1 to build it.")
            return False
        module, _, function = self.builder.partition(":")
        getattr(importlib.import_module(module), function)(lab)
        return True


LESSONS: tuple[Lesson, ...] = (
    Lesson("00", "Setup and credentials", "00_setup_and_credentials.ipynb"),
    Lesson("01", "IAM users and groups", "01_iam_users_and_groups.ipynb", "labkit.topics.users_and_groups:build"),
    Lesson("02", "Encrypted buckets", "02_encrypted_buckets.ipynb", "labkit.topics.buckets:build"),
    Lesson("03", "Access points", "03_access_points.ipynb", "labkit.topics.access_points:build"),
    Lesson("04", "IAM policies and testing", "04_iam_policies_and_testing.ipynb",
           "labkit.topics.iam_policies:build"),
    # 05, 06 and 08: their end states are billable on AWS, and no
    # later lesson but 99 needs them. 05 and 08 build their own network; 06 needs the
    # analysts of lesson 01; 07 starts from 04 and what 04 starts from.
    Lesson("05", "EC2 and scaling", "05_ec2_and_scaling.ipynb",
           "labkit.topics.scaling:build", needs=(), billable=True),
    Lesson("06", "SageMaker domain", "06_sagemaker_domain.ipynb",
           "labkit.topics.sagemaker_domain:build", needs=("01",), billable=True),
    Lesson("07", "Working as an analyst", "07_working_as_an_analyst.ipynb",
           "labkit.topics.analyst:build", needs=("04",)),
    Lesson("08", "Beyond: containers and serverless (optional)",
           "08_beyond_containers_and_serverless.ipynb",
           "labkit.topics.containers_serverless:build", needs=(), billable=True),
    # 09 starts from the users, buckets and IAM policies of 01-04 (04 brings 01-03).
    Lesson("09", "Encryption keys", "09_encryption_keys.ipynb",
           "labkit.topics.encryption_keys:build", needs=("04",)),
    Lesson("10", "Audit", "10_audit.ipynb", "labkit.topics.audit:build", needs=("04",)),
    Lesson("99", "Teardown", "99_teardown.ipynb"),
)


def lesson_ids() -> list[str]:
    return [lesson.id for lesson in LESSONS]


def normalize(lesson: str | int) -> str:
    """"4", 4 and "04" all mean lesson 04; anything else is a clear error."""
    text = str(lesson).strip()
    text = text.zfill(2) if text.isdigit() else text
    if text not in lesson_ids():
        raise ValueError(f"lesson {lesson!r} does not exist; lessons are {', '.join(lesson_ids())}")
    return text


def get(lesson: str | int) -> Lesson:
    wanted = normalize(lesson)
    return next(item for item in LESSONS if item.id == wanted)


def build_through(lab, lesson: str | int, billable: bool | None = None) -> list[str]:
    """Build the end state of every lesson up to and including ``lesson``, in course
    order (``labkit emulator start --upto``); return the ids of those built."""
    from labkit.topics import costs

    wanted = normalize(lesson)
    with costs.rebuilding():
        return [item.id for item in LESSONS
                if item.id <= wanted and item.build(lab, billable)]


def prerequisites(lesson: str | int) -> list[str]:
    """The lessons ``lesson`` starts from, with what they need in turn, in course order."""
    wanted = get(lesson)
    direct = wanted.needs if wanted.needs is not None else [
        item.id for item in LESSONS if item.id < wanted.id]
    found = set(direct)
    for item in direct:
        found.update(prerequisites(item))
    return sorted(found)


def build_upto(lab, lesson: str | int, billable: bool | None = None) -> list[str]:
    """Build the end state of the lessons ``lesson`` starts from; return their ids."""
    from labkit.topics import costs

    built = prerequisites(lesson)
    with costs.rebuilding():
        for item in built:
            try:
                get(item).build(lab, billable)
            except SolutionWithheld as exc:
                wanted = normalize(lesson)
                raise SolutionWithheld(exc.lesson, message=(
                    f"labkit.start cannot catch you up to lesson {wanted}: {exc}. Finish lesson "
                    f"{exc.lesson}'s notebook in this lab first, then run labkit.start(NAME, "
                    f"lesson=\"{wanted}\", rebuild=False), which keeps what your lab holds."
                )) from None
    return built
