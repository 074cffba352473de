"""One module per lesson topic: the helpers a lesson reuses and its reference end state.

Each module's ``build(lab)`` rebuilds, idempotently, what its lesson leaves
(``labkit.start(NAME, lesson=...)`` runs the builders of earlier lessons), and,
where the topic creates resources, ``teardown(lab)`` / ``leftovers(lab)`` for lesson 99.

| lesson | module |
|---|---|
| 01 | users_and_groups: IAM users, groups, lab-local access keys |
| 02 | buckets: encrypted buckets, Block Public Access, bucket policies, the dataset |
| 03 | access_points: access points, their policies, delegation from the buckets |
| 04 | iam_policies: the engineers' and analysts' IAM policies and the CLI test matrix |
| 05 | scaling: EC2 network, launch template, Auto Scaling group, load balancer, simulated load |
| 06 | sagemaker_domain: execution role, domain, user profiles, space, apps |
| 07 | analyst: working as an analyst through the access point |
| 08 | containers_serverless: ECR, EKS and Lambda, and what offline cannot show |
| 99 | teardown: every topic's teardown in reverse order (cleanup: the step runner) |
"""
