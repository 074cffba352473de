"""STS in the emulator.

- actions.py: sts:AssumeRole decided on the caller's policies and the role's trust policy
  (and sts:TagSession when session tags are passed)
- behaviour.py: session tags kept on moto's session (they become aws:PrincipalTag)
"""

from labkit.emulator.services import Service

SERVICE = Service(("sts",), "query")
