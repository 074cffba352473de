"""awslambda: aws-like lifecycle over moto (see labkit.emulator.aws_like)."""

from labkit.emulator.services import Service

SERVICE = Service(("lambda",), "rest-json", aws_like=("lifecycle",))
