"""Who may do what in the emulator, decided by labkit.policy as AWS would: the shared layer.

It knows no particular service: what each service's requests need lives in its
folder, labkit.emulator.services.<service>/, found through the registry.

- middleware.py: the request pipeline: parse once, identify once, hand the request to the
  service's gateway or the generic path, record
- call.py: one request on its way (decide, deny, answer, forward, undecided)
- identity.py: the caller behind an access key (root, IAM user, role session) and its policies
- signature.py: SigV4 signatures checked against the caller's secret
- generic.py: query, JSON and REST-JSON requests -> action, resources and context, with each
  service's actions.py
- decide.py: global condition keys, Block Public Access, the Decision, and the record of
  every decision a request needed
- tags.py: aws:RequestTag, aws:TagKeys, aws:ResourceTag of tagged requests
- coverage.py: what the emulator cannot decide faithfully (unmapped operations, condition keys
  it does not fill), said in the log and on the Decision
- errors.py: denials shaped like each protocol's errors
"""
from labkit.emulator.authz.middleware import AuthorizationMiddleware

__all__ = ["AuthorizationMiddleware"]
