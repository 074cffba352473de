"""``labkit.start()``: the first code cell of every lesson, and the Lab it returns."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from labkit import checks, config, course, netguard
from labkit.pids import alive
from labkit import target as targets
from labkit.credentials import LabFiles, mask
from labkit.names import Names

ALLOW, DENY, ERROR = "ALLOW", "DENY", "ERROR"
_DENIAL_MARKERS = ("AccessDenied", "UnauthorizedOperation", "(403)", "Forbidden")


@dataclass
class CliResult:
    """What one `aws` command did: its outcome is ALLOW, DENY or ERROR."""

    command: str
    profile: str | None
    returncode: int
    stdout: str
    stderr: str

    @property
    def outcome(self) -> str:
        if self.returncode == 0:
            return ALLOW
        if any(marker in self.stderr for marker in _DENIAL_MARKERS):
            return DENY
        return ERROR

    @property
    def error(self) -> str:
        """The CLI's error line, without the blank lines around it."""
        return self.stderr.strip().splitlines()[-1] if self.stderr.strip() else ""


@dataclass
class Lab:
    """One learner's lab: names, target, profiles, and clients that reach it."""

    names: Names
    target: str
    region: str
    account_id: str
    files: LabFiles
    emulator: object | None = None
    environ: dict = field(default_factory=dict)
    _clients: dict = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.names.name

    # --- clients -------------------------------------------------------------
    def session(self, profile: str | None = None):
        """A boto3 session for ``profile`` (a lab-local profile such as engineer-NAME)."""
        import boto3

        return boto3.session.Session(profile_name=profile, region_name=self.region)

    def client(self, service: str, profile: str | None = None):
        """A boto3 client as ``profile``, cached: building one costs 0.1-0.5 s."""
        key = (service, profile)
        if key not in self._clients:
            self._clients[key] = self.session(profile).client(service)
        return self._clients[key]

    def whoami(self, profile: str | None = None) -> str:
        """The ARN STS reports for ``profile`` (None: the lab's default identity)."""
        return self.client("sts", profile).get_caller_identity()["Arn"]

    def aws(self, command: str, profile: str | None = None, timeout: float = 120) -> CliResult:
        """Run an `aws ...` shell command (pipes allowed) as ``profile``."""
        env = dict(os.environ)
        if profile:
            env["AWS_PROFILE"] = profile
            # Key variables (the AWS target's own identity) would win over AWS_PROFILE.
            for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
                env.pop(key, None)
        done = subprocess.run(["bash", "-c", command], env=env, capture_output=True,
                              text=True, timeout=timeout)
        return CliResult(command, profile, done.returncode, done.stdout, done.stderr)

    # --- profiles --------------------------------------------------------------
    def save_profile(self, profile: str, access_key_id: str, secret_access_key: str) -> None:
        """Keep a user's access key in the lab-local files (like `aws configure --profile`)."""
        self.files.write_profile(profile, access_key_id, secret_access_key, self.region)
        # Clients made for this profile hold the old key.
        for key in [k for k in self._clients if k[1] == profile]:
            del self._clients[key]

    def profiles(self) -> str:
        """The lab-local profiles, secrets masked."""
        return self.files.describe()

    # --- checks ----------------------------------------------------------------
    def check(self, check_id: str) -> None:
        """Run a check: prints a tick, or fails the cell with what is wrong and a hint."""
        checks.require(self, check_id)

    def banner(self, lesson: str) -> str:
        where = ("the embedded emulator (offline, nothing leaves this machine)"
                 if self.target == targets.EMULATOR else f"REAL AWS account {self.account_id}")
        return (f"labkit lesson {lesson} for NAME={self.name!r}: {where}, region {self.region}.\n"
                f"Lab-local AWS files: {self.files.folder} (your ~/.aws is not used).")


