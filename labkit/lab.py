"""``labkit.start()``: the first code cell of every lesson, and the Lab it returns."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from labkit import checks, config, course, netguard
from labkit.checks import exercises, render
from labkit.pids import alive
from labkit import target as targets
from labkit.credentials import LabFiles, mask
from labkit.names import Names
from labkit.outcomes import ALLOW, DENY, ERROR

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
    #: True when this is the learner's shared lab (kernels and terminals alike).
    shared: bool = False
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
        """Run an `aws ...` shell command (pipes allowed) as ``profile``.

        On the emulator, a plain ``aws ARGS`` (or ``echo WORD | aws ARGS``) runs the AWS
        CLI's own code in this process: the same driver, files and answers, without the
        second or more a new `aws` process costs. Anything else goes to bash.
        """
        simple = _simple_cli(command) if self.target == targets.EMULATOR else None
        if simple is not None:
            returncode, stdout, stderr = _cli_in_process(*simple, profile=profile)
            return CliResult(command, profile, returncode, stdout, stderr)
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

    # --- the audit trail (lesson 10) --------------------------------------------
    def trail(self, **filters):
        """Every request this lab's AWS served, as a pandas DataFrame (time, caller,
        action, resource, outcome, error, reason, ...); see labkit.topics.audit.trail."""
        from labkit.topics import audit

        return audit.trail(self, **filters)

    # --- checks ----------------------------------------------------------------
    def check(self, check_id: str) -> None:
        """Run a check: prints a tick, or fails the cell with what is wrong and a hint."""
        checks.require(self, check_id)

    def hint(self, check_id: str, level: int = 1) -> None:
        """Print hint ``level`` of a check: 1 what to look at, 2 where in the AWS
        documentation, 3 the reference (asked for, never shown by itself)."""
        print(render.hint_text(check_id, level, checks.hint(check_id, level)))

    def banner(self, lesson: str) -> str:
        where = ("the embedded emulator (offline, nothing leaves this machine)"
                 if self.target == targets.EMULATOR else f"REAL AWS account {self.account_id}")
        text = (f"labkit lesson {lesson} for NAME={self.name!r}: {where}, region {self.region}.\n"
                f"Lab-local AWS files: {self.files.folder} (your ~/.aws is not used).")
        if self.shared:
            text += (f"\nThis lab is shared by your notebooks and terminals; in a terminal: "
                     f'eval "$(labkit emulator env --name {self.name})"')
        return text


_SHELL_OPERATORS = {"|", "||", "&", "&&", ";", ";;", ">", ">>", "<", "<<", "(", ")", ">&", "<&"}
_SHELL_EXPANSIONS = set("$`*?~{}[]!\\")


def _simple_cli(command: str) -> tuple[list[str], bytes] | None:
    """(aws arguments, stdin) for ``aws ARGS`` or ``echo WORDS | aws ARGS``; None when the
    shell would do more (expansions, redirections, other programs)."""
    import shlex

    if any(ch in _SHELL_EXPANSIONS for ch in command) or "\n" in command:
        return None
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return None  # unbalanced quotes: let bash say so
    stdin = b""
    if tokens[:1] == ["echo"] and "|" in tokens:
        bar = tokens.index("|")
        words = tokens[1:bar]
        if not words or any(w.startswith("-") or w in _SHELL_OPERATORS for w in words):
            return None
        stdin, tokens = (" ".join(words) + "\n").encode(), tokens[bar + 1:]
    if tokens[:1] != ["aws"] or any(t in _SHELL_OPERATORS for t in tokens):
        return None
    return tokens[1:], stdin


_CLI_LOADER = []


def _share_model_loader(session) -> None:
    """One botocore model loader for every in-process CLI run: a fresh session would
    parse the same JSON service models (~0.3 s for S3's) again on every command."""
    if _CLI_LOADER:
        session.register_component("data_loader", _CLI_LOADER[0])
    else:
        _CLI_LOADER.append(session.get_component("data_loader"))


def _cli_in_process(args: list[str], stdin: bytes, profile: str | None) -> tuple[int, str, str]:
    """Run the AWS CLI's driver here on ARGS: (exit status, stdout, stderr), as a process."""
    import contextlib
    import io

    from awscli.clidriver import create_clidriver

    out, err = io.BytesIO(), io.BytesIO()
    streams = {"stdin": io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"),
               "stdout": io.TextIOWrapper(out, encoding="utf-8", write_through=True),
               "stderr": io.TextIOWrapper(err, encoding="utf-8", errors="replace",
                                          write_through=True)}
    saved = {name: getattr(sys, name) for name in streams}
    saved_profile = os.environ.get("AWS_PROFILE")
    try:
        if profile:
            os.environ["AWS_PROFILE"] = profile
        for name, stream in streams.items():
            setattr(sys, name, stream)
        driver = create_clidriver()
        _share_model_loader(driver.session)
        try:
            status = driver.main(list(args))
        except SystemExit as exc:  # argparse's usage errors exit, as `aws` would
            status = exc.code if isinstance(exc.code, int) else 1
    finally:
        for name, stream in saved.items():
            setattr(sys, name, stream)
        with contextlib.suppress(Exception):
            streams["stdout"].flush(), streams["stderr"].flush()
        if saved_profile is None:
            os.environ.pop("AWS_PROFILE", None)
        else:
            os.environ["AWS_PROFILE"] = saved_profile
    return int(status or 0), out.getvalue().decode("utf-8", "replace"), \
        err.getvalue().decode("utf-8", "replace")


def start(name: str = "demo", lesson: str | int = "00", *, target: str | None = None,
          rebuild: bool = True, verbose: bool = True) -> Lab:
    """Set up the lab for NAME and rebuild what the lessons before ``lesson`` leave.

    Validates NAME and the target before anything is created; idempotent, so a
    cell that calls it can run again.
    """
    names = Names.for_learner(name)
    lesson = course.normalize(lesson)
    netguard.install_if_requested()
    exercises.install()  # an unfilled exercise names itself instead of a traceback
    chosen = targets.choose(target)
    lab = _start_emulator(names, verbose) if chosen == targets.EMULATOR else _start_aws(names)
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


def _start_emulator(names: Names, verbose: bool = True) -> Lab:
    from labkit.emulator import attached_from_environment, ensure_running, shared_lab

    # Real credentials and profiles go first: even importing moto reads the AWS
    # environment, and a profile that only exists in ~/.aws would break it.
    targets.scrub_environment(os.environ)
    # A grader (or make run) runs the emulator outside this kernel, with private files.
    emulator = attached_from_environment()
    if emulator is None and shared_lab.shared_enabled():
        return _attach_shared(names, verbose)
    emulator = emulator or ensure_running(config.labkit_home())
    folder = config.labkit_home() / names.name / f"emulator-{os.getpid()}"
    _remove_stale_folders(folder.parent)
    return _lab_on(names, emulator, LabFiles(folder / "aws"))


def _attach_shared(names: Names, verbose: bool = True) -> Lab:
    """The learner's one lab (started in the background if none runs), shared by every
    kernel and terminal of NAME: the same account and the same lab-local profiles."""
    from labkit.emulator import shared_lab

    state, started = shared_lab.ensure(names.name)
    shared_lab.register_client(names.name)
    # Under JupyterLab the server holds the lab between kernels (closing a notebook, a
    # restart); under papermill, nbclient or a script nothing does: it ends with the run.
    shared_lab.register_holders(names.name, shell=False)
    if started and verbose:
        print(f"Started the lab for {names.name} in the background (pid {state['pid']}); "
              f"other notebooks and terminals share it.")
    lab = _lab_on(names, shared_lab.attach(state), LabFiles(shared_lab.files_folder(names.name)))
    lab.shared = True
    return lab


def _lab_on(names: Names, emulator, files: LabFiles) -> Lab:
    region = config.region()
    root = emulator.root
    if files.access_key_id("default") != root.access_key_id:
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
