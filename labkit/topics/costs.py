"""What the billable parts of the course cost by the hour on a real account.

Before a lesson creates billable resources on the AWS target (load balancer,
instances, SageMaker apps, EKS), it calls :func:`announce`, which prints an
hourly estimate from the small dated price table below and the command that
removes them again. On the emulator nothing is billed; it says so in one line.

The prices are AWS's on-demand **list prices for us-east-1** (N. Virginia), in
USD, as published on the pricing pages named in each row (as of
:data:`PRICES_AS_OF`). Other regions differ by a few percent up to ~30 %: the
estimate says when it shows us-east-1 figures for another region. Taxes, free
tier, data transfer, storage (EBS, EFS, S3, ECR) and per-request charges
(Lambda, load balancer capacity units beyond the first) are left out: they are
small for a lab but not zero. Check the source before relying on a figure.
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass

from labkit import config

#: True while labkit.start rebuilds earlier lessons: on the emulator nothing is billed, and
#: the lesson's own cell announces its cost once; a real account is always told.
_REBUILDING = contextvars.ContextVar("labkit_costs_rebuilding", default=False)


@contextlib.contextmanager
def rebuilding():
    """Announcements of rebuilt end states stay quiet on the emulator."""
    token = _REBUILDING.set(True)
    try:
        yield
    finally:
        _REBUILDING.reset(token)


class Estimate(str):
    """The estimate's text. ``announce`` has printed it already, so a notebook cell ending
    in ``announce_cost(lab)`` does not show it a second time as its Out[] value."""

    def _ipython_display_(self) -> None:
        return None

PRICES_AS_OF = "2025-06"
#: The prices below are us-east-1's, labkit's default region (a test pins it: if the
#: default region ever changes, the table must be redone for it).
PRICE_REGION = config.DEFAULT_REGION


@dataclass(frozen=True)
class Price:
    key: str
    what: str
    usd_per_hour: float
    source: str


PRICES: dict[str, Price] = {p.key: p for p in (
    Price("ec2:t3.micro", "EC2 instance t3.micro (Linux, on-demand)", 0.0104,
          "https://aws.amazon.com/ec2/pricing/on-demand/"),
    Price("elb:alb", "Application Load Balancer (per ALB-hour)", 0.0225,
          "https://aws.amazon.com/elasticloadbalancing/pricing/"),
    Price("elb:lcu", "Application Load Balancer capacity unit (LCU-hour; an idle lab uses ~1)",
          0.008, "https://aws.amazon.com/elasticloadbalancing/pricing/"),
    Price("vpc:public-ipv4", "Public IPv4 address (per address-hour; ALB nodes, instances)", 0.005,
          "https://aws.amazon.com/vpc/pricing/"),
    Price("cloudwatch:alarm", "CloudWatch standard alarm ($0.10 per alarm-month)", 0.10 / 730,
          "https://aws.amazon.com/cloudwatch/pricing/"),
    Price("sagemaker:ml.t3.medium", "SageMaker Studio app on ml.t3.medium (JupyterLab/CodeEditor)",
          0.05, "https://aws.amazon.com/sagemaker/pricing/"),
    Price("sagemaker:domain", "SageMaker domain itself (no charge; its EFS storage is billed per GB)",
          0.0, "https://aws.amazon.com/sagemaker/pricing/"),
    Price("eks:cluster", "EKS cluster, standard support (per cluster-hour)", 0.10,
          "https://aws.amazon.com/eks/pricing/"),
    Price("lambda:idle", "Lambda function at rest (billed per request and GB-second only)", 0.0,
          "https://aws.amazon.com/lambda/pricing/"),
)}


def estimate(items: dict[str, int]) -> tuple[list[tuple[str, int, float]], float]:
    """Rows (what, count, USD per hour) and the total for ITEMS {price key: count}."""
    unknown = [k for k in items if k not in PRICES]
    if unknown:
        raise KeyError(f"no price for {unknown}; known: {sorted(PRICES)}")
    rows = [(PRICES[k].what, n, PRICES[k].usd_per_hour * n) for k, n in items.items() if n]
    return rows, sum(cost for _, _, cost in rows)


def removal_command(lab, topic: str) -> str:
    """The command that removes one topic's resources (lesson 99 removes everything)."""
    return (f"python -c \"import labkit; from labkit.topics import {topic}; "
            f"lab = labkit.start('{lab.name}', lesson='99', rebuild=False); "
            f"print({topic}.teardown(lab) or 'removed')\"   (or run lesson 99)")


def announce(lab, what: str, items: dict[str, int], topic: str) -> str:
    """Print (and return) the hourly estimate for WHAT before it is created, and how to remove it."""
    rows, total = estimate(items)
    if lab.target != "aws":
        text = Estimate(f"{what}: free here (emulator). On AWS this would cost about "
                        f"${total:.3f}/hour ({PRICE_REGION} list prices of {PRICES_AS_OF}).")
        if not _REBUILDING.get():
            print(text)
        return text
    where = ("" if lab.region == PRICE_REGION else
             f" NOTE: these are {PRICE_REGION} prices; {lab.region} differs somewhat.")
    lines = [f"COST on REAL AWS account {lab.account_id}: {what} is billed by the hour while it exists.",
             f"Estimate from AWS's {PRICE_REGION} on-demand list prices as of {PRICES_AS_OF}:{where}"]
    lines += [f"  {n:>2} x {name}: ${cost:.4f}/h" for name, n, cost in rows]
    lines += [f"  total about ${total:.3f} per hour (${total * 24:.2f} per day), plus storage "
              "and requests.",
              f"Sources: {', '.join(sorted({PRICES[k].source for k in items}))}",
              f"Remove it when done: {removal_command(lab, topic)}"]
    text = Estimate("\n".join(lines))
    print(text)
    return text
