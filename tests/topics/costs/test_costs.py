"""labkit.topics.costs: the dated price table and the estimate printed before billable resources."""
from types import SimpleNamespace

import pytest

from labkit.topics import costs, sagemaker_domain, scaling, containers_serverless


def _lab(target="aws", region="us-east-1"):
    return SimpleNamespace(target=target, region=region, account_id="111122223333", name="ada")


def test_every_price_is_dated_sourced_and_not_negative():
    assert costs.PRICES_AS_OF and costs.PRICE_REGION == "us-east-1"
    for price in costs.PRICES.values():
        assert price.usd_per_hour >= 0
        assert price.source.startswith("https://aws.amazon.com/")


def test_lesson_05_estimate_adds_up():
    rows, total = costs.estimate(scaling.cost_items(2))
    assert total == pytest.approx(0.0225 + 0.008 + 2 * 0.005 + 2 * 0.0104 + 2 * 0.10 / 730)
    assert ("EC2 instance t3.micro (Linux, on-demand)", 2, pytest.approx(0.0208)) in rows


def test_unknown_resource_is_a_clear_error():
    with pytest.raises(KeyError, match="no price for"):
        costs.estimate({"ec2:p5.48xlarge": 1})


def test_aws_target_prints_estimate_sources_and_removal_command(capsys):
    text = scaling.announce_cost(_lab())
    assert text == capsys.readouterr().out.strip()
    assert "REAL AWS account 111122223333" in text and "$0.062 per hour" in text
    assert "https://aws.amazon.com/ec2/pricing/on-demand/" in text
    assert "scaling.teardown(lab)" in text and "lesson 99" in text


def test_other_regions_are_told_the_figures_are_us_east_1():
    text = containers_serverless.announce_cost(_lab(region="eu-west-1"))
    assert "us-east-1 prices; eu-west-1 differs" in text and "$0.100 per hour" in text


def test_the_emulator_is_free_and_says_what_aws_would_cost():
    text = sagemaker_domain.announce_cost(_lab(target="emulator"))
    assert text.startswith("the SageMaker domain and a JupyterLab app on ml.t3.medium: free here")
    assert "$0.050/hour" in text


def test_rebuilt_end_states_announce_nothing_on_the_emulator(capsys):
    """labkit.start rebuilding lesson 05 for lesson 99 must not repeat 05's cost line."""
    with costs.rebuilding():
        text = scaling.announce_cost(_lab(target="emulator"))
    assert "free here (emulator)" in text and capsys.readouterr().out == ""
    with costs.rebuilding():
        scaling.announce_cost(_lab())
    assert "REAL AWS account" in capsys.readouterr().out, "a real account is always told"


def test_an_announcement_is_not_shown_again_as_the_cells_value():
    text = sagemaker_domain.announce_cost(_lab(target="emulator"))
    assert isinstance(text, str) and text._ipython_display_() is None
