"""Who may do what in the emulator, decided by labkit.policy as AWS would.

- identity.py: the caller behind an access key (root, IAM user, role session) and its policies
- s3.py: S3 / S3 Control requests -> IAM actions, resources, context, bucket/access point policies
- generic.py: query and JSON services (IAM, STS, EC2, Auto Scaling, ELBv2, CloudWatch, ...)
- sagemaker.py: SageMaker resource ARNs (domain, user profile, space, app, ...)
- decide.py: global condition keys, Block Public Access, the Decision
- errors.py: denials shaped like each service's errors
- simulate.py: IAM SimulatePrincipalPolicy / SimulateCustomPolicy
- middleware.py: the WSGI layer in front of moto that ties them together
- moto_patches.py: user permissions boundaries in moto's IAM
"""
from labkit.emulator.authz.middleware import AuthorizationMiddleware

__all__ = ["AuthorizationMiddleware"]
