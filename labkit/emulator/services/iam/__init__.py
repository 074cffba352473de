"""IAM in the emulator.

- actions.py: the resource ARN an IAM request is decided on (users, groups, roles, policies)
- behaviour.py: AWS managed policies parsed once per process, copied per backend
- simulate.py: SimulatePrincipalPolicy / SimulateCustomPolicy, answered by labkit.policy
"""

from labkit.emulator.services import Service

SERVICE = Service(("iam",), "query", aws_like=("consistency",))
