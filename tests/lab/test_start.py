"""labkit.start(): target choice, safety, idempotence, lab-local files."""
import os
from pathlib import Path

import pytest

import labkit
from labkit import course, target
from labkit.emulator import ensure_running


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    """Snapshot os.environ (start() edits it) and give the test a fake HOME with ~/.aws."""
    saved = dict(os.environ)
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIAREALLEARNERKEY00\naws_secret_access_key = real\n")
    monkeypatch.setenv("HOME", str(home))
    yield home
    os.environ.clear()
    os.environ.update(saved)


def test_bad_name_fails_before_anything_is_created(clean_env):
    home = Path(os.environ["LABKIT_HOME"])
    before = set(home.rglob("*")) if home.exists() else set()
    with pytest.raises(ValueError, match="lower-case"):
        labkit.start("Not_Valid", lesson="01")
    after = set(home.rglob("*")) if home.exists() else set()
    assert after == before


def test_unknown_lesson_is_a_clear_error(clean_env):
    with pytest.raises(ValueError, match="lessons are 00, 01"):
        labkit.start("demo", lesson="42")


def test_emulator_mode_ignores_real_credentials_and_leaves_home_aws_alone(clean_env):
    os.environ["AWS_ACCESS_KEY_ID"] = "AKIAREALLEARNERKEY00"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "real-secret"
    os.environ["AWS_PROFILE"] = "my-real-profile"
    creds = clean_env / ".aws" / "credentials"
    before = (creds.read_text(), creds.stat().st_mtime_ns)
    lab = labkit.start("safe", lesson="00", verbose=False)
    assert "AWS_ACCESS_KEY_ID" not in os.environ and "AWS_PROFILE" not in os.environ
    assert lab.whoami().startswith(f"arn:aws:iam::{lab.account_id}:")  # the lab's root
    assert (creds.read_text(), creds.stat().st_mtime_ns) == before
    assert sorted(p.name for p in (clean_env / ".aws").iterdir()) == ["credentials"]
    assert Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).is_relative_to(os.environ["LABKIT_HOME"])


def test_start_rebuilds_earlier_lessons_and_is_idempotent(clean_env, monkeypatch):
    # Whatever lesson comes after 01, starting it must rebuild 01's users and profiles.
    if len(course.LESSONS) == 2:
        monkeypatch.setattr(course, "LESSONS", course.LESSONS + (course.Lesson("02", "x", "x"),))
    later = next(i for i in course.lesson_ids() if i > "01")
    first = labkit.start("twice", lesson=later, verbose=False)
    second = labkit.start("twice", lesson=later, verbose=False)
    assert second.emulator is first.emulator
    users = {u["UserName"] for u in second.client("iam").list_users()["Users"]}
    assert set(second.names.users) <= users
    assert second.whoami(profile="analyst-twice").endswith(":user/analyst-twice")
    keys = second.client("iam").list_access_keys(UserName="analyst-twice")["AccessKeyMetadata"]
    assert len(keys) == 1  # the second start reused the saved key


def test_aws_target_without_account_refuses_before_any_call(clean_env):
    os.environ.pop("LABKIT_AWS_ACCOUNT", None)
    with pytest.raises(target.TargetError, match="LABKIT_AWS_ACCOUNT"):
        labkit.start("real", lesson="01", target="aws")


def test_aws_target_with_the_wrong_account_refuses(clean_env):
    # The emulator plays STS here: it reports its own account, not the one the learner named.
    emulator = ensure_running()
    os.environ.update(emulator.client_environ())
    os.environ["AWS_ACCESS_KEY_ID"] = emulator.root.access_key_id
    os.environ["AWS_SECRET_ACCESS_KEY"] = emulator.root.secret_access_key
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    os.environ["LABKIT_AWS_ACCOUNT"] = "111122223333"
    with pytest.raises(target.TargetError, match="belong to account 123456789012"):
        labkit.start("real", lesson="01", target="aws")
    assert not (Path(os.environ["LABKIT_HOME"]) / "real").exists()


