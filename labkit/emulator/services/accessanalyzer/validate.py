"""ValidatePolicy: labkit.policy.lint findings in Access Analyzer's shape.

Each finding has ``findingType`` (ERROR, SECURITY_WARNING, WARNING, SUGGESTION),
``issueCode``, ``findingDetails``, ``learnMoreLink`` (the IAM User Guide's
"Access Analyzer policy check reference" entry) and ``locations``: the JSON path
of the element (``[{"value": "Statement"}, {"index": 0}, {"value": "Action"}]``)
and its span in the submitted text (line, column, offset of start and end).
Issue codes follow that reference where it has the check (JSON_SYNTAX_ERROR,
INVALID_ACTION, INVALID_SERVICE_IN_ACTION, INVALID_CONDITION_OPERATOR,
INVALID_EFFECT, VARIABLE_UNSUPPORTED_IN_VERSION, ALLOW_WITH_NOT_PRINCIPAL, ...);
labkit's course-specific advice keeps a code of its own (LABKIT_*).
"""
from __future__ import annotations

import json
from typing import List, Optional

from labkit.policy import lint
from labkit.policy.analyze.actions import reference

_GUIDE = ("https://docs.aws.amazon.com/IAM/latest/UserGuide/"
          "access-analyzer-reference-policy-checks.html")
_TYPE_ANCHOR = {"ERROR": "error", "SECURITY_WARNING": "security-warning",
                "WARNING": "general-warning", "SUGGESTION": "suggestion"}
#: lint code -> (findingType, issueCode, field of the statement to point at)
_CODES = {
    "unknown-operator": ("ERROR", "INVALID_CONDITION_OPERATOR", "Condition"),
    "variables-need-version": ("ERROR", "VARIABLE_UNSUPPORTED_IN_VERSION", None),
    "public-principal": ("SECURITY_WARNING", "LABKIT_PUBLIC_PRINCIPAL", "Principal"),
    "public-principal-conditioned": ("WARNING", "LABKIT_PUBLIC_PRINCIPAL_CONDITIONED",
                                     "Principal"),
    "allow-star-star": ("SECURITY_WARNING", "LABKIT_ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES", "Action"),
    "allow-notaction": ("WARNING", "LABKIT_ALLOW_WITH_NOT_ACTION", "NotAction"),
    "allow-notresource": ("WARNING", "LABKIT_ALLOW_WITH_NOT_RESOURCE", "NotResource"),
    "allow-notprincipal": ("SECURITY_WARNING", "ALLOW_WITH_NOT_PRINCIPAL", "NotPrincipal"),
    "no-encryption-guard": ("SUGGESTION", "LABKIT_NO_ENCRYPTION_GUARD", None),
    "no-tls-guard": ("SUGGESTION", "LABKIT_NO_TLS_GUARD", None),
}
#: PolicyError field -> issue code for a malformed policy
_MALFORMED = {"Effect": "INVALID_EFFECT", "Action": "MISSING_ACTION", "NotAction": "MISSING_ACTION",
              "Resource": "MISSING_RESOURCE", "NotResource": "MISSING_RESOURCE",
              "Principal": "MISSING_PRINCIPAL", "NotPrincipal": "MISSING_PRINCIPAL",
              "Version": "INVALID_VERSION", "Statement": "MISSING_STATEMENT",
              "Sid": "UNIQUE_SIDS_REQUIRED", "Condition": "INVALID_CONDITION_OPERATOR"}
KINDS = {"IDENTITY_POLICY": "identity", "RESOURCE_POLICY": "resource",
         "SERVICE_CONTROL_POLICY": "identity", "RESOURCE_CONTROL_POLICY": "resource"}


# ----------------------------------------------------------------------------- JSON spans

