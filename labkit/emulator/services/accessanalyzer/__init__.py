"""IAM Access Analyzer's policy checks, answered by labkit (moto has no Access Analyzer).

``actions.py`` maps a request to its operation and IAM action; ``gateway.py``
answers CheckAccessNotGranted, CheckNoNewAccess, CheckNoPublicAccess (decided by
labkit.policy.analyze, z3) and ValidatePolicy (labkit.policy.lint plus the Service
Authorization Reference), in the REST-JSON shapes botocore's model parses.
"""

from labkit.emulator.services import Service

SERVICE = Service(("access-analyzer",), "rest-json", botocore_name="accessanalyzer")
