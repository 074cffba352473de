"""One lab per learner NAME on a machine, shared like one AWS account.

The lab is a background process (``python -m labkit.emulator.shared_lab --serve``)
running the emulator. Every notebook kernel of that learner attaches to it
(``labkit.start`` starts it first if needed), and so does a terminal after
``eval "$(labkit emulator env --name NAME)"``: one account, one set of
lab-local profiles, whatever process makes the call. Its state survives kernel
restarts (the next kernel attaches within the detach grace).

How long it lives (the README's "What keeps running"): while a kernel is attached;
while a holder lives (the shell that ran ``labkit emulator start`` or ``env``, a
JupyterLab server above a kernel or terminal), until DEFAULT_IDLE_TIMEOUT without a
request; with neither, DEFAULT_DETACH_GRACE seconds, so a papermill, nbclient or nbval
run, or a script, gets a lab that ends with it. A lab whose folder is removed stops at
once; ``labkit emulator stop [--all]`` ends labs at any time.

Everything lives in ``LABKIT_HOME/NAME/``:

* ``state.json``: the state (pid, URL, the client environment), written once
  the lab answers; a file whose process is gone, is no lab, or no longer answers
  is stale and removed by :func:`read_state`;
* ``attach.json``: what a kernel needs to attach (mode 0600: holds the
  lab root's secret);
* ``aws/config`` and ``aws/credentials``: the lab-local profiles every process shares;
* ``clients/PID``: kernels using it now (the lab does not stop while one lives);
* ``holders/PID``: shells and JupyterLab servers holding it (it stops when idle);
* ``lab.log``, ``lab.lock``.

``make run``, the tests and regrading keep their own labs: they set
``LABKIT_SHARED_LAB=0`` (a private emulator per kernel, or the grader's, attached
with LABKIT_EMULATOR_ATTACH) and their own LABKIT_HOME.
"""
from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from labkit import config
from labkit.files import private_folder, write_private
from labkit.pids import alive, command_line

START_TIMEOUT = 180  # seconds for the background process to answer
#: Seconds without a request and without a live attached kernel before a lab stops.
DEFAULT_IDLE_TIMEOUT = 2 * 3600
#: Seconds a lab that nothing uses or holds keeps serving: long enough for the next kernel
#: of the same run (a kernel restart, the next notebook) to attach, short enough that a
#: loop of papermill runs leaves nothing behind.
DEFAULT_DETACH_GRACE = 10.0
SHARED_VARIABLE = "LABKIT_SHARED_LAB"
IDLE_VARIABLE = "LABKIT_LAB_IDLE_TIMEOUT"
GRACE_VARIABLE = "LABKIT_LAB_DETACH_GRACE"
_SERVE_MARK = "labkit.emulator.shared_lab"


class SandboxError(RuntimeError):
    """A shared-lab command cannot do what was asked; the message says why."""


def shared_enabled() -> bool:
    """True unless LABKIT_SHARED_LAB=0 (make run, tests, regrading: private labs)."""
    return os.environ.get(SHARED_VARIABLE, "1").strip() not in ("0", "false", "no", "off")


def idle_timeout() -> float:
    return _seconds_from(IDLE_VARIABLE, DEFAULT_IDLE_TIMEOUT, 3600)


def detach_grace() -> float:
    return _seconds_from(GRACE_VARIABLE, DEFAULT_DETACH_GRACE, 30)


def _seconds_from(variable: str, default: float, example: int) -> float:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SandboxError(f"{variable}={raw!r} is not a number of seconds "
                           f"(e.g. {variable}={example})") from None
    if value <= 0:
        raise SandboxError(f"{variable} must be more than 0 seconds, not {raw}")
    return value


# --- where things live ------------------------------------------------------------
def lab_dir(name: str) -> Path:
    return config.labkit_home() / name


def state_file(name: str) -> Path:
    return lab_dir(name) / "state.json"


def log_file(name: str) -> Path:
    return lab_dir(name) / "lab.log"


def attach_file(name: str) -> Path:
    return lab_dir(name) / "attach.json"


def files_folder(name: str) -> Path:
    """The lab-local AWS files every process of the lab shares."""
    return lab_dir(name) / "aws"


def _clients_dir(name: str) -> Path:
    return lab_dir(name) / "clients"


def _holders_dir(name: str) -> Path:
    return lab_dir(name) / "holders"


