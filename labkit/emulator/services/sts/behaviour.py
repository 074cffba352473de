"""STS fidelity: session tags.

moto's AssumeRole ignores ``Tags``; AWS makes them the session's principal tags
(``aws:PrincipalTag/<key>``, winning over the role's own tags with the same
key: IAM "Passing session tags in AWS STS"). Here they are kept on moto's
session object, where labkit.emulator.authz.identity reads them.
"""
from __future__ import annotations

import re

from labkit.emulator.patching import replace

_TAG_PARAM = re.compile(r"^Tags\.member\.(\d+)\.(Key|Value)$")
_installed = False


def session_tags(params: dict) -> dict:
    """{key: value} from the query parameters Tags.member.N.Key / .Value."""
    parts: dict = {}
    for name, values in params.items():
        m = _TAG_PARAM.match(name)
        if m:
            value = values[0] if isinstance(values, list) else values
            parts.setdefault(m.group(1), {})[m.group(2)] = value
    return {p["Key"]: p.get("Value", "") for p in parts.values() if "Key" in p}


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.sts.responses import TokenResponse

    original = TokenResponse.assume_role

    def assume_role(self):
        result = original(self)
        tags = session_tags(self.querystring)
        session = (result.result or {}).get("Credentials") if hasattr(result, "result") else None
        if tags and session is not None:
            session.labkit_session_tags = tags
        return result

    replace(TokenResponse, "assume_role", assume_role)
    _installed = True
