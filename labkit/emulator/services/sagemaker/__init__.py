"""SageMaker in the emulator.

- actions.py: the resource ARN a SageMaker request is decided on
- behaviour.py: user profiles, spaces, apps and presigned URLs, which moto lacks
"""

from labkit.emulator.services import Service

SERVICE = Service(("sagemaker",), "json", aws_like=("lifecycle",),
                  host_prefixes=("api.sagemaker", "runtime.sagemaker"))