# --- is it running? ----------------------------------------------------------------
def gone(pid: int) -> bool:
    """True when process PID has ended. A lab that ended while its starter still runs is
    that starter's zombie until reaped: reap it if it is ours, and never count a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    return not alive(pid)


def _is_lab_process(pid: int) -> bool:
    """The pid is alive and runs a lab (not another program that reused the pid)."""
    if gone(pid):
        return False
    argv = command_line(pid)
    if argv is None:
        return not gone(pid)  # alive but unreadable (another user's): trust the pid
    return _SERVE_MARK in " ".join(argv) and "--serve" in argv


def _answers(url: str, timeout: float = 2.0) -> bool:
    port = int(url.rsplit(":", 1)[1])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _clean(name: str) -> None:
    for path in (state_file(name), attach_file(name)):
        path.unlink(missing_ok=True)


def read_state(name: str) -> dict | None:
    """The running lab's state, or None. A stale state (the process is gone, is not a
    lab, or no longer answers on its port) is removed, with its attach file."""
    path = state_file(name)
    try:
        state = json.loads(path.read_text())
        pid = int(state["pid"])
        url = state["url"]
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, OSError):
        _clean(name)  # half-written or corrupt: nothing runs behind it
        return None
    if not _is_lab_process(pid) or not _answers(url):
        if _is_lab_process(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)  # a lab that stopped answering: end it
        _clean(name)
        return None
    return state


def running() -> dict[str, dict]:
    """{NAME: state} of every lab running under LABKIT_HOME (stale ones cleaned)."""
    home = config.labkit_home()
    names = sorted(p.parent.name for p in home.glob("*/state.json")) if home.exists() else []
    states = {name: read_state(name) for name in names}
    return {name: state for name, state in states.items() if state}


def resolve(name: str | None) -> str:
    """NAME, or the one running lab's name; several or none: a clear error."""
    if name:
        return name
    labs = running()
    if len(labs) == 1:
        return next(iter(labs))
    if not labs:
        raise SandboxError("No lab is running. Start one with: labkit emulator start "
                           "--name NAME (or run a lesson's labkit.start cell).")
    listing = "\n".join(f"  {n} (pid {s['pid']}, since {s['started']})" for n, s in labs.items())
    raise SandboxError(f"{len(labs)} labs are running; say which with --name NAME:\n{listing}")


# --- start, attach, stop -------------------------------------------------------------
@contextlib.contextmanager
def _locked(name: str):
    """One starter at a time per NAME (two kernels opened together start one lab)."""
    import fcntl

    lock = private_folder(lab_dir(name)) / "lab.lock"
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure(name: str, timeout: float | None = None,
           aws_like: bool = False) -> tuple[dict, bool]:
    """NAME's lab, started in the background if none runs. Returns (state, started_now).

    ``aws_like``: a lab started now behaves like a real account (labkit.emulator.aws_like);
    a lab already running keeps the mode it was started with (``state["aws_like"]``).
    """
    from labkit.names import validate_name

    validate_name(name)
    timeout = idle_timeout() if timeout is None else timeout
    with _locked(name):
        state = read_state(name)
        if state:
            return state, False
        return _launch(name, timeout, aws_like), True


def _launch(name: str, timeout: float, aws_like: bool = False) -> dict:
    log = log_file(name)
    private_folder(log.parent)
    command = [sys.executable, "-m", _SERVE_MARK, "--serve", name, str(timeout)]
    # The lab must not inherit real credentials, nor a private-lab switch meant for a test.
    from labkit.target import scrub_environment

    env = dict(os.environ)
    scrub_environment(env)
    if aws_like:
        env["LABKIT_AWS_LIKE"] = "1"
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   cwd=str(lab_dir(name)))
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        state = read_state(name)
        if state and int(state["pid"]) == process.pid:
            return state
        if process.poll() is not None:
            raise SandboxError(f"the lab for {name} exited while starting; its log "
                               f"({log}) says:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)
    process.terminate()
    raise SandboxError(f"the lab for {name} did not start within {START_TIMEOUT} s; see {log}")


def attach(state: dict):
    """An AttachedEmulator for a running lab's state."""
    from labkit.emulator.server import AttachedEmulator

    try:
        return AttachedEmulator(json.loads(Path(state["attach_file"]).read_text()))
    except (OSError, ValueError, KeyError) as exc:
        raise SandboxError(f"the lab for {state.get('name')} is running but its attach file "
                           f"cannot be read ({exc}); stop it with labkit emulator stop") from None


def register_client(name: str, pid: int | None = None) -> None:
    """Record that process PID (a kernel) uses the lab: it does not stop while PID lives."""
    _register(_clients_dir(name), pid or os.getpid())


def register_holders(name: str, pid: int | None = None, shell: bool = True) -> list[int]:
    """Record what holds the lab used by process PID: the shell that called it (``shell``,
    for `labkit emulator start/env`) and the JupyterLab server above it, if any."""
    from labkit import lifetime

    holders = lifetime.holders_of(pid or os.getpid(), shell)
    for holder in holders:
        _register(_holders_dir(name), holder)
    return holders


def _register(folder: Path, pid: int) -> None:
    # The file holds the process's start time: a later process given the same pid is
    # not mistaken for it.
    from labkit import lifetime

    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(pid)).write_text(lifetime.started_at(pid))


def live_clients(name: str) -> list[int]:
    """Pids of attached kernels still alive (files of the dead are removed)."""
    return _live(_clients_dir(name))


def live_holders(name: str) -> list[int]:
    """Pids of the shells and JupyterLab servers holding the lab, still alive."""
    return _live(_holders_dir(name))


