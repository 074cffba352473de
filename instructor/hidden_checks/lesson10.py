"""Hidden checks for lesson 10 (graded by `labkit regrade`, never shipped to learners).

They read the trail of the learner's own run: the grader owns the emulator, so
every call the notebook made is in it.
"""
from __future__ import annotations

import configparser

from labkit.checks import Fail, check
from labkit.checks.lesson10 import _log_keys, _report
from labkit.topics import audit


@check("10.denials-really-made", points=2, hidden=True,
       hint="Make the calls (audit.replay_day(lab)); a report cannot be written by hand")
def denials_really_made(lab):
    """Every denial in the report is a denied call in the trail; the analyst's write is one."""
    _, table = _report(lab)
    denied = lab.trail(outcome="DENY")
    made = set(zip(denied["caller"], denied["action"], denied["resource"]))
    invented = [tuple(r) for r in table[["caller", "action", "resource"]].itertuples(index=False)
                if tuple(r) not in made]
    if invented:
        raise Fail(f"the report lists denials the trail never saw, e.g. {invented[0]}")
    analyst = denied[(denied["caller"] == lab.names.analyst_user)
                     & (denied["action"] == "s3:PutObject")
                     & denied["resource"].str.startswith(f"arn:aws:s3:::{lab.names.landing_bucket}/")]
    if analyst.empty:
        raise Fail("the trail has no denied s3:PutObject by the analyst on the landing zone")
    return f"{len(table)} reported denial(s), all in the trail"


@check("10.no-secrets", points=1, hidden=True,
       hint="Never put keys in request parameters, tags or object names")
def no_secrets(lab):
    """No secret access key of the lab-local profiles appears in a delivered log file."""
    parser = configparser.ConfigParser()
    parser.read(lab.files.credentials)
    secrets = [parser[p]["aws_secret_access_key"] for p in parser.sections()
               if parser[p].get("aws_secret_access_key")]
    records = [r for key in _log_keys(lab) for r in audit.read_log_file(lab, key)]
    if not records:
        raise Fail("there are no delivered log files to look at")
    text = str(records)
    leaked = [s[:4] + "..." for s in secrets if s and s in text]
    if leaked:
        raise Fail(f"{len(leaked)} secret key(s) appear in the delivered logs")
    return f"none of {len(secrets)} secret keys is in the logs"
