"""Policy variables: ``${aws:username}``, ``${aws:username, 'default'}``, ``${*}``, ``${?}``, ``${$}``.

A string from a policy is split once into tokens; a token is either literal
policy text (which may still hold ``*``/``?`` wildcards) or a variable. The
value a variable resolves to is always literal: a user called ``a*b`` does not
turn into a wildcard. The escapes ``${*}``, ``${?}`` and ``${$}`` are literal
characters, which is how AWS lets a policy say "a real asterisk".

Variables are only substituted in policies of Version 2012-10-17; under
2008-10-17 AWS reads ``${aws:username}`` as plain text, and so do we.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Mapping, Optional, Sequence, Tuple, Union

# ${key} or ${key, 'default'}; keys are letters, digits and the separators
# AWS keys use (aws:PrincipalTag/team, s3:x-amz-acl, ...).
_VAR_RE = re.compile(r"\$\{\s*([^}'\s,]+)\s*(?:,\s*'([^']*)'\s*)?\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}

#: A literal token: ("lit", text, may_hold_wildcards); a variable: ("var", lower-cased key, default).
Token = Tuple[str, str, Union[bool, Optional[str]]]


@lru_cache(maxsize=4096)
def tokenize(text: str) -> Tuple[Token, ...]:
    """Split TEXT into literal and variable tokens (cached; policies repeat)."""
    tokens = []
    pos = 0
    for m in _VAR_RE.finditer(text):
        if m.start() > pos:
            tokens.append(("lit", text[pos:m.start()], True))
        key = m.group(1)
        if key in _ESCAPES and m.group(2) is None:
            # ${*} is a literal asterisk, never a wildcard.
            tokens.append(("lit", _ESCAPES[key], False))
        else:
            tokens.append(("var", key.lower(), m.group(2)))
        pos = m.end()
    if pos < len(text):
        tokens.append(("lit", text[pos:], True))
    return tuple(tokens)


def resolve_tokens(tokens: Sequence[Token], context: Mapping[str, Sequence[str]]):
    """Replace variables by their context values.

    Returns a tuple of (text, is_pattern_text) pieces, or None when a variable is
    missing (or multi-valued) and has no default: AWS then treats the string as
    not matching anything.
    """
    out = []
    for kind, a, b in tokens:
        if kind == "lit":
            out.append((a, b))
            continue
        values = context.get(a)
        if values is not None and len(values) == 1:
            out.append((values[0], False))
        elif b is not None:
            out.append((b, False))
        else:
            return None
    return tuple(out)


def substitute(text: str, context: Mapping[str, Sequence[str]]) -> Optional[str]:
    """TEXT with its variables replaced (for exact comparisons); None if unresolved."""
    if "${" not in text:
        return text
    pieces = resolve_tokens(tokenize(text), context)
    if pieces is None:
        return None
    return "".join(p for p, _ in pieces)
