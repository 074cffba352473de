"""Amazon SES: requests are signed "email" and decided as ``ses:`` actions."""
from labkit.emulator.services import Service

SERVICE = Service(("email",), "query", iam_prefix="ses", botocore_name="ses")
