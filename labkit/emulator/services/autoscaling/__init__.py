"""EC2 Auto Scaling in the emulator.

- behaviour.py: zone spread, capacity validation, target tracking, target group sync
"""

from labkit.emulator.services import Service

SERVICE = Service(("autoscaling",), "query", aws_like=("activities",))
