"""STS as the pipeline serves it: AssumeRole decided with the role's trust policy, the
account root's GetCallerIdentity answered as AWS answers it, the rest the generic way."""
from __future__ import annotations

import uuid

from labkit.emulator.authz import errors, identity
from labkit.emulator.authz.call import Call
from labkit.emulator.authz.decide import Permission, record
from labkit.emulator.authz.identity import Caller
from labkit.emulator.request import READ_PREFIXES
from labkit.emulator.services.sts import actions


def handle(call: Call):
    op = call.req.operation or ""
    if op == "GetCallerIdentity" and call.caller.is_root:
        return call.send(_root_caller_identity(call.caller))
    if op == "AssumeRole":
        return _assume_role(call)
    # A new session is a new caller: cached policy lists are stale after a write.
    return call.serve_generic(then=None if op.startswith(READ_PREFIXES) else identity.bump)


def _assume_role(call: Call):
    """AssumeRole: identity policies AND the role's trust policy decide."""
    decision = actions.decide_assume_role(call.req, call.caller, call.base)
    if decision is None:
        return call.send(errors.error(call.req, 403, "AccessDenied", actions.ROOT_REFUSAL))
    record(Permission("sts:AssumeRole", call.req.param("RoleArn") or "*"), decision)
    if not decision.allowed:
        return call.deny(decision)
    problem = duration_problem(call.req.param("DurationSeconds"), call.req.param("RoleArn"),
                               call.caller)
    if problem is not None:
        return call.send(errors.error(call.req, 400, "ValidationError", problem))
    return call.forward(then=identity.bump)


#: STS API reference, AssumeRole, DurationSeconds: 900 seconds up to the role's maximum
#: session duration (IAM's MaxSessionDuration, 1 to 12 hours, 1 by default); a role
#: session assuming a role (role chaining) gets at most one hour.
MIN_DURATION, CHAINED_MAX = 900, 3600


def duration_problem(given, role_arn, caller: Caller):
    """The ValidationError message for a DurationSeconds AWS refuses, else None."""
    if given in (None, ""):
        return None
    try:
        seconds = int(given)
    except ValueError:
        return (f"1 validation error detected: Value '{given}' at 'durationSeconds' failed "
                "to satisfy constraint: Member must be a number")
    if seconds < MIN_DURATION:
        return (f"1 validation error detected: Value '{seconds}' at 'durationSeconds' failed "
                f"to satisfy constraint: Member must have value greater than or equal to "
                f"{MIN_DURATION}")
    if caller.kind == "assumed-role" and seconds > CHAINED_MAX:
        return ("The requested DurationSeconds exceeds the 1 hour session limit for roles "
                "assumed by role chaining.")
    if seconds > actions.max_session_duration(role_arn, caller.account_id):
        return "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    return None


def _root_caller_identity(caller: Caller) -> errors.Response:
    # moto reports the root key as user/moto; AWS says the account root.
    body = (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<GetCallerIdentityResult><Arn>{caller.arn}</Arn><UserId>{caller.account_id}</UserId>"
        f"<Account>{caller.account_id}</Account></GetCallerIdentityResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    ).encode()
    return 200, [("Content-Type", "text/xml")], body