def start(name: str = "demo", lesson: str | int = "00", *, target: str | None = None,
          rebuild: bool = True, verbose: bool = True) -> Lab:
    """Set up the lab for NAME and rebuild what the lessons before ``lesson`` leave.

    Validates NAME and the target before anything is created; idempotent, so a
    cell that calls it can run again.
    """
    names = Names.for_learner(name)
    lesson = course.normalize(lesson)
    netguard.install_if_requested()
    chosen = targets.choose(target)
    lab = _start_emulator(names) if chosen == targets.EMULATOR else _start_aws(names)
    if rebuild:
        course.build_upto(lab, lesson)
    if verbose:
        print(lab.banner(lesson))
    return lab


def _apply_environment(env: dict) -> None:
    os.environ.update(env)
    # boto3 caches a default session built from the old environment.
    import boto3

    boto3.DEFAULT_SESSION = None


def _venv_path() -> str:
    # `!aws` in a notebook runs a shell: put this Python's bin (where `aws` is) first.
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    return path if path.split(os.pathsep)[0] == bin_dir else bin_dir + os.pathsep + path


def _start_emulator(names: Names) -> Lab:
    from labkit.emulator import attached_from_environment, ensure_running

    # Real credentials and profiles go first: even importing moto reads the AWS
    # environment, and a profile that only exists in ~/.aws would break it.
    targets.scrub_environment(os.environ)
    # A grader or the terminal sandbox may run the emulator outside this kernel.
    emulator = attached_from_environment() or ensure_running(config.labkit_home())
    folder = config.labkit_home() / names.name / f"emulator-{os.getpid()}"
    _remove_stale_folders(folder.parent)
    files = LabFiles(folder / "aws")
    region = config.region()
    root = emulator.root
    files.write_profile("default", root.access_key_id, root.secret_access_key, region)
    env = {**emulator.client_environ(), **files.environ(), "AWS_DEFAULT_REGION": region,
           "AWS_REGION": region, "PATH": _venv_path(), "LABKIT_NAME": names.name}
    _apply_environment(env)
    return Lab(names, targets.EMULATOR, region, emulator.account_id, files, emulator, env)


def _remove_stale_folders(parent: Path) -> None:
    """Emulator folders of kernels that have exited hold keys nobody can use: remove them."""
    for child in parent.glob("emulator-*"):
        pid = child.name.removeprefix("emulator-")
        if pid.isdigit() and int(pid) != os.getpid() and not alive(int(pid)):
            shutil.rmtree(child, ignore_errors=True)


def _start_aws(names: Names) -> Lab:
    import boto3

    expected = targets.expected_account()  # refuse early if the opt-in is incomplete
    profile = os.environ.get("LABKIT_AWS_PROFILE") or None
    session = boto3.session.Session(profile_name=profile)
    region = os.environ.get("LABKIT_REGION") or session.region_name or config.region()
    reported = session.client("sts", region_name=region).get_caller_identity()["Account"]
    targets.verify_account(reported)
    # Bucket names are global: refuse a NAME whose buckets another account holds.
    from labkit.topics import buckets

    buckets.require_free_names(session.client("s3", region_name=region), names, reported)
    creds = session.get_credentials().get_frozen_credentials()
    files = LabFiles(config.labkit_home() / names.name / f"aws-{expected}")
    # The learner's own identity stays in memory (this process only), never on disk.
    env = {"AWS_ACCESS_KEY_ID": creds.access_key, "AWS_SECRET_ACCESS_KEY": creds.secret_key,
           "AWS_DEFAULT_REGION": region, "AWS_REGION": region, "PATH": _venv_path(),
           "LABKIT_NAME": names.name, **files.environ()}
    if creds.token:
        env["AWS_SESSION_TOKEN"] = creds.token
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(key, None)
    _apply_environment(env)
    print(f"Using REAL AWS account {reported} as key {mask(creds.access_key)}.")
    return Lab(names, targets.AWS, region, reported, files, None, env)
