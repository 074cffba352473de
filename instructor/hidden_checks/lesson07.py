"""Hidden checks for lesson 07 (graded by `labkit regrade`, never shipped to learners)."""
from __future__ import annotations

import io

from labkit.topics import buckets as s3topic
from labkit.checks import Fail, check
from labkit.checks.lesson07 import _result


@check("07.totals", points=2, hidden=True,
       hint="Sum order_total per state and category over every row of the dataset")
def totals(lab):
    """The result's revenue adds up to the dataset's total."""
    import pandas as pd

    _, text = _result(lab)
    result = pd.read_csv(io.StringIO(text))
    raw = lab.client("s3").get_object(Bucket=lab.names.landing_bucket, Key=s3topic.DATASET_KEY)
    expected = round(float(pd.read_csv(raw["Body"])["order_total"].sum()), 2)
    got = round(float(result["revenue"].sum()), 2)
    if abs(got - expected) > 0.01 * max(1, len(result)):
        raise Fail(f"the result's revenue adds up to {got}, the dataset's to {expected}")
    return f"revenue adds up to {expected}"
