import pytest

from labkit.names import MAX_LENGTH, Names, validate_name


@pytest.mark.parametrize("name", ["demo", "ada-lovelace", "x1", "a" * MAX_LENGTH, "team-7"])
def test_valid_names(name):
    assert validate_name(name) == name


@pytest.mark.parametrize("name, rule", [
    ("Demo", "lower-case"),
    ("my_name", "hyphens"),
    ("my.name", "hyphens"),
    ("my name", "hyphens"),
    ("-demo", "begin and end"),
    ("demo-", "begin and end"),
    ("a", "2 to 30"),
    ("a" * (MAX_LENGTH + 1), "2 to 30"),
    ("xn--demo", "reserves"),
    ("sthree-x", "reserves"),
    ("demo-s3alias", "reserves"),
    (42, "string"),
])
def test_invalid_names_say_which_rule_and_show_an_example(name, rule):
    with pytest.raises(ValueError) as info:
        validate_name(name)
    assert rule in str(info.value)
    assert "ada-lovelace" in str(info.value)


def test_derived_names_fit_aws_limits():
    n = Names.for_learner("a" * MAX_LENGTH)
    assert len(n.landing_access_point) <= 50  # access point names
    assert all(3 <= len(b) <= 63 for b in n.buckets)
    assert all(len(u) <= 64 for u in n.users)


def test_derived_names_follow_the_outline():
    n = Names.for_learner("demo")
    assert n.users == ("admin-demo", "engineer-demo", "analyst-demo")
    assert n.buckets == ("demo-landing-zone", "demo-analysis")
    assert n.access_points == ("demo-landing-zone-access", "demo-analysis-access")


def test_each_bucket_has_its_own_access_point():
    n = Names.for_learner("demo")
    assert n.access_point_of("demo-landing-zone") == "demo-landing-zone-access"
    assert n.access_point_of("demo-analysis") == "demo-analysis-access"
    with pytest.raises(KeyError):
        n.access_point_of("someone-elses-bucket")
