"""Wildcard and ARN matching.

AWS rules, as in the IAM elements reference:
- ``*`` matches any run of characters, ``?`` exactly one.
- Action names are case-insensitive; ARNs and resource names are case-sensitive.
- An ARN pattern is matched per colon-separated segment: a wildcard in the
  partition, service, region or account segment never spans a colon; the last
  (resource) segment may contain colons and ``*`` spans them there.

Patterns are compiled once to regular expressions and cached.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Optional, Sequence, Tuple

from botocore.utils import ArnParser, InvalidArnException

from labkit.policy.variables import resolve_tokens, tokenize

_ARNS = ArnParser()


def _glob_body(text: str, star: str = ".*", qmark: str = ".") -> str:
    """Regex body for a wildcard TEXT (``*`` -> STAR, ``?`` -> QMARK)."""
    out = []
    for ch in text:
        if ch == "*":
            out.append(star)
        elif ch == "?":
            out.append(qmark)
        else:
            out.append(re.escape(ch))
    return "".join(out)


@lru_cache(maxsize=8192)
def glob_regex(pattern: str, ignore_case: bool = False) -> "re.Pattern[str]":
    """Compiled full-match regex for a wildcard PATTERN."""
    flags = re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL
    return re.compile(_glob_body(pattern), flags)


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """True if VALUE matches the wildcard PATTERN (whole string)."""
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return glob_regex(pattern, ignore_case).fullmatch(value) is not None


def _arn_body(pieces: Sequence[Tuple[str, bool]]) -> str:
    """Regex body for an ARN pattern given as (text, may_hold_wildcards) pieces.

    Colons are counted across pieces so that wildcards in the first five
    segments stay within their segment.
    """
    out = []
    colons = 0
    for text, wild in pieces:
        for ch in text:
            if ch == ":":
                colons += 1
                out.append(":")
            elif wild and ch == "*":
                out.append(".*" if colons >= 5 else "[^:]*")
            elif wild and ch == "?":
                out.append("." if colons >= 5 else "[^:]")
            else:
                out.append(re.escape(ch))
    return "".join(out)


@lru_cache(maxsize=8192)
def arn_regex_from_pieces(pieces: Tuple[Tuple[str, bool], ...]) -> "re.Pattern[str]":
    """Compiled regex for an ARN pattern already split into pieces."""
    if len(pieces) == 1 and pieces[0] == ("*", True):
        return re.compile(".*", re.DOTALL)
    return re.compile(_arn_body(pieces), re.DOTALL)


def arn_regex(pattern: str) -> "re.Pattern[str]":
    """Compiled regex for a literal ARN PATTERN (``*`` alone matches everything)."""
    return arn_regex_from_pieces(((pattern, True),))


def arn_match(pattern: str, value: str) -> bool:
    """ArnLike semantics: per-segment wildcards, case-sensitive."""
    if pattern == "*":
        return True
    return arn_regex(pattern).fullmatch(value) is not None


class ArnMatcher:
    """Matches request ARNs against one list of Resource/NotResource patterns.

    Static patterns become one combined regex (or a set for exact ARNs);
    patterns with policy variables are resolved per request.
    """

    __slots__ = ("match_all", "exact", "regex", "dynamic")

    def __init__(self, patterns: Iterable[str], variables: bool):
        self.match_all = False
        self.exact = set()
        bodies = []
        self.dynamic = []
        for p in patterns:
            if p == "*":
                self.match_all = True
            elif variables and "${" in p:
                tokens = tokenize(p)
                if any(t[0] == "var" for t in tokens):
                    self.dynamic.append(tokens)
                else:
                    bodies.append(_arn_body([(t[1], t[2]) for t in tokens]))
            elif "*" in p or "?" in p:
                bodies.append(_arn_body([(p, True)]))
            else:
                self.exact.add(p)
        self.regex = re.compile("|".join(f"(?:{b})" for b in bodies), re.DOTALL) if bodies else None

    def matches(self, value: str, context) -> bool:
        """True if VALUE matches any pattern (variables resolved from CONTEXT)."""
        if self.match_all or value in self.exact:
            return True
        if self.regex is not None and self.regex.fullmatch(value):
            return True
        for tokens in self.dynamic:
            pieces = resolve_tokens(tokens, context)
            if pieces is not None and arn_regex_from_pieces(pieces).fullmatch(value):
                return True
        return False


class ActionMatcher:
    """Matches action names (``service:Action``) case-insensitively."""

    __slots__ = ("match_all", "exact", "regex")

    def __init__(self, patterns: Iterable[str]):
        self.match_all = False
        self.exact = set()
        bodies = []
        for p in patterns:
            if p == "*":
                self.match_all = True
            elif "*" in p or "?" in p:
                bodies.append(_glob_body(p.lower()))
            else:
                self.exact.add(p.lower())
        self.regex = re.compile("|".join(f"(?:{b})" for b in bodies), re.DOTALL) if bodies else None

    def matches(self, action_lower: str) -> bool:
        """True if the (already lower-cased) action matches any pattern."""
        if self.match_all or action_lower in self.exact:
            return True
        return self.regex is not None and self.regex.fullmatch(action_lower) is not None


def parse_arn(arn: str) -> Optional[Tuple[str, str, str, str, str]]:
    """(partition, service, region, account, resource) of an ARN, or None if not an ARN."""
    try:
        p = _ARNS.parse_arn(arn)
    except (InvalidArnException, TypeError):
        return None
    return p["partition"], p["service"], p["region"], p["account"], p["resource"]