class _Spans:
    """Start/end positions of every value of a JSON text, by path (a tuple of keys/indexes)."""

    def __init__(self, text: str):
        self.text, self.spans = text, {}
        self._line_starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        try:
            self._value(self._ws(0), ())
        except (IndexError, ValueError):
            self.spans = {}

    def _ws(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in " \t\r\n":
            i += 1
        return i

    def _value(self, i: int, path: tuple) -> int:
        c = self.text[i]
        if c == "{":
            j = self._ws(i + 1)
            while self.text[j] != "}":
                key_end = json.decoder.scanstring(self.text, j + 1)[1]
                key = json.loads(self.text[j:key_end])
                j = self._ws(self._ws(key_end) + 1)
                j = self._ws(self._value(j, path + (key,)))
                j = self._ws(j + 1) if self.text[j] == "," else j
            end = j + 1
        elif c == "[":
            j, n = self._ws(i + 1), 0
            while self.text[j] != "]":
                j = self._ws(self._value(j, path + (n,)))
                n += 1
                j = self._ws(j + 1) if self.text[j] == "," else j
            end = j + 1
        elif c == '"':
            end = json.decoder.scanstring(self.text, i + 1)[1]
        else:
            end = i
            while end < len(self.text) and self.text[end] not in ",]} \t\r\n":
                end += 1
        self.spans[path] = (i, end)
        return end

    def position(self, offset: int) -> dict:
        line = max(n for n, start in enumerate(self._line_starts) if start <= offset)
        return {"line": line + 1, "column": offset - self._line_starts[line], "offset": offset}

    def location(self, path: tuple) -> Optional[dict]:
        found = self.spans.get(path)
        if found is None:
            return None
        elements = [{"index": p} if isinstance(p, int) else {"value": p} for p in path]
        return {"path": elements, "span": {"start": self.position(found[0]),
                                           "end": self.position(found[1])}}


# ----------------------------------------------------------------------------- findings

def _finding(ftype: str, code: str, details: str, locations: List[dict]) -> dict:
    anchor = f"access-analyzer-reference-policy-checks-{_TYPE_ANCHOR[ftype]}-" \
             f"{code.lower().replace('_', '-')}"
    return {"findingType": ftype, "issueCode": code, "findingDetails": details,
            "learnMoreLink": f"{_GUIDE}#{anchor}", "locations": locations}


def _statements(doc) -> List[dict]:
    raw = doc.get("Statement") if isinstance(doc, dict) else None
    return raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []


def _statement_path(doc, label: Optional[str]) -> Optional[tuple]:
    """The JSON path of the statement lint calls LABEL ("Sid X" or "Statement[i]")."""
    if not label:
        return None
    items = _statements(doc)
    many = isinstance(doc.get("Statement"), list)
    for i, st in enumerate(items):
        if label in (f"Sid {st.get('Sid')}", f"Statement[{i}]"):
            return ("Statement", i) if many else ("Statement",)
    return None


def validate(text: str, policy_type: str = "IDENTITY_POLICY",
             resource_type: Optional[str] = None) -> List[dict]:
    """Access Analyzer findings for the policy TEXT."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        pos = {"line": exc.lineno, "column": exc.colno - 1, "offset": exc.pos}
        return [_finding("ERROR", "JSON_SYNTAX_ERROR",
                         f"Fix the JSON syntax error at index {exc.pos} line {exc.lineno} "
                         f"column {exc.colno}: {exc.msg}.",
                         [{"path": [], "span": {"start": pos, "end": pos}}])]
    spans = _Spans(text)
    kind = "trust" if resource_type == "AWS::IAM::AssumeRolePolicyDocument" \
        else KINDS.get(policy_type, "identity")
    out = []
    for f in lint(doc, kind):
        out += _from_lint(f, doc, spans)
    if not any(x["findingType"] == "ERROR" for x in out):
        out += _action_findings(doc, spans)
    return out


def _from_lint(f, doc, spans: _Spans) -> List[dict]:
    base = _statement_path(doc, f.statement)
    if f.code == "malformed":
        field = _error_field(f.message)
        code = _MALFORMED.get(field, "INVALID_POLICY_ELEMENT")
        path = base + (field,) if base and field and spans.spans.get(base + (field,)) else base
        loc = spans.location(path) if path else None
        return [_finding("ERROR", code, f.message, [loc] if loc else [])]
    ftype, code, field = _CODES.get(f.code, ("WARNING", f"LABKIT_{f.code.upper()}", None))
    if f.code == "variables-need-version":
        path = ("Version",) if ("Version",) in spans.spans else ()
    else:
        path = base + (field,) if base and field and base + (field,) in spans.spans else base
    loc = spans.location(path) if path else None
    return [_finding(ftype, code, f.message, [loc] if loc else [])]


def _error_field(message: str) -> Optional[str]:
    marker = ", field "
    if marker in message:
        return message.split(marker, 1)[1].split(":", 1)[0].strip()
    return None


def _action_findings(doc, spans: _Spans) -> List[dict]:
    """INVALID_SERVICE_IN_ACTION / INVALID_ACTION against the Service Authorization Reference."""
    names, services, _version = reference()
    known = set(names)
    out = []
    many = isinstance(doc.get("Statement"), list)
    for i, st in enumerate(_statements(doc)):
        for field in ("Action", "NotAction"):
            values = st.get(field)
            if values is None:
                continue
            items = values if isinstance(values, list) else [values]
            for j, action in enumerate(items):
                if not isinstance(action, str) or action == "*" or ":" not in action:
                    continue
                svc, name = action.split(":", 1)
                base = ("Statement", i) if many else ("Statement",)
                path = base + (field, j) if isinstance(values, list) else base + (field,)
                loc = spans.location(path)
                if "*" in svc or "?" in svc:
                    continue
                if svc.lower() not in services:
                    out.append(_finding("ERROR", "INVALID_SERVICE_IN_ACTION",
                                        f"The service {svc} specified in the action does not "
                                        f"exist.", [loc] if loc else []))
                elif "*" not in name and "?" not in name and action.lower() not in known:
                    out.append(_finding("ERROR", "INVALID_ACTION",
                                        f"The action {action} does not exist.",
                                        [loc] if loc else []))
    return out


__all__ = ["validate"]
