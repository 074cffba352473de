"""Amazon ECR: repositories are decided on their ARN (``actions.py``)."""
from labkit.emulator.services import Service

SERVICE = Service(("ecr",), "json", host_prefixes=("api.ecr",))
