"""IAM as the pipeline serves it: Simulate* answered by labkit.policy (moto's simulator
ignores conditions and boundaries), policy size quotas and delete conflicts enforced (quotas.py, conflicts.py), cached
policies forgotten after every write."""
from __future__ import annotations

from labkit.emulator.authz import identity
from labkit.emulator.authz.call import Call
from labkit.emulator.request import READ_PREFIXES
from labkit.emulator.authz import errors
from labkit.emulator.services.iam import conflicts, quotas, simulate


def handle(call: Call):
    op = call.req.operation or ""
    if op in simulate.OPERATIONS:
        refusal = call.first_refusal(call.generic_permissions())
        return refusal if refusal is not None else call.send(simulate.handle(call.req))
    if op.startswith(READ_PREFIXES):
        return call.serve_generic()
    return call.serve_generic(then=identity.bump, validate=lambda: _quota_error(call))


def _quota_error(call: Call):
    params = {k: v[0] for k, v in call.req.params.items() if v}
    op, account = call.req.operation or "", call.caller.account_id
    found = quotas.problem(op, params, account) or conflicts.problem(op, params, account)
    return errors.error(call.req, 409, *found) if found is not None else None
