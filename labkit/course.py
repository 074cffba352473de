"""The lessons, in order, and the reference builds that let each one run alone.

A lesson may start in a fresh kernel, in any order: ``labkit.start(NAME,
lesson="04")`` first runs the builders of the lessons before 04 (the reference
solutions of 01-03), each idempotent, so 04 finds the users, buckets and access
points it expects. Nothing is passed between notebooks.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass


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

    def build(self, lab) -> None:
        if self.builder:
            module, _, function = self.builder.partition(":")
            getattr(importlib.import_module(module), function)(lab)


LESSONS: tuple[Lesson, ...] = (
    Lesson("00", "Setup and credentials", "00_setup_and_credentials.ipynb"),
    Lesson("01", "IAM users and groups", "01_iam_users_and_groups.ipynb", "labkit.topics.users_and_groups:build"),
    Lesson("02", "Encrypted buckets", "02_encrypted_buckets.ipynb", "labkit.topics.buckets:build"),
    Lesson("03", "Access points", "03_access_points.ipynb", "labkit.topics.access_points:build"),
    Lesson("04", "IAM policies and testing", "04_iam_policies_and_testing.ipynb",
           "labkit.topics.iam_policies:build"),
    # 05, 06 and 08 leave no builder: nothing later needs their (billable) resources.
    # 05 and 08 build their own network; 06 needs the analysts of lesson 01.
    Lesson("05", "EC2 and scaling", "05_ec2_and_scaling.ipynb", needs=()),
    Lesson("06", "SageMaker domain", "06_sagemaker_domain.ipynb", needs=("01",)),
    Lesson("07", "Working as an analyst", "07_working_as_an_analyst.ipynb",
           "labkit.topics.analyst:build"),
    Lesson("08", "Beyond: containers and serverless (optional)",
           "08_beyond_containers_and_serverless.ipynb", needs=()),
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


def build_through(lab, lesson: str | int) -> list[str]:
    """Build the end state of every lesson up to and including ``lesson``."""
    wanted = normalize(lesson)
    built = build_upto(lab, wanted)
    get(wanted).build(lab)
    return built + [wanted]


def prerequisites(lesson: str | int) -> list[str]:
    """The lessons ``lesson`` starts from, with what they need in turn, in course order."""
    wanted = get(lesson)
    direct = wanted.needs if wanted.needs is not None else [
        item.id for item in LESSONS if item.id < wanted.id]
    found = set(direct)
    for item in direct:
        found.update(prerequisites(item))
    return sorted(found)


def build_upto(lab, lesson: str | int) -> list[str]:
    """Build the end state of the lessons ``lesson`` starts from; return their ids."""
    built = prerequisites(lesson)
    for item in built:
        get(item).build(lab)
    return built