@pytest.mark.parametrize("value", ["prod", "AWS-prod", "localstack"])
def test_unknown_target_is_refused(value, clean_env):
    with pytest.raises(target.TargetError, match="not a target"):
        target.choose(value)


def test_account_id_must_be_twelve_digits(clean_env, monkeypatch):
    monkeypatch.setenv("LABKIT_AWS_ACCOUNT", "12345")
    with pytest.raises(target.TargetError, match="12-digit"):
        target.expected_account()


def test_a_kernel_attaches_to_an_emulator_running_elsewhere(clean_env, tmp_path):
    """What graders and the terminal sandbox rely on: state lives outside the kernel."""
    import subprocess
    import sys

    from labkit.emulator import Emulator, write_attach_file

    outside = Emulator(tmp_path / "grader-home").start()
    try:
        attach = write_attach_file(outside, tmp_path / "attach.json")
        code = ("import labkit; lab = labkit.start('attach', lesson='00', verbose=False); "
                "lab.client('iam').create_user(UserName='made-in-kernel'); print(lab.emulator.url)")
        env = {**os.environ, "LABKIT_EMULATOR_ATTACH": str(attach)}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == outside.url
        users = outside.client("iam").list_users()["Users"]
        assert "made-in-kernel" in {u["UserName"] for u in users}
    finally:
        outside.stop()


def test_attach_file_that_is_missing_is_a_clear_error(clean_env, tmp_path):
    os.environ["LABKIT_EMULATOR_ATTACH"] = str(tmp_path / "nope.json")
    with pytest.raises(RuntimeError, match="unset it"):
        labkit.start("demo", lesson="00", verbose=False)


@pytest.fixture
def aws_like_account(clean_env, monkeypatch):
    """The emulator, aws-like, playing a real account that LABKIT_AWS_ACCOUNT names."""
    from labkit.emulator import aws_like

    emulator = ensure_running()
    emulator.reset()
    monkeypatch.setenv(aws_like.DELAY_VARIABLE, "1")
    aws_like.enable(True)
    aws_like.install()
    os.environ.update(emulator.client_environ())
    os.environ["AWS_ACCESS_KEY_ID"] = emulator.root.access_key_id
    os.environ["AWS_SECRET_ACCESS_KEY"] = emulator.root.secret_access_key
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    os.environ["LABKIT_AWS_ACCOUNT"] = emulator.account_id
    yield emulator
    aws_like.enable(None)
    emulator.reset()


def test_aws_target_refuses_a_name_whose_buckets_another_account_holds(aws_like_account,
                                                                        tmp_path, monkeypatch):
    """S3 bucket names are global (S3 user guide, "General purpose bucket naming rules"):
    demo-landing-zone is somebody else's. start() says so before creating anything,
    and suggests a NAME whose buckets are free."""
    # A LABKIT_HOME of its own: other tests in this worker may have made labs named demo.
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path / "home"))
    with pytest.raises(ValueError, match="demo-landing-zone belongs to another AWS account") as refused:
        labkit.start("demo", lesson="01", target="aws", verbose=False)
    message = str(refused.value)
    assert "Nothing was created" in message
    suggested = message.split("NAME = '")[1].split("'")[0]
    assert suggested != "demo" and not suggested.startswith("demo-")
    assert not (Path(os.environ["LABKIT_HOME"]) / "demo").exists()
    assert aws_like_account.client("iam").list_users()["Users"] == []
    lab = labkit.start(suggested, lesson="00", target="aws", verbose=False)
    assert lab.target == "aws" and lab.names.landing_bucket == f"{suggested}-landing-zone"


def test_aws_target_accepts_buckets_this_account_already_holds(aws_like_account):
    # A lab that made demo-landing-zone earlier (mode off: the name was free) goes on.
    from labkit.emulator import aws_like

    aws_like.enable(False)
    s3 = aws_like_account.client("s3", region="us-east-1")
    s3.create_bucket(Bucket="demo-landing-zone")
    s3.create_bucket(Bucket="demo-analysis")
    aws_like.enable(True)
    lab = labkit.start("demo", lesson="00", target="aws", verbose=False)
    assert lab.account_id == aws_like_account.account_id
