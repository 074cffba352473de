"""The learner's NAME and every resource name derived from it.

All names come from here, so a lesson, a check and the teardown never disagree
about what `demo-landing-zone` is called.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# The longest name we derive is an access point, "NAME-landing-zone-access", and
# access point names are at most 50 characters: that leaves 30 for NAME.
MAX_LENGTH = 50 - len("-landing-zone-access")
MIN_LENGTH = 2
EXAMPLE = "ada-lovelace"
_FORBIDDEN_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_FORBIDDEN_SUFFIXES = ("-s3alias", "--ol-s3", "--x-s3", "--table-s3")


def validate_name(name: object) -> str:
    """Return NAME if it makes valid S3 bucket, access point and IAM user names.

    Raises ValueError saying which rule failed and showing a valid example.
    """
    def bad(rule: str) -> ValueError:
        return ValueError(
            f"NAME {name!r} cannot be used: {rule}. Every bucket, access point and IAM "
            f"user in the course is named after it, so it must follow S3 and IAM naming "
            f"rules. Try something like NAME = {EXAMPLE!r}."
        )

    if not isinstance(name, str):
        raise bad(f"it must be a string, not {type(name).__name__}")
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH:
        raise bad(f"it must be {MIN_LENGTH} to {MAX_LENGTH} characters long (it has {len(name)})")
    if name != name.lower():
        raise bad("S3 bucket names allow lower-case letters only")
    if not re.fullmatch(r"[a-z0-9-]+", name):
        raise bad("only lower-case letters, digits and hyphens are allowed "
                  "(no spaces, underscores or dots)")
    if not (name[0].isalnum() and name[-1].isalnum()):
        raise bad("it must begin and end with a letter or a digit")
    if any(name.startswith(p) for p in _FORBIDDEN_PREFIXES):
        raise bad(f"S3 reserves names starting with {_FORBIDDEN_PREFIXES}")
    if any(name.endswith(s) for s in _FORBIDDEN_SUFFIXES):
        raise bad(f"S3 reserves names ending with {_FORBIDDEN_SUFFIXES}")
    return name


@dataclass(frozen=True)
class Names:
    """Resource names for one learner. Build with ``Names.for_learner(NAME)``."""

    name: str

    @classmethod
    def for_learner(cls, name: str) -> "Names":
        return cls(validate_name(name))

    # IAM users (also the lab-local CLI profile names) and groups
    @property
    def admin_user(self) -> str:
        return f"admin-{self.name}"

    @property
    def engineer_user(self) -> str:
        return f"engineer-{self.name}"

    @property
    def analyst_user(self) -> str:
        return f"analyst-{self.name}"

    @property
    def users(self) -> tuple[str, str, str]:
        return (self.admin_user, self.engineer_user, self.analyst_user)

    @property
    def admins_group(self) -> str:
        return f"admins-{self.name}"

    @property
    def engineers_group(self) -> str:
        return f"engineers-{self.name}"

    @property
    def analysts_group(self) -> str:
        return f"analysts-{self.name}"

    @property
    def groups(self) -> tuple[str, str, str]:
        return (self.admins_group, self.engineers_group, self.analysts_group)

    # IAM policies (customer managed; the seed's names, suffixed so learners can share an account)
    @property
    def engineer_policy(self) -> str:
        return f"engineer_access-{self.name}"

    @property
    def analyst_policy(self) -> str:
        return f"analyst_access-{self.name}"

    # S3
    @property
    def landing_bucket(self) -> str:
        return f"{self.name}-landing-zone"

    @property
    def analysis_bucket(self) -> str:
        return f"{self.name}-analysis"

    @property
    def buckets(self) -> tuple[str, str]:
        return (self.landing_bucket, self.analysis_bucket)

    @property
    def landing_access_point(self) -> str:
        return f"{self.name}-landing-zone-access"

    @property
    def analysis_access_point(self) -> str:
        return f"{self.name}-analysis-access"

    @property
    def access_points(self) -> tuple[str, str]:
        return (self.landing_access_point, self.analysis_access_point)

    def access_point_of(self, bucket: str) -> str:
        """The lab's access point on BUCKET (lesson 03 makes one per bucket)."""
        return dict(zip(self.buckets, self.access_points))[bucket]

    # SageMaker and EC2
    @property
    def sagemaker_role(self) -> str:
        return f"{self.name}-sagemaker-analyst-role"

    @property
    def sagemaker_domain(self) -> str:
        return f"{self.name}-domain"

    @property
    def prefix(self) -> str:
        """What every EC2/ASG/ELB resource name of this learner starts with."""
        return f"{self.name}-"
