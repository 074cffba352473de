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
    return call.forward(then=identity.bump)


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
