"""S3 and S3 Control in the emulator.

- actions.py: requests -> IAM actions, resources, context (object tags, headers, listings);
  operations that need several actions; bucket and access point policies
- behaviour.py: 2023 bucket defaults, Block Public Access, ACLs disabled, policy status
- access_points.py: access point policies and aliases moto does not apply
- acl.py, public.py: canned and explicit ACLs, and what makes one public
- policy_doc.py, action_names.py: what S3 accepts in a bucket policy (action names from the
  Service Authorization Reference, labkit.policy.service_data)
- errors.py: S3's XML error responses
"""

from labkit.emulator.services import Service

SERVICE = Service(("s3",), "rest-xml", aws_like=("namespace",),
                  host_prefixes=("s3-control", "s3-accesspoint"))
