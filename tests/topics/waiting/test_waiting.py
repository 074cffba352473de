"""labkit.topics.waiting: bounded retries and polling instead of fixed sleeps."""
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from labkit.topics import waiting


def _error(code):
    return ClientError({"Error": {"Code": code, "Message": f"{code} says no"}}, "Call")


class Flaky:
    """Fails with CODE for the first N calls, then returns 'ok'."""

    def __init__(self, code, n):
        self.code, self.n, self.calls = code, n, 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.n:
            raise _error(self.code)
        return "ok"


def test_retry_outlasts_a_new_key(monkeypatch):
    monkeypatch.setattr(waiting.time, "sleep", lambda s: None)
    call = Flaky("InvalidClientTokenId", 3)
    assert waiting.retry(call, waiting.NEW_KEY_CODES, "key", timeout=60) == "ok"
    assert call.calls == 4


def test_retry_does_not_hide_other_errors(monkeypatch):
    monkeypatch.setattr(waiting.time, "sleep", lambda s: None)
    with pytest.raises(ClientError, match="NoSuchBucket"):
        waiting.retry(Flaky("NoSuchBucket", 1), waiting.NEW_KEY_CODES, "key", timeout=60)


def test_retry_is_bounded_and_says_what_it_waited_for():
    with pytest.raises(TimeoutError, match="the policy: still AccessDenied after 1 s"):
        waiting.retry(Flaky("AccessDenied", 10**6), waiting.NEW_POLICY_CODES, "the policy", timeout=1)


def test_no_propagation_means_one_attempt_and_the_error_as_it_is():
    call = Flaky("AccessDenied", 1)
    with pytest.raises(ClientError, match="AccessDenied"):
        waiting.retry(call, waiting.NEW_POLICY_CODES, "x", timeout=0)
    assert call.calls == 1


def test_iam_propagates_on_aws_and_on_an_aws_like_emulator_only(monkeypatch):
    from labkit.emulator import aws_like

    monkeypatch.setattr(aws_like, "_forced", False)
    assert waiting.iam_timeout(SimpleNamespace(target="aws", emulator=None)) == waiting.IAM_TIMEOUT
    assert waiting.iam_timeout(SimpleNamespace(target="emulator", emulator=None)) == 0
    attached = SimpleNamespace(aws_like=True)
    assert waiting.iam_timeout(SimpleNamespace(target="emulator", emulator=attached)) > 0


def test_until_polls_with_backoff_and_is_bounded(monkeypatch):
    pauses = []
    monkeypatch.setattr(waiting.time, "sleep", pauses.append)
    values = iter(["Pending", "Pending", "InService"])
    assert waiting.until(lambda: next(values), lambda v: v == "InService", "domain") == "InService"
    assert pauses == [0.5, 0.8]
    with pytest.raises(TimeoutError, match="domain: still 'Pending'"):
        waiting.until(lambda: "Pending", lambda v: v == "InService", "domain", timeout=0.01)


def test_keys_work_leaves_unsaved_profiles_to_the_lessons_check():
    """A learner who made no key yet must meet the check's hint, not boto3's ProfileNotFound."""
    asked = []
    lab = SimpleNamespace(target="emulator", emulator=None,
                          files=SimpleNamespace(profiles=lambda: ["engineer-ada"]),
                          whoami=lambda profile: asked.append(profile) or f"arn:{profile}")
    assert waiting.keys_work(lab, ["admin-ada", "engineer-ada"]) == {"engineer-ada": "arn:engineer-ada"}
    assert asked == ["engineer-ada"]
