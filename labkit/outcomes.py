"""What one attempt came to, as the course prints it: allowed, denied, or failed otherwise.

Shared by the `aws` command runner (labkit.lab), the policy test matrix
(labkit.topics.iam_policies) and the audit trail (labkit.topics.audit).
"""
ALLOW, DENY, ERROR = "ALLOW", "DENY", "ERROR"
