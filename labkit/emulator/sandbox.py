"""The terminal sandbox: ``labkit emulator start|env|status|stop``.

``start`` launches a background process that runs the emulator with the lab
built through a lesson (reference solutions) and records itself in a state
file, ``LABKIT_HOME/NAME/sandbox.json``. ``env`` prints the exports a shell needs,
so ``eval "$(labkit emulator env)"`` followed by
``aws --profile engineer-demo s3 ls s3://demo-analysis/`` works anywhere.
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from labkit import config
from labkit.pids import alive

START_TIMEOUT = 180  # seconds for the background process to build the lab


class SandboxError(RuntimeError):
    """A sandbox command cannot do what was asked; the message says why."""


def state_file(name: str) -> Path:
    return config.labkit_home() / name / "sandbox.json"


def log_file(name: str) -> Path:
    return config.labkit_home() / name / "sandbox.log"


def read_state(name: str) -> dict | None:
    """The running sandbox's state, or None. A stale file (dead process) is removed."""
    path = state_file(name)
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, OSError):
        path.unlink(missing_ok=True)  # half-written or corrupt: nothing runs behind it
        return None
    if not alive(int(state.get("pid", 0))):
        path.unlink(missing_ok=True)
        return None
    return state


def all_states() -> dict[str, dict | None]:
    home = config.labkit_home()
    names = sorted(p.parent.name for p in home.glob("*/sandbox.json")) if home.exists() else []
    return {name: read_state(name) for name in names}


def start(name: str, upto: str | None, aws_like: bool = False) -> tuple[dict, bool]:
    """Start the sandbox for NAME (or find the running one). Returns (state, started_now).

    ``aws_like``: the emulator behaves like a real account (labkit.emulator.aws_like).
    """
    from labkit import course
    from labkit.names import validate_name

    validate_name(name)
    upto = course.normalize(upto) if upto else None
    running = read_state(name)
    if running:
        return running, False
    log = log_file(name)
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "labkit.emulator.sandbox", "--serve", name, upto or ""]
    env = {**os.environ, "LABKIT_AWS_LIKE": "1"} if aws_like else None
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        state = read_state(name)
        if state:
            return state, True
        if process.poll() is not None:
            raise SandboxError(f"the sandbox exited while starting; its log says:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)
    process.terminate()
    raise SandboxError(f"the sandbox did not start within {START_TIMEOUT} s; see {log}")


def stop(name: str) -> bool:
    """Stop NAME's sandbox; False if none was running."""
    state = read_state(name)
    if not state:
        return False
    os.kill(int(state["pid"]), signal.SIGTERM)
    for _ in range(100):
        if not alive(int(state["pid"])):
            break
        time.sleep(0.1)
    state_file(name).unlink(missing_ok=True)
    return True


def exports(state: dict, profile: str | None = None) -> str:
    """Shell lines that point AWS clients at the sandbox."""
    env = dict(state["environ"])
    if profile:
        env["AWS_PROFILE"] = profile
    lines = [f"export {key}={shlex.quote(str(value))}" for key, value in sorted(env.items())
             if key != "PATH"]
    from labkit.target import CREDENTIAL_VARIABLES

    # Real credentials or a profile left in the shell would win over the lab's files.
    lines += [f"unset {key}" for key in CREDENTIAL_VARIABLES if key not in env]
    return "\n".join(lines)


def _serve(name: str, upto: str) -> None:
    """The background process: build the lab, publish the state file, wait for SIGTERM."""
    import labkit
    from labkit import course

    lab = labkit.start(name, lesson="00", verbose=False)
    if upto:
        course.build_through(lab, upto)
    from labkit.emulator import write_attach_file

    attach = write_attach_file(lab.emulator, config.labkit_home() / name / "sandbox-attach.json")
    state = {"pid": os.getpid(), "name": name, "upto": upto, "url": lab.emulator.url,
             "attach_file": str(attach), "aws_like": bool(lab.emulator.describe().get("aws_like")),
             "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "environ": lab.environ,
             "profiles": lab.files.profiles()}
    path = state_file(name)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, path)  # atomic: readers never see half a file

    def finish(*_):
        path.unlink(missing_ok=True)
        attach.unlink(missing_ok=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    print(f"labkit sandbox for {name} serving at {lab.emulator.url}", flush=True)
    while True:
        signal.pause()


if __name__ == "__main__" and sys.argv[1:2] == ["--serve"]:
    _serve(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
