"""AWS KMS over moto's KMS store: key policies, IAM delegation, grants, key states.

- ``actions.py``: a KMS request -> the permissions it needs (action, key, context);
- ``access.py``: the decision for one permission on one key, as KMS makes it;
- ``gateway.py``: the KMS API as the authorization layer serves it;
- ``s3.py``: the KMS calls S3 makes for SSE-KMS reads and writes;
- ``behaviour.py``: moto patches; ``errors.py``: KMS's own errors.
"""

from labkit.emulator.services import Service

SERVICE = Service(("kms",), "json")
