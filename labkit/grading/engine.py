"""Execute learners' notebooks fast and safely: warm single-use kernels, one emulator per worker.

Why it is fast: the papermill CLI spends most of a small notebook's time starting
up (its own imports, a kernel, labkit and moto in that kernel, an emulator). Here
a grader worker starts its emulator once and keeps ONE spare kernel warming up
(labkit and boto3 already imported) while the current submission runs.

Why it is safe: every kernel runs exactly one submission and is then killed, so
no learner's variables, imports or monkeypatches reach the next learner (resetting
a used kernel in place cannot promise that: a learner can patch builtins, leave
threads, or change sys.modules). With a :class:`labkit.grading.sandbox.Sandbox`
every kernel also runs in its own bubblewrap sandbox (namespaces, read-only file
system, rlimits) and reaches the emulator only through its own unix socket. The trade-off is one kernel start per
submission, hidden behind the previous submission's run. The emulator is shared
by the worker's kernels one at a time and ``reset()`` before each submission, so
each learner starts from an empty account. Kernels reach it through attach mode
(LABKIT_EMULATOR_ATTACH): the emulator and the checks live in the grader process,
never in the learner's kernel.
"""
from __future__ import annotations

import contextlib
import functools
import os
import queue
import shutil
import threading
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ENGINE_NAME = "labkit-warm"
#: Imported in a spare kernel before a learner's code runs: what every lesson imports.
WARM_UP = ("import labkit, labkit.lab, labkit.course, labkit.credentials, labkit.netguard, "
           "boto3, botocore.client, botocore.loaders, botocore.session\n"
           "labkit.netguard.install()\n"
           "for _lesson in labkit.course.LESSONS:\n"
           "    _lesson.builder and __import__(_lesson.builder.partition(':')[0])\n"
           # One botocore model loader for every session of this kernel: each lab.client()
           # makes a session, and parsing the service models again costs ~0.1 s a client.
           "_loaders = {}\n"
           "def _shared_loader(search_path_string=None, _create=botocore.loaders.create_loader):\n"
           "    return _loaders.setdefault(search_path_string, _create(search_path_string))\n"
           "botocore.session.create_loader = _shared_loader\n"
           "del _lesson")


_REGISTERED = False


def _register_engine() -> None:
    """Register CapturingEngine with papermill (imported on first use: the batch's parent
    never needs papermill, and importing it costs a second of CPU)."""
    global _REGISTERED
    if _REGISTERED:
        return
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger as papermill_logger

    from papermill.clientwrap import PapermillNotebookClient

    class BoundedClient(PapermillNotebookClient):
        """Each output message trimmed to the caps before nbclient stores it (outputs.py)."""

        labkit_budget = None

        def process_message(self, msg, cell, cell_index):
            if self.labkit_budget is not None and not self.labkit_budget.admit(msg, cell_index):
                return None
            return super().process_message(msg, cell, cell_index)

    class CapturingEngine(NBClientEngine):
        """papermill's nbclient engine that hands back its notebook client.

        papermill returns the executed notebook only on success; a grader also needs
        the partial notebook of a run that raised, timed out or lost its kernel, and
        must close the client's channels itself (nbclient leaves them open on a kernel
        it did not start, and a dead kernel's heartbeat channel then leaks sockets).
        """

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            holder = kwargs.pop("client_holder")
            started = kwargs.pop("cells_started")
            budget = kwargs.pop("output_budget")
            timeout = kwargs.pop("execution_timeout", None)
            start_timeout = kwargs.pop("start_timeout", 60)
            for unused in ("input_path", "timeout", "startup_timeout"):
                kwargs.pop(unused, None)
            client = BoundedClient(nb_man, kernel_name=kernel_name, timeout=timeout,
                                   startup_timeout=start_timeout, log=papermill_logger,
                                   **kwargs)
            client.labkit_budget = budget
            # The first cell starting is the line between the grader's failures (a kernel
            # that never answered kernel_info) and the learner's (anything after).
            client.on_cell_start = lambda **_: started.set()
            holder.append(client)
            return client.execute()

    papermill_engines.register(ENGINE_NAME, CapturingEngine)
    _REGISTERED = True


#: Execution.status when the notebook never started because of the grader (the kernel
#: did not start or answer kernel_info): retried on a fresh kernel, never the learner's.
GRADER_ERROR = "grader-error"
#: Unix socket paths are limited to 107 bytes; ZMQ adds "-N" to the prefix.
_SOCKET_PATH_LIMIT = 100


