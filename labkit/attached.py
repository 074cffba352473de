"""What uses a lab, told apart for `labkit emulator status`: kernels, terminals, JupyterLab.

The lab records only process ids (kernels and JupyterLab terminals as its clients,
shells and JupyterLab servers as its holders); what each process is comes from its
command line.
"""
from __future__ import annotations

import os

import psutil

SHELLS = {"bash", "sh", "zsh", "dash", "fish", "ksh", "tcsh"}


def kind(pid: int) -> str:
    """'kernel', 'terminal', 'JupyterLab' or 'process' (a script calling labkit.start)."""
    try:
        process = psutil.Process(pid)
        command = " ".join(process.cmdline())
        name = process.name()
    except (psutil.Error, OSError):
        return "process"
    if "ipykernel" in command:
        return "kernel"
    if name in SHELLS or os.path.basename(command.split(" ")[0]) in SHELLS:
        return "terminal"
    if "jupyter" in command and ("lab" in command or "server" in command):
        return "JupyterLab"
    return "process"


def summary(pids: list[int]) -> str:
    """'2 kernels, 1 terminal' (nothing: 'nothing')."""
    counts: dict[str, int] = {}
    for pid in sorted(set(pids)):
        counts[kind(pid)] = counts.get(kind(pid), 0) + 1
    if not counts:
        return "nothing"
    order = ("kernel", "terminal", "JupyterLab", "process")
    return ", ".join(f"{counts[k]} {k}{'' if counts[k] == 1 or k == 'JupyterLab' else 's'}"
                     + (" server" if k == "JupyterLab" else "")
                     for k in order if k in counts)
