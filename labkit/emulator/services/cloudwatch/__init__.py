"""CloudWatch in the emulator.

- behaviour.py: alarm evaluation in simulated time, driving Auto Scaling
"""

from labkit.emulator.services import Service

SERVICE = Service(("monitoring",), "query", iam_prefix="cloudwatch", botocore_name="cloudwatch")