def ipc_manager(folder: Path, manager_class=None):
    """A kernel manager whose ZMQ channels are unix sockets in FOLDER (created 0700).

    Why not TCP: jupyter_client picks free ports, writes them to the connection file
    and the kernel binds them later; between the two another kernel (or anything) may
    take a port, and the kernel dies with "Address already in use" before replying to
    kernel_info. A socket file in a folder of this kernel's own cannot be taken, and
    nobody else on the machine can connect to it (no unencrypted TCP on loopback).
    """
    from jupyter_client import AsyncKernelManager

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    prefix = str(folder / "zmq")
    if len(prefix) > _SOCKET_PATH_LIMIT:
        raise ValueError(f"the kernel's ipc folder {folder} is too long a path for unix "
                         f"sockets ({len(prefix)} > {_SOCKET_PATH_LIMIT} characters): use a "
                         "shorter scratch folder (TMPDIR)")
    km = (manager_class or AsyncKernelManager)(kernel_name="python3", transport="ipc",
                                               ip=prefix)
    km.connection_file = str(folder / "kernel.json")
    return km


@dataclass
class Execution:
    """How a learner's notebook ran: status is ok, error, timeout, died or grader-error."""

    status: str
    reason: str = ""
    seconds: float = 0.0
    notebook: object | None = None  # the executed (possibly partial) notebook
    notes: list = field(default_factory=list)  # output dropped over the caps, per cell


@dataclass
class WarmKernel:
    """A started kernel, used for one submission only, with its private lab home."""

    km: object
    home: Path
    client: object = None  # the warm-up's shell client, closed by finish_warm_up()
    warm_up_id: str = ""
    started: float = field(default_factory=time.perf_counter)
    gate: object = None   # the sandboxed kernel's emulator socket (KernelGate), or None
    folder: Path | None = None  # everything of this kernel, removed by cleanup()
    ipc: Path | None = None  # a sandboxed kernel's ipc folder (its emulator socket goes there)
    release: object = None  # unmounts a sandboxed kernel's sized folder, after cleanup

    def finish_warm_up(self, timeout: float = 60) -> None:
        """Wait for the warm-up imports (closing the socket earlier would drop them)."""
        if self.client is None:
            return
        from jupyter_core.utils import run_sync

        deadline = time.monotonic() + timeout
        with contextlib.suppress(Exception):  # a kernel that fails here fails in papermill
            # In short slices: a kernel that died at start never replies, and waiting out
            # the whole timeout would only delay its retry.
            while time.monotonic() < deadline and run_sync(self.km.is_alive)():
                with contextlib.suppress(queue.Empty):
                    reply = self.client.get_shell_msg(timeout=1.0)
                    if reply["parent_header"].get("msg_id") == self.warm_up_id:
                        break
        self.client.stop_channels()
        self.client = None

    @property
    def attach_file(self) -> Path:
        return self.home / "attach.json"

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            if self.client is not None:
                self.client.stop_channels()
            from jupyter_core.utils import run_sync

            run_sync(self.km.shutdown_kernel)(now=True)

    def cleanup(self) -> None:
        """After the checks ran: close the kernel's emulator socket, remove its files."""
        self.kill()
        if self.gate is not None:
            # socketserver's shutdown() waits out a poll interval: not on the grading path.
            threading.Thread(target=self.gate.close, daemon=True).start()
            self.gate = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def _sandboxed_manager():
    """An AsyncKernelManager whose kernel command is a bwrap command line (built per kernel)."""
    from jupyter_client import AsyncKernelManager

    class SandboxedKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            # Written by jupyter_client just before, as the grader: the kernel's uid reads it.
            self.labkit_give(self.connection_file)
            return self.labkit_command(os.path.realpath(self.connection_file))

    return SandboxedKernelManager