def _live(folder: Path) -> list[int]:
    from labkit import lifetime

    found = []
    for path in folder.glob("*"):
        with contextlib.suppress(OSError):
            if path.name.isdigit() and lifetime.same_process(int(path.name),
                                                             path.read_text()):
                found.append(int(path.name))
                continue
        path.unlink(missing_ok=True)
    return sorted(found)


def stop(name: str) -> bool:
    """Stop NAME's lab; False if none was running."""
    state = read_state(name)
    if not state:
        return False
    pid = int(state["pid"])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if gone(pid):
            break
        time.sleep(0.05)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _clean(name)
    return True


def exports(state: dict, profile: str | None = None) -> str:
    """Shell lines that point AWS clients (the CLI, boto3) at the lab."""
    env = dict(state["environ"])
    if profile:
        env["AWS_PROFILE"] = profile
    lines = [f"export {key}={shlex.quote(str(value))}" for key, value in sorted(env.items())
             if key != "PATH"]
    from labkit.target import CREDENTIAL_VARIABLES

    # Real credentials or a profile left in the shell would win over the lab's files.
    lines += [f"unset {key}" for key in CREDENTIAL_VARIABLES if key not in env]
    return "\n".join(lines)


def profiles(name: str) -> list[str]:
    from labkit.credentials import LabFiles

    return LabFiles(files_folder(name)).profiles()


# --- the background process ----------------------------------------------------------
def _serve(name: str, timeout: float) -> None:
    """Run the emulator, publish the state file, stop on SIGTERM, when idle, when nothing
    holds it (see the module's docstring) or when its folder is removed."""
    import shutil

    from labkit.credentials import LabFiles
    from labkit.emulator.server import Emulator, write_attach_file
    from labkit.target import scrub_environment

    scrub_environment(os.environ)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append("stopped"))
    signal.signal(signal.SIGINT, lambda *_: stopping.append("interrupted"))
    emulator = Emulator(config.labkit_home()).start()
    # A new lab is a new account: keys saved for an earlier one are meaningless.
    shutil.rmtree(files_folder(name), ignore_errors=True)
    shutil.rmtree(_clients_dir(name), ignore_errors=True)
    shutil.rmtree(_holders_dir(name), ignore_errors=True)
    grace = detach_grace()
    files, region = LabFiles(files_folder(name)), config.region()
    files.write_profile("default", emulator.root.access_key_id,
                        emulator.root.secret_access_key, region)
    attach_path = write_attach_file(emulator, attach_file(name))
    environ = {**emulator.client_environ(), **files.environ(), "AWS_DEFAULT_REGION": region,
               "AWS_REGION": region, "LABKIT_NAME": name}
    state = {"pid": os.getpid(), "name": name, "url": emulator.url, "upto": None,
             "attach_file": str(attach_path), "idle_timeout": timeout, "detach_grace": grace,
             "aws_like": bool(emulator.describe().get("aws_like")),
             "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "environ": environ}
    _write_state(name, state)
    print(f"labkit lab for {name} serving at {emulator.url}; stops after {timeout:g} s idle, "
          f"or {grace:g} s after nothing holds it", flush=True)
    watch = _Watch(name, emulator, timeout, grace)
    try:
        while not stopping:
            # Every second: a few stat calls, and a folder removed is noticed at once.
            time.sleep(min(1.0, max(0.2, timeout / 4)))
            reason = watch.why_stop()
            if reason:
                stopping.append(reason)
    finally:
        print(f"labkit lab for {name} stopping: {stopping[0] if stopping else 'error'}",
              flush=True)
        if read_pid(name) == os.getpid():
            _clean(name)
        emulator.stop()


class _Watch:
    """When a serving lab should stop: its folder gone, idle, or held by nothing."""

    def __init__(self, name: str, emulator, timeout: float, grace: float):
        self.name, self.emulator, self.timeout, self.grace = name, emulator, timeout, grace
        self.last_held = time.monotonic()  # the starter attaches within the grace

    def why_stop(self) -> str | None:
        folder = lab_dir(self.name)
        if not folder.is_dir():
            return f"its folder {folder} was removed"
        now = time.monotonic()
        if live_clients(self.name):
            self.last_held = now
            return None
        if live_holders(self.name):
            self.last_held = now
        idle = now - self.emulator.last_request
        if idle >= self.timeout:
            return f"idle for {idle:.0f} s with no kernel attached"
        if now - max(self.last_held, self.emulator.last_request) >= self.grace:
            return (f"nothing held it for {self.grace:g} s (no kernel attached, no shell or "
                    "JupyterLab server holding it)")
        return None


def read_pid(name: str) -> int | None:
    try:
        return int(json.loads(state_file(name).read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_state(name: str, state: dict) -> None:
    write_private(state_file(name), json.dumps(state, indent=2))


def record_upto(name: str, lesson: str) -> None:
    """Note in the state that the lab holds the end state of lessons through LESSON."""
    with _locked(name):
        state = read_state(name)
        if state and (state.get("upto") or "") < lesson:
            _write_state(name, {**state, "upto": lesson})


if __name__ == "__main__" and sys.argv[1:2] == ["--serve"]:
    _serve(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else DEFAULT_IDLE_TIMEOUT)
