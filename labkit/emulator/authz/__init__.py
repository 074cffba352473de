"""Who may do what in the emulator, decided by labkit.policy as AWS would.

The shared layer; what each service's requests need lives in
labkit.emulator.services.<service>.actions.

- identity.py: the caller behind an access key (root, IAM user, role session) and its policies
- signature.py: SigV4 signatures checked against the caller's secret
- generic.py: query, JSON and REST-JSON requests -> action and resource (delegating per service)
- decide.py: global condition keys (aws:PrincipalTag from the caller's tags), Block Public
  Access, the Decision
- tags.py: aws:RequestTag, aws:TagKeys, aws:ResourceTag of IAM, STS, EC2 and SageMaker requests
- coverage.py: what the emulator cannot decide faithfully (unmapped operations, condition keys
  it does not fill), said in the log and on the Decision
- errors.py: denials shaped like each protocol's errors
- middleware.py: the WSGI layer in front of moto that ties them together
- moto_patches.py: user permissions boundaries in moto's IAM; moto's own bucket-policy check off
"""
from labkit.emulator.authz.middleware import AuthorizationMiddleware

__all__ = ["AuthorizationMiddleware"]