class KernelPool:
    """Kernels started ahead of need, each handed out once (``take``), then replaced."""

    def __init__(self, scratch: Path, emulator, spare: int = 1, sandbox=None):
        self.scratch, self.emulator, self.spare = Path(scratch), emulator, spare
        self.sandbox = sandbox
        self.lesson: str | None = None  # sandboxed kernels are made for one lesson (withheld)
        self._ready: list[WarmKernel] = []
        self._count = 0

    def _environ(self, home: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LABKIT_"))}
        env.update({"LABKIT_HOME": str(home), "LABKIT_NO_NETWORK": "1",
                    "LABKIT_EMULATOR_ATTACH": str(home / "attach.json"),
                    "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
        # The learner's `!aws` and `lab.aws()` find the venv's aws first.
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        return env

    def _start_one(self) -> WarmKernel:
        from jupyter_client import BlockingKernelClient
        from jupyter_core.utils import run_sync

        from labkit.emulator import write_attach_file

        self._count += 1
        folder = self.scratch / f"k{os.getpid()}-{self._count}"
        shutil.rmtree(folder, ignore_errors=True)
        home, gate = folder / "home", None
        if self.sandbox is not None:
            self.sandbox.new_folder(folder)  # owned by the kernel's uid, sized when root
        for made in (home, folder / "ipc"):
            made.mkdir(parents=True, mode=0o700)
            if self.sandbox is not None:
                self.sandbox.give(made)
        # An async manager, as nbclient's own: with a blocking client, nbclient waits on a
        # dead kernel's output forever (its liveness poll never gets the event loop).
        if self.sandbox is None:
            write_attach_file(self.emulator, home / "attach.json")
            km = ipc_manager(folder / "ipc")
            run_sync(km.start_kernel)(env=self._environ(home), cwd=str(home))
        else:
            km, gate = self._start_sandboxed(folder, home)
        client = BlockingKernelClient()
        client.load_connection_info(km.get_connection_info())
        # Shell only: a heartbeat thread stopped at once races its own socket creation.
        client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
        # Queued now, runs while the previous submission executes; awaited in take().
        msg_id = client.execute(WARM_UP, silent=True, store_history=False)
        return WarmKernel(km, home, client, msg_id, gate=gate, folder=folder,
                          ipc=folder / "ipc" if self.sandbox is not None else None,
                          release=self.sandbox.release_folder if self.sandbox else None)

    def _start_sandboxed(self, folder: Path, home: Path):
        """A kernel in bwrap: ZMQ over ipc in its own folder. It needs no emulator to start:
        take() gives it its emulator socket and attach file before any learner code runs."""
        from jupyter_core.utils import run_sync

        from labkit.grading.sandbox import SANDBOX_PORT

        ipc = folder / "ipc"
        km = ipc_manager(ipc, _sandboxed_manager())
        km.labkit_command = functools.partial(self.sandbox.command, folder, home, ipc,
                                              SANDBOX_PORT, lesson=self.lesson)
        km.labkit_give = self.sandbox.give
        # The kernel's own chatter goes to a log in its folder (bounded by RLIMIT_FSIZE).
        with open(folder / "kernel.log", "wb") as log:
            run_sync(km.start_kernel)(
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, cwd=str(home),
                preexec_fn=self.sandbox.preexec, stdout=log, stderr=log)
        return km, None

    def _connect(self, kernel: WarmKernel) -> None:
        """Give a sandboxed kernel its emulator: its own unix socket and attach file."""
        import json

        from labkit.files import write_private
        from labkit.grading.sandbox import BRIDGE_SOCKET, SANDBOX_PORT, KernelGate

        if kernel.ipc is None or kernel.gate is not None:
            return
        shutil.copy(self.emulator.ca_bundle, kernel.home / "ca.pem")
        # The gate is this kernel's alone (a unix socket): it needs no token, and the
        # grader's emulator token stays out of the sandbox.
        attach = {**self.emulator.describe(), "url": f"http://127.0.0.1:{SANDBOX_PORT}",
                  "ca_bundle": str(kernel.home / "ca.pem"), "token": None}
        write_private(kernel.home / "attach.json", json.dumps(attach).encode())
        kernel.gate = KernelGate(kernel.ipc / BRIDGE_SOCKET, self.emulator)
        for path in (kernel.home / "ca.pem", kernel.home / "attach.json",
                     kernel.ipc / BRIDGE_SOCKET):
            self.sandbox.give(path)

    def fill(self) -> None:
        """Start kernels until ``spare`` are waiting."""
        while len(self._ready) < self.spare:
            self._ready.append(self._start_one())

    def take(self, lesson: str | None = None) -> WarmKernel:
        """A kernel nobody has used, made for ``lesson``; a replacement starts warming up at
        once (for the same lesson: a batch is mostly one lesson)."""
        if self.sandbox is not None and lesson != self.lesson:
            self.close()  # warmed for another lesson: its file system withholds other builders
            self.lesson = lesson
        kernel = self._ready.pop(0) if self._ready else self._start_one()
        self._connect(kernel)
        self.fill()
        kernel.finish_warm_up()
        return kernel

    def close(self) -> None:
        for kernel in self._ready:
            kernel.cleanup()
        self._ready.clear()


def _bounded_client(km, caps) -> object:
    """Make ``km.client()`` give a client whose ZMQ sockets refuse messages over
    ``caps.message`` bytes (a kernel cannot make the grader read a 2 GB message); return
    the context, to be destroyed after the run."""
    import zmq
    import zmq.asyncio

    context = zmq.asyncio.Context()
    context.setsockopt(zmq.MAXMSGSIZE, caps.message)
    original = km.client
    km.client = lambda **kwargs: original(**{"context": context, **kwargs})
    return context


def execute(kernel: WarmKernel, notebook, name: str, timeout: float,
            cell_timeout: float | None = None, caps=None) -> Execution:
    """Run ``notebook`` in ``kernel`` with papermill (NAME injected); never raises.

    ``timeout`` bounds the whole notebook (a timer kills the kernel), ``cell_timeout``
    one cell (nbclient interrupts it); ``caps`` (outputs.Caps) what is kept of its output.
    """
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from labkit.grading.outputs import Budget, Caps

    _register_engine()
    budget = Budget(caps or Caps())
    context = _bounded_client(kernel.km, budget.caps)
    holder: list = []
    expired, cells_began = threading.Event(), threading.Event()

    def stop() -> None:
        expired.set()
        kernel.kill()

    timer = threading.Timer(timeout, stop)
    timer.daemon = True
    started = time.perf_counter()
    timer.start()
    try:
        papermill.execute_notebook(
            notebook, None, parameters={"NAME": name}, engine_name=ENGINE_NAME,
            kernel_name="python3", km=kernel.km, progress_bar=False, log_output=False,
            execution_timeout=cell_timeout or timeout, start_timeout=60, client_holder=holder,
            cells_started=cells_began, output_budget=budget)
        status, reason = "ok", ""
    except PapermillExecutionError as exc:
        status, reason = "error", _cell_error(exc, holder[0].nb if holder else None)
    except CellTimeoutError as exc:
        status, reason = "timeout", f"a cell ran longer than {cell_timeout or timeout:g} s and was stopped"
        if "IOPub" in str(exc):  # the reply came, its output did not
            reason = ("a cell's output stopped reaching the grader (a kernel message over "
                      f"the {budget.caps.message // 1024**2} MiB cap is refused and its "
                      "channel reset) and the cell was stopped")
    except DeadKernelError:
        status, reason = "died", "the kernel died (os._exit, a crash or out of memory)"
    except Exception as exc:  # anything else must not stop the batch either
        status, reason = "error", f"the notebook could not run: {type(exc).__name__}: {exc}"
    finally:
        timer.cancel()
        client = holder[0] if holder else None
        if client is not None and client.kc is not None:
            with contextlib.suppress(Exception):
                client.kc.stop_channels()
        kernel.kill()
        context.destroy(linger=0)
    if expired.is_set():
        status, reason = "timeout", f"the notebook ran longer than {timeout:g} s and was stopped"
    elif status != "ok" and holder and not cells_began.is_set():
        # papermill reached the kernel (the notebook itself was fine) but no cell began:
        # the kernel died or never answered kernel_info, before any learner code.
        status, reason = GRADER_ERROR, f"the kernel did not start ({reason})"
    seconds = time.perf_counter() - started
    executed = client.nb if client is not None else None
    return Execution(status, one_line(reason), seconds, executed,
                     budget.notes(functools.partial(learner_cell_number, executed)))


def learner_cell_number(executed, index: int) -> int:
    """The learner's number of the cell at ``index`` of the executed notebook (papermill
    inserts its parameters cell)."""
    cells = executed.cells[:index] if executed is not None else []
    return index + 1 - sum("injected-parameters" in c.get("metadata", {}).get("tags", [])
                           for c in cells)


def _cell_error(exc, executed) -> str:
    """Which cell raised what, numbered as in the learner's notebook (papermill adds cells)."""
    number, ours = exc.cell_index + 1, 0
    for cell in (executed.cells if executed else []):
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags or "papermill-error-cell-tag" in tags:
            continue
        ours += 1
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            number = ours
            break
    reason = f"cell {number} raised {exc.ename}"
    if exc.ename == "NotImplementedError":
        return reason + " (an exercise still holds its `raise NotImplementedError()` stub)"
    detail = _first_line(exc.evalue)
    return f"{reason}: {detail}" if detail else reason


def _first_line(text: str) -> str:
    text = (text or "").strip()
    return text.splitlines()[0] if text else ""


def one_line(text, limit: int = 300) -> str:
    """Learner-made text as one bounded line: control characters gone, whitespace squeezed."""
    from labkit.grading.report import clean

    text = " ".join(clean(str(text or "")).split())
    return text if len(text) <= limit else text[:limit] + " [...]"
