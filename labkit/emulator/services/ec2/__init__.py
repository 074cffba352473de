"""ec2: aws-like lifecycle over moto (see labkit.emulator.aws_like)."""

from labkit.emulator.services import Service

SERVICE = Service(("ec2",), "query", aws_like=("lifecycle",))
