"""labkit.topics.teardown (lesson 99): everything goes, in order, nothing silently."""
from __future__ import annotations

import pytest

import labkit
from labkit import course
from labkit.topics import teardown
from labkit.checks import lesson99  # noqa: F401  (registers the checks)
from labkit.grading import checks as graded
from labkit import checks
from tests.topics.iam_policies.helpers import build_through_04

graded.load_hidden("99")  # the instructor's hidden checks (instructor/hidden_checks)

NAME = "t-down"
SSH_KEY = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDdBtHhGRJVDc7sRDdxjLmmTkPHKh1TNAjlDU0S2Yo35dOl2JqQ"
           "ftKOoBBRMYOqSnDNMKRGDYZDtTgHbO0H6JHzs0oGRpLmfMEL9Nk1DvRw7yM2Q1a9YhG8EWxWE5mpfbqwzXwQ3Ip"
           "xBq4mwlQiFsCqvpYoa0tXDUfUdG1XsQyxCPxgN1HykkqD6u9ODpGXKJTXi9f3yW7hmVLO6iqNAxlTSKb1kD2"
           "Kq5sTx0L7AqBvs7CYaQzCbOCKpvTmZ7FFPzvEEdOsSYKpPJrzSW5XF5UHqUzR0U5cgvP3ofRfYXNZ1mQMgsBe"
           "hLXRSZRD0bDmdKApBO8pm6iZPB0sqcYHsLyF test@example.com")


@pytest.fixture(scope="module")
def lab():
    return build_through_04(NAME)


def test_topics_come_latest_lesson_first_each_once():
    found = [t.module for t in teardown.topics()]
    assert len(found) == len(set(found))
    order = {m: i for i, m in enumerate(found)}
    for later, earlier in (("labkit.topics.iam_policies", "labkit.topics.access_points"),
                           ("labkit.topics.access_points", "labkit.topics.buckets"), ("labkit.topics.buckets", "labkit.topics.users_and_groups")):
        assert order[later] < order[earlier], found
    assert found[-1] == "labkit.topics.users_and_groups"  # users and groups go last
    iam_topic = next(t for t in teardown.topics() if t.module == "labkit.topics.users_and_groups")
    assert iam_topic.teardown is teardown.teardown_iam  # labkit.topics.users_and_groups has none of its own


def test_missing_module_is_skipped_but_a_broken_import_is_not():
    lessons = (course.Lesson("42", "x", "x.ipynb", "labkit.no_such_module:build"),)
    assert [t.module for t in teardown.topics(lessons)
            if t.module == "labkit.no_such_module"] == []


def test_a_failing_teardown_is_reported_never_swallowed(lab):
    lessons = (course.Lesson("50", "fake", "fake.ipynb", "tests.topics.teardown.fake_topic:build"),)
    report = teardown.teardown_all(lab, lessons)
    assert not report.ok
    assert any("DeleteConflict on thing-x" in p for p in report.problems)
    assert report.leftovers == ["tests.topics.teardown.fake_topic: thing-x"]
    assert "INCOMPLETE" in str(report)
    with pytest.raises(RuntimeError, match="thing-x"):
        report.raise_if_incomplete()


def test_iam_teardown_reports_what_it_cannot_delete(lab, monkeypatch):
    def refuse(iam, user):
        raise RuntimeError(f"DeleteConflict: {user} still has a resource attached")

    monkeypatch.setattr(teardown, "remove_user", refuse)
    problems = teardown.teardown_iam(lab)
    assert len(problems) >= 3 and all("DeleteConflict" in p for p in problems)
    monkeypatch.undo()
    assert teardown.leftovers_iam(lab)  # the users are still there


def test_teardown_all_removes_everything_then_runs_clean_again(lab):
    extra = lab.client("iam")
    # A learner's extra bits that block deletion unless removed first.
    extra.put_user_policy(UserName=lab.names.analyst_user, PolicyName="scratch",
                          PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                                         '"Action":"s3:ListAllMyBuckets","Resource":"*"}]}')
    extra.create_login_profile(UserName=lab.names.engineer_user, Password="Lab-Passw0rd!x")
    extra.upload_ssh_public_key(UserName=lab.names.engineer_user, SSHPublicKeyBody=SSH_KEY)
    mfa = extra.create_virtual_mfa_device(VirtualMFADeviceName=f"mfa-{NAME}")
    serial = mfa["VirtualMFADevice"]["SerialNumber"]
    extra.enable_mfa_device(UserName=lab.names.admin_user, SerialNumber=serial,
                            AuthenticationCode1="123456", AuthenticationCode2="654321")
    assert checks.run(lab, "99.nothing-left").passed is False
    report = teardown.teardown_all(lab)
    assert report.ok, str(report)
    assert all(not (r.problems or r.leftovers or r.second) for r in report.results)
    assert lab.names.engineer_user not in lab.files.profiles()
    devices = extra.list_virtual_mfa_devices()["VirtualMFADevices"]
    assert serial not in {d["SerialNumber"] for d in devices}
    again = teardown.teardown_all(lab)
    assert again.ok, str(again)
    for check_id in ("99.nothing-left", "99.profiles-removed"):
        result = checks.run(lab, check_id)
        assert result.passed, str(result)
    stray = f"stray-{lab.name}"
    extra.create_user(UserName=stray)
    try:
        result = checks.run(lab, "99.no-stray-resources")
        assert not result.passed and f"user {stray}" in result.message
    finally:
        extra.delete_user(UserName=stray)
    assert checks.run(lab, "99.no-stray-resources").passed
    table = report.table()
    assert list(table.columns) == ["lesson", "module", "could not remove", "left",
                                   "second pass problems"]


def test_build_teardown_only_refuses_a_real_account(lab, monkeypatch):
    monkeypatch.setattr(lab, "target", "aws")
    with pytest.raises(RuntimeError, match="emulator only"):
        teardown.build_teardown_only(lab)
