"""`labkit emulator start --aws-like` and LABKIT_AWS_LIKE / LABKIT_AWS_LIKE_DELAY."""
import pytest

from labkit import cli
from labkit.emulator import aws_like, shared_lab


def test_start_passes_aws_like_to_the_shared_lab_and_status_shows_it(monkeypatch, capsys):
    seen = {}
    state = {"pid": 1, "name": "ada", "upto": None, "url": "http://127.0.0.1:1", "aws_like": True,
             "started": "now", "environ": {"AWS_REGION": "us-east-1"}, "profiles": ["default"]}

    def fake_ensure(name, timeout=None, aws_like=False):
        seen.update(name=name, aws_like=aws_like)
        return state, True
    monkeypatch.setattr(shared_lab, "ensure", fake_ensure)
    monkeypatch.setattr(shared_lab, "running", lambda: {"ada": state})
    monkeypatch.setattr(shared_lab, "live_clients", lambda name: [])
    monkeypatch.setattr(shared_lab, "profiles", lambda name: ["default"])
    assert cli.main(["emulator", "start", "--name", "ada", "--aws-like"]) == 0
    assert seen == {"name": "ada", "aws_like": True}
    assert cli.main(["emulator", "start", "--name", "ada"]) == 0
    assert seen["aws_like"] is False
    capsys.readouterr()
    cli.main(["emulator", "status"])
    assert "aws-like" in capsys.readouterr().out


@pytest.mark.parametrize("value,on", [("1", True), ("true", True), ("0", False), ("", False)])
def test_the_environment_switch(monkeypatch, value, on):
    monkeypatch.setattr(aws_like, "_forced", None)
    monkeypatch.setenv(aws_like.SWITCH_VARIABLE, value)
    assert aws_like.enabled() is on


def test_the_delay_defaults_to_a_realistic_eight_seconds_and_bad_values_are_clear(monkeypatch):
    monkeypatch.delenv(aws_like.DELAY_VARIABLE, raising=False)
    assert aws_like.delay() == 8
    monkeypatch.setenv(aws_like.DELAY_VARIABLE, "soon")
    with pytest.raises(aws_like.AwsLikeError, match="LABKIT_AWS_LIKE_DELAY='soon' is not a number"):
        aws_like.delay()


def test_a_bad_delay_stops_the_emulator_start_not_a_request(monkeypatch, tmp_path):
    from labkit.emulator import Emulator

    monkeypatch.setenv(aws_like.DELAY_VARIABLE, "-3")
    with pytest.raises(aws_like.AwsLikeError, match="between 0 and 600"):
        Emulator(tmp_path, aws_like=True).start()
    aws_like.enable(None)
