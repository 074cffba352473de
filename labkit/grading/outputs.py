"""What the grader keeps of a learner's outputs: capped per output, per cell, per notebook.

Why: a kernel can print hundreds of MB without a newline or display large images, and the
grader keeps every output of the notebook it executes (nbclient appends them to the
notebook, then joins a cell's streams). Kept whole, the grader's memory is the learner's
to choose. Here each kernel message is trimmed *as it arrives*, before nbclient stores it:
what is over a cap is dropped (never stored, never joined), counted, and reported in the
row's notes. Whatever the kernel prints, the grader holds at most ``Caps.notebook``
characters of output plus one message in flight, and a message is itself bounded by
``Caps.message`` bytes (ZMQ's MAXMSGSIZE on the grader's sockets: a larger one is refused by
ZMQ before it is read, the kernel's connection reset).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

MIB = 1024 ** 2


@dataclass(frozen=True)
class Caps:
    """Characters of output kept (base64 images count their text)."""

    output: int = 1 * MIB      # one output (a stream message, an image, a traceback)
    cell: int = 4 * MIB        # every output of one cell
    notebook: int = 16 * MIB   # every output of the notebook
    message: int = 64 * MIB    # one kernel message on the wire (ZMQ MAXMSGSIZE), bytes


_OUTPUT_TYPES = ("stream", "display_data", "execute_result", "update_display_data", "error")


@dataclass
class Budget:
    """The caps of one notebook run, and what each cell had dropped."""

    caps: Caps = field(default_factory=Caps)
    kept_total: int = 0
    kept: Counter = field(default_factory=Counter)      # cell index -> characters kept
    dropped: Counter = field(default_factory=Counter)   # cell index -> characters dropped

    def admit(self, msg: dict, cell_index: int) -> bool:
        """Trim ``msg``'s content in place to what the caps allow; False: drop it whole."""
        if msg.get("msg_type") not in _OUTPUT_TYPES:
            return True
        content = msg.get("content")
        if not isinstance(content, dict):
            return False
        room = min(self.caps.output, self.caps.cell - self.kept[cell_index],
                   self.caps.notebook - self.kept_total)
        size = content_size(content)
        if size <= room:
            self._count(cell_index, size, 0)
            return True
        if msg["msg_type"] == "error":  # nbclient must still see the error: keep its name
            kept = _trim_error(content, max(room, 200))
        elif room <= 0:
            self._count(cell_index, 0, size)
            return False
        else:
            kept = _trim(content, room)
        self._count(cell_index, kept, max(0, size - kept))
        return True

    def _count(self, cell_index: int, kept: int, dropped: int) -> None:
        self.kept[cell_index] += kept
        self.kept_total += kept
        self.dropped[cell_index] += dropped

    def notes(self, number_of=lambda index: index + 1) -> list[str]:
        """One note per cell that lost output: the row says how much and under which cap."""
        caps = self.caps
        return [f"cell {number_of(index)}: {dropped:,} characters of output dropped (caps: "
                f"{caps.output / MIB:g} MiB an output, {caps.cell / MIB:g} MiB a cell, "
                f"{caps.notebook / MIB:g} MiB a notebook)"
                for index, dropped in sorted(self.dropped.items()) if dropped]


def content_size(content: dict) -> int:
    """Characters an output message would add to the notebook (text, data, traceback)."""
    size = len(content.get("text", "")) if isinstance(content.get("text"), str) else 0
    data = content.get("data")
    if isinstance(data, dict):
        size += sum(len(v) if isinstance(v, str) else len(str(v)) for v in data.values())
    for key in ("ename", "evalue"):
        size += len(content[key]) if isinstance(content.get(key), str) else 0
    traceback = content.get("traceback")
    if isinstance(traceback, list):
        size += sum(len(line) if isinstance(line, str) else 0 for line in traceback)
    return size


def _trim(content: dict, room: int) -> int:
    """Cut a stream's text, or keep only the data entries that fit (text/plain cut last)."""
    if isinstance(content.get("text"), str):
        content["text"] = content["text"][:room] + "\n[... output over the grader's cap dropped]"
        return room
    data, kept = content.get("data"), 0
    if isinstance(data, dict):
        plain = data.get("text/plain")
        fitting = {}
        for mime, value in data.items():
            length = len(value) if isinstance(value, str) else len(str(value))
            if mime != "text/plain" and kept + length <= room:
                fitting[mime], kept = value, kept + length
        if isinstance(plain, str):
            fitting["text/plain"] = plain[:max(0, room - kept)]
            kept += len(fitting["text/plain"])
        content["data"] = fitting or {"text/plain": "[output over the grader's cap dropped]"}
    return kept


def _trim_error(content: dict, room: int) -> int:
    for key in ("ename", "evalue"):
        if isinstance(content.get(key), str):
            content[key] = content[key][: room // 2]
    content["traceback"] = []  # the grader reports the error's name and first line only
    return len(content.get("ename", "")) + len(content.get("evalue", ""))
