"""PolicyError: what AWS reports as MalformedPolicyDocument."""
from __future__ import annotations

from typing import Optional


class PolicyError(ValueError):
    """A policy document AWS would reject (MalformedPolicyDocument).

    The message names the policy, the statement (Sid or index) and the field,
    and says how to fix it. ``policy``, ``statement`` and ``field`` hold the
    same facts for programs.
    """

    def __init__(self, message: str, *, policy: Optional[str] = None,
                 statement: Optional[str] = None, field: Optional[str] = None):
        super().__init__(message)
        self.policy = policy
        self.statement = statement
        self.field = field

    def with_policy(self, name: Optional[str]) -> "PolicyError":
        """The same error, its message prefixed with the policy NAME."""
        if not name or self.policy:
            return self
        err = PolicyError(f"{name}: {self}", policy=name, statement=self.statement, field=self.field)
        return err
