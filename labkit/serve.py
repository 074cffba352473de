"""``make lab`` (``labkit lab``): JupyterLab on the learner's folder, and a clean end.

Learners get their own working folder of student versions (labkit.workspace);
``--solutions`` serves the instructor's full versions in notebooks/ instead. JupyterLab
runs as a child in a process group of its own that this process makes the terminal's
foreground group (as a shell does for a job): Ctrl-C reaches JupyterLab (and this
process, which waits through it), not ``make``, which would otherwise die of it with
``*** [Makefile:NN: lab] Interrupt``. Then the terminal goes back to ``make``'s group,
and this process says which labs stay up (until when, how to stop them) and exits 0.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from labkit import config, workspace


def jupyter_command(root: Path, extra: list[str] = ()) -> list[str]:
    command = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", *extra,
               str(root)]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")  # containers run as root; JupyterLab refuses otherwise
    return command


def choose_root(solutions: bool, folder: str | None) -> Path:
    """The folder to serve, and what the learner should know about it (printed)."""
    if solutions:
        root = config.repo_root() / "notebooks"
        print(f"labkit: serving the instructor's full versions (answers included): {root}")
        return root
    root, added = workspace.prepare(folder)
    print(f"labkit: your lessons are in {root} (your copies: never overwritten, by git pull or "
          "by make lab)." + (f"\n        New here: {', '.join(added)}." if added else ""))
    print("        Stuck? lab.hint(\"02.buckets\", 1..3) in a notebook; the reference version of "
          "a lesson: `labkit solution 02` in a terminal (it lands in solutions/).")
    return root


def run(solutions: bool = False, folder: str | None = None, name: str | None = None,
        jupyter_args: list[str] = ()) -> int:
    root = choose_root(solutions, folder)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config.repo_root() / "jupyter"))
    if name:
        env["LABKIT_NAME"] = name
    # Ctrl-C is for JupyterLab (it asks, or stops on the second); this process outlives it.
    # A SIGTERM (a service manager, a test) is passed on, so JupyterLab shuts down cleanly.
    previous = signal.signal(signal.SIGINT, lambda *_: None)
    terminal = _take_terminal()
    child = subprocess.Popen(jupyter_command(root, list(jupyter_args)), env=env)
    terminated = signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        status = child.wait()
    finally:
        _give_back(terminal)
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, terminated)
    print("\nlabkit: JupyterLab has stopped.")
    for line in labs_left():
        print(line)
    # A Ctrl-C ends JupyterLab by a signal: that is how a learner stops it, not an error.
    return 0 if status <= 0 or status in (130, 143) else status


def _take_terminal() -> tuple[int, int] | None:
    """Become the terminal's foreground process group; (tty fd, the group to give it back
    to), or None without a controlling terminal (then there is no Ctrl-C to route)."""
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        return None
    try:
        previous = os.tcgetpgrp(tty)
        os.setpgid(0, 0)
        _set_foreground(tty, os.getpgrp())
    except OSError:
        os.close(tty)
        return None
    return tty, previous


def _give_back(terminal: tuple[int, int] | None) -> None:
    if terminal is None:
        return
    tty, previous = terminal
    try:
        _set_foreground(tty, previous)
    except OSError:
        pass  # make's group is gone: nobody to give the terminal back to
    finally:
        os.close(tty)


def _set_foreground(tty: int, group: int) -> None:
    # A background group changing the foreground gets SIGTTOU (it would stop us): ignore it.
    old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(tty, group)
    finally:
        signal.signal(signal.SIGTTOU, old)


def labs_left() -> list[str]:
    """What the end of JupyterLab leaves: each running lab, what holds it, how to stop it."""
    from labkit.emulator import shared_lab

    labs = shared_lab.running()
    if not labs:
        return ["        No lab is left running."]
    lines = []
    for lab_name in labs:
        holders = shared_lab.live_holders(lab_name)
        kernels = shared_lab.live_clients(lab_name)
        if holders or kernels:
            until = (f"stays up while {len(holders) + len(kernels)} terminal(s) or kernel(s) "
                     f"outside JupyterLab use it (at most {shared_lab.idle_timeout() / 3600:g} h "
                     "without a request)")
        else:
            until = f"stops within {shared_lab.detach_grace():g} s (nothing holds it now)"
        lines.append(f"        The lab for {lab_name} {until}; stop it now with: "
                     f"labkit emulator stop --name {lab_name}")
    if len(labs) > 1:
        lines.append("        Every lab of yours at once: labkit emulator stop --all")
    return lines
