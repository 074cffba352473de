"""elbv2: aws-like lifecycle over moto (see labkit.emulator.aws_like)."""

from labkit.emulator.services import Service

SERVICE = Service(("elasticloadbalancing",), "query", botocore_name="elbv2", aws_like=("lifecycle",))
