"""IAM as the pipeline serves it: Simulate* answered by labkit.policy (moto's simulator
ignores conditions and boundaries), cached policies forgotten after every write."""
from __future__ import annotations

from labkit.emulator.authz import identity
from labkit.emulator.authz.call import Call
from labkit.emulator.request import READ_PREFIXES
from labkit.emulator.services.iam import simulate


def handle(call: Call):
    op = call.req.operation or ""
    if op in simulate.OPERATIONS:
        refusal = call.first_refusal(call.generic_permissions())
        return refusal if refusal is not None else call.send(simulate.handle(call.req))
    return call.serve_generic(then=None if op.startswith(READ_PREFIXES) else identity.bump)
