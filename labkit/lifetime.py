"""Who holds a lab, and every lab process of this user (psutil).

A shared lab (labkit.emulator.shared_lab) lives while something uses it: a kernel attached
to it, or a holder: the shell that ran ``labkit emulator start`` or ``env`` (a terminal,
a script), or a JupyterLab server above a kernel or a terminal. This module finds
those processes, tells a live one from a later process that reuses its pid, and lists
the lab processes of the user wherever their LABKIT_HOME is (even removed).
"""
from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

_SHELLS = {"bash", "sh", "dash", "zsh", "fish", "ksh"}
_SERVER_PROGRAMS = {"jupyter-lab", "jupyter-server", "jupyter-notebook"}
_SERVER_MODULES = {"jupyterlab", "jupyter_server", "notebook"}
SERVE_MARK = "labkit.emulator.shared_lab"


def started_at(pid: int) -> str:
    """Process PID's start time as text ("" when it cannot be read)."""
    try:
        return repr(psutil.Process(pid).create_time())
    except psutil.Error:
        return ""


def same_process(pid: int, recorded: str) -> bool:
    """True when PID is alive (not a zombie) and, if ``recorded`` says when it started,
    still the process that started then (not a later one given the same pid)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return not recorded.strip() or repr(process.create_time()) == recorded.strip()
    except psutil.Error:
        return False


def is_jupyter_server(argv: list[str]) -> bool:
    """argv of a JupyterLab / Jupyter server (not of a test run naming tests/jupyterlab)."""
    head = argv[:3]
    if {os.path.basename(a) for a in head} & _SERVER_PROGRAMS:
        return True
    if "-m" in head[:-1]:
        return argv[argv.index("-m") + 1] in _SERVER_MODULES
    return False


def holders_of(pid: int, shell: bool = True) -> list[int]:
    """What holds a lab used by process PID: the shell that started PID (``shell``) and
    the nearest Jupyter server above PID."""
    try:
        process = psutil.Process(pid)
        ancestors = process.parents()
    except psutil.Error:
        return []
    holders = []
    if shell and ancestors:
        holders.append(_calling_shell(ancestors).pid)
    for ancestor in ancestors:
        with contextlib.suppress(psutil.Error):
            if is_jupyter_server(ancestor.cmdline()):
                holders.append(ancestor.pid)
                break
    return list(dict.fromkeys(holders))


def _calling_shell(ancestors: list[psutil.Process]) -> psutil.Process:
    """The parent, or, when the parent is a subshell of the same shell (a `$(...)` bash did
    not exec away), the shell above it: the subshell ends with the command."""
    parent = ancestors[0]
    with contextlib.suppress(psutil.Error, IndexError):
        if parent.name() in _SHELLS and ancestors[1].name() == parent.name():
            return ancestors[1]
    return parent


@dataclass
class LabProcess:
    """A running lab of this user, wherever its LABKIT_HOME is."""

    pid: int
    name: str
    home: Path
    home_exists: bool
    started: float  # time.time() of its start
    rss: int        # bytes of memory, its children included

    @property
    def age(self) -> str:
        seconds = int(time.time() - self.started)
        hours, rest = divmod(seconds, 3600)
        return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"

    @property
    def memory(self) -> str:
        return f"{self.rss / 1024 ** 2:.0f} MB"


def lab_processes() -> list[LabProcess]:
    """Every lab process (``python -m labkit.emulator.shared_lab --serve NAME``) of this user."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "uids", "create_time"]):
        info = process.info
        argv = info.get("cmdline") or []
        if not _is_serve(argv) or (info.get("uids") and info["uids"].real != os.getuid()):
            continue
        with contextlib.suppress(psutil.Error):
            found.append(_describe(process, argv))
    return sorted(found, key=lambda lab: lab.started)


def _is_serve(argv: list[str]) -> bool:
    return SERVE_MARK in argv and "--serve" in argv and argv.index("--serve") + 1 < len(argv)


def _describe(process: psutil.Process, argv: list[str]) -> LabProcess:
    # A lab runs in LABKIT_HOME/NAME; Linux shows a removed folder as "PATH (deleted)".
    cwd = os.readlink(f"/proc/{process.pid}/cwd") if os.path.exists("/proc") else process.cwd()
    removed = cwd.endswith(" (deleted)")
    folder = Path(cwd.removesuffix(" (deleted)"))
    rss = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            rss += child.memory_info().rss
    return LabProcess(process.pid, argv[argv.index("--serve") + 1], folder.parent,
                      not removed and folder.is_dir(), process.create_time(), rss)


def stop_processes(labs: list[LabProcess], wait: float = 5.0) -> list[LabProcess]:
    """SIGTERM each lab (it cleans up its state), SIGKILL what is left after ``wait`` s."""
    processes = []
    for lab in labs:
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(lab.pid)
            if repr(process.create_time()) == repr(lab.started):
                process.send_signal(signal.SIGTERM)
                processes.append(process)
    _, lingering = psutil.wait_procs(processes, timeout=wait)
    for process in lingering:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(lingering, timeout=wait)
    stopped = {p.pid for p in processes}
    return [lab for lab in labs if lab.pid in stopped]
