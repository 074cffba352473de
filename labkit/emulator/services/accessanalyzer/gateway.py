"""Answer Access Analyzer's policy checks for the emulator (REST-JSON, as botocore sends them).

The caller is authorized like every other call (access-analyzer:CheckAccessNotGranted,
... on "*"), then:

- CheckAccessNotGranted / CheckNoNewAccess / CheckNoPublicAccess: labkit.policy.analyze
  (z3) decides; the body is AWS's ``{"result", "message", "reasons"}``;
- ValidatePolicy: validate.py (labkit.policy.lint and the Service Authorization Reference).

Bad input gets AWS's ValidationException (missing or wrong parameters) or
InvalidParameterException (a policy document labkit.policy cannot parse), with a
message saying what to fix.
"""
from __future__ import annotations

import json
import uuid

from labkit.emulator.authz import errors
from labkit.emulator.authz.call import Call
from labkit.emulator.authz.decide import Permission, decide, denial_message
from labkit.emulator.services.accessanalyzer import actions, validate
from labkit.policy import PolicyError
from labkit.policy.analyze import (RESOURCE_TYPES, check_access_not_granted, check_no_new_access,
                                   check_no_public_access)


def _error(status: int, code: str, message: str) -> errors.Response:
    """A REST-JSON error, as Access Analyzer sends it (botocore reads x-amzn-ErrorType)."""
    body = json.dumps({"message": message}).encode()
    return status, [("Content-Type", "application/json"), ("x-amzn-RequestId", str(uuid.uuid4())),
                    ("x-amzn-ErrorType", code)], body


class _BadInput(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def handle(call: Call):
    """Serve one Access Analyzer request (moto has none: labkit answers every one)."""
    return call.send(answer(call.req, call.caller, call.base))


def answer(req, caller, base) -> errors.Response:
    """The response to one Access Analyzer request REQ from CALLER (BASE: global context)."""
    op = actions.operation(req)
    if op is None:
        return _error(404, "ResourceNotFoundException",
                            f"labkit's emulator does not serve {req.method} {req.path} for "
                            f"Access Analyzer; it answers {', '.join(actions.OPERATIONS)}")
    if caller.is_anonymous:
        return _error(403, "MissingAuthenticationTokenException",
                            "Missing Authentication Token")
    action, resource = actions.permission(op)
    decision = decide(caller, Permission(action, resource, {}, None, caller.account_id), base)
    if not decision.allowed:
        return _error(403, "AccessDeniedException", denial_message(caller, decision))
    if op not in actions.OPERATIONS:
        return _error(501, "NotImplementedException",
                            f"labkit's emulator does not implement Access Analyzer {op} "
                            f"(analyzers and findings are out of scope); it answers "
                            f"{', '.join(actions.OPERATIONS)}")
    try:
        body = _answer(op, _body(req))
    except _BadInput as exc:
        return _error(400, exc.code, str(exc))
    except PolicyError as exc:
        return _error(400, "InvalidParameterException", str(exc))
    return 200, [("Content-Type", "application/json"),
                 ("x-amzn-RequestId", str(uuid.uuid4()))], json.dumps(body).encode()


def _body(req) -> dict:
    try:
        data = json.loads(req.body or b"{}")
    except ValueError:
        raise _BadInput("ValidationException", "the request body is not JSON") from None
    if not isinstance(data, dict):
        raise _BadInput("ValidationException", "the request body must be a JSON object")
    return data


def _need(data: dict, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise _BadInput("ValidationException",
                        f"1 validation error detected: Value at '{name}' failed to satisfy "
                        f"constraint: Member must not be null")
    return value


def _policy_type(data: dict) -> str:
    value = _need(data, "policyType")
    if value not in ("IDENTITY_POLICY", "RESOURCE_POLICY"):
        raise _BadInput("ValidationException", f"policyType must be IDENTITY_POLICY or "
                                               f"RESOURCE_POLICY, not {value!r}")
    return value


def _answer(op: str, data: dict) -> dict:
    if op == "CheckAccessNotGranted":
        doc, ptype = _need(data, "policyDocument"), _policy_type(data)
        access = data.get("access")
        if not isinstance(access, list) or not access:
            raise _BadInput("ValidationException", "access must list one object with actions "
                                                   "and/or resources")
        result = None
        for item in access:
            acts, res = item.get("actions") or [], item.get("resources") or None
            if not acts and not res:
                raise _BadInput("InvalidParameterException",
                                "each access object needs actions or resources")
            try:
                result = check_access_not_granted(doc, acts, res, ptype)
            except ValueError as exc:
                if isinstance(exc, PolicyError):
                    raise
                raise _BadInput("InvalidParameterException", str(exc)) from None
            if not result.passed:
                break
        return result.to_aws()
    if op == "CheckNoNewAccess":
        return check_no_new_access(_need(data, "newPolicyDocument"),
                                   _need(data, "existingPolicyDocument"),
                                   _policy_type(data)).to_aws()
    if op == "CheckNoPublicAccess":
        rtype = _need(data, "resourceType")
        if rtype not in RESOURCE_TYPES:
            raise _BadInput("InvalidParameterException",
                            f"resourceType {rtype!r} is not supported by labkit's emulator; use "
                            f"one of {', '.join(sorted(RESOURCE_TYPES))}")
        return check_no_public_access(_need(data, "policyDocument"), rtype).to_aws()
    findings = validate.validate(_need(data, "policyDocument"), _need(data, "policyType"),
                                 data.get("validatePolicyResourceType"))
    return {"findings": findings}
