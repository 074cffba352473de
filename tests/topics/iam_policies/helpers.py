"""A lab built through lesson 04, shared by the tests of lessons 04, 07 and 99."""
from __future__ import annotations

import labkit
from labkit.topics import access_points, users_and_groups as iam, iam_policies as policies, buckets as s3


def build_through_04(name: str):
    """Start NAME's lab and build lessons 01-04 (whatever course.LESSONS registers yet)."""
    lab = labkit.start(name, lesson="00", verbose=False)
    for builder in (iam.build, s3.build, access_points.build, policies.build):
        builder(lab)
    return lab
