"""Each submission's kernel in a bubblewrap sandbox (see docs/teaching.md, "The sandbox").

What a sandboxed kernel gets (measured with bubblewrap on Debian; tests/grading prove it):

- its own user, pid, network, mount, ipc and uts namespaces (``bwrap --unshare-all``),
  no capabilities, a new session, and ``--die-with-parent``: when the kernel (pid 2 in
  its pid namespace) or the grader worker that started it dies, everything it started
  dies with it (the namespace's init is gone);
- a file system made of read-only binds only: the system (/usr, /etc), Python, the
  virtualenv and the repository, with tmpfs over ``instructor/``, ``notebooks/``,
  ``.git``, ``build/`` and every grader folder (submissions, OUT, scratch, hidden
  checks) that lies inside a bound path; writable are only its own home and its own
  ipc folder (both bind-mounted, private to this kernel);
- a clean environment (HOME and LABKIT_HOME = its home): none of the grader's
  variables, credentials or HOME;
- its Jupyter channels as ZMQ ipc sockets in its ipc folder, and ONE way out: a
  forwarder inside the sandbox listens on 127.0.0.1:PORT and passes connections to a
  unix socket in the ipc folder, where the grader worker serves its emulator with
  every request flagged untrusted (so ``/moto-api/`` and ``/labkit-api/`` refuse it);
- rlimits set in a preexec function: address space (``--memory``, default 2 GiB),
  processes, file size, CPU time, no core dumps (no cgroups on these machines); and, as
  RLIMIT_NPROC does not bind uid 0, the pid namespace's own ``pid_max`` (512) caps the
  number of processes and threads.
"""
from __future__ import annotations

import os
import resource
import shutil
import socket
import socketserver
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = ("bubblewrap (bwrap) is not installed, and `labkit regrade` runs every "
                "submission in a bubblewrap sandbox. Install it: `sudo apt-get install -y "
                "bubblewrap` (Debian/Ubuntu), `sudo dnf install bubblewrap` (Fedora), "
                "then run again. Only for submissions you trust, grade without it: "
                "`labkit regrade ... --no-sandbox`.")
GIB = 1024 ** 3
#: Folders of the repository a kernel never sees (the instructor's material and history).
HIDDEN_IN_REPO = ("instructor", "notebooks", ".git", "build", "release",
                  # compiled reference solutions: the withheld modules' old bytecode
                  "labkit/topics/__pycache__")
BRIDGE_SOCKET = "emulator.sock"
MIB = 1024 ** 2
#: What a kernel can write, in bytes: its /tmp, its /dev/shm (tmpfs inside the sandbox) and,
#: where the grader is root, its home and ipc folder (a sized tmpfs, labkit.grading.mounts).
TMP_BYTES, SHM_BYTES, HOME_BYTES = 256 * MIB, 64 * MIB, 256 * MIB
#: The host uid a kernel runs as when the grader is root (no account, owns no file but the
#: kernel's own folder): root-only files stay unreadable to it. LABKIT_SANDBOX_UID overrides.
SANDBOX_UID = 61921
#: The emulator's port on the sandbox's own loopback (its own network namespace: any port).
SANDBOX_PORT = 4510


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or does not work here."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one kernel and everything it starts (rlimits; no cgroups here)."""

    memory: int = 2 * GIB          # RLIMIT_AS, bytes
    processes: int = 512           # pid_max of its pid namespace (and RLIMIT_NPROC)
    file_size: int = 256 * 1024**2  # RLIMIT_FSIZE, bytes per file written
    cpu_seconds: int = 600         # RLIMIT_CPU, the kernel's whole life

    def apply(self) -> None:
        """Set the limits on this process (a preexec function: inherited by bwrap and below)."""
        for which, value in ((resource.RLIMIT_AS, self.memory),
                             (resource.RLIMIT_NPROC, self.processes),
                             (resource.RLIMIT_FSIZE, self.file_size),
                             (resource.RLIMIT_CPU, self.cpu_seconds),
                             (resource.RLIMIT_CORE, 0)):
            resource.setrlimit(which, (value, value))


def find_bwrap() -> str | None:
    """The bwrap executable on PATH, or None."""
    return shutil.which("bwrap")


def require_bwrap() -> str:
    """bwrap's path, once seen working; SandboxUnavailable with the fix when it is not."""
    import subprocess

    path = find_bwrap()
    if path is None:
        raise SandboxUnavailable(INSTALL_HINT)
    try:
        trial = subprocess.run([path, "--unshare-all", "--die-with-parent", "--cap-drop", "ALL",
                                "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
                                "--", "/bin/true"], capture_output=True, timeout=30)
        problem = trial.stderr.decode("utf-8", "replace").strip() if trial.returncode else ""
    except (OSError, subprocess.TimeoutExpired) as exc:
        problem = str(exc)
    if problem:
        raise SandboxUnavailable(
            f"bubblewrap ({path}) cannot create a sandbox here: {problem}. It needs user "
            "namespaces (on Ubuntu 24.04: `sudo sysctl kernel.apparmor_restrict_unprivileged_"
            "userns=0`). Only for submissions you trust: `labkit regrade ... --no-sandbox`.")
    return path


def disables_userns(bwrap: str) -> bool:
    """True when this bwrap has ``--disable-userns`` (bubblewrap >= 0.8): no user namespace
    can be made inside the sandbox, so no nested mount namespace or tmpfs either."""
    import subprocess

    try:
        shown = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--disable-userns" in shown.stdout + shown.stderr


def sandbox_uid() -> int | None:
    """The uid kernels run as: SANDBOX_UID when the grader is root, else None (the
    grader's own uid, which is already unprivileged)."""
    if os.geteuid() != 0:
        return None
    return int(os.environ.get("LABKIT_SANDBOX_UID", SANDBOX_UID))


@dataclass
class Sandbox:
    """How to build the bwrap command line of a kernel."""

    bwrap: str
    repo: Path
    hide: tuple[Path, ...] = ()   # grader folders (submissions, OUT, scratch, ...) to hide
    limits: Limits = Limits()
    uid: int | None = None        # the host uid kernels run as (None: the grader's)
    no_userns: bool = False       # bwrap --disable-userns
    sized_homes: bool = False     # kernel folders on a sized tmpfs (mounts.py)
    sources: dict = None          # bound path -> where this uid can reach it on the host
    withheld: dict = None         # lesson id -> {builder module file: its withheld text}

    @classmethod
    def for_worker(cls, bwrap: str, repo: Path, scratch: Path, hide=(), limits=Limits()):
        """The sandbox of one grader worker, hardened as far as this machine allows:
        kernels as an unprivileged uid, sized homes in a private mount namespace (root),
        no user namespaces inside (bwrap >= 0.8). Call before the worker starts threads."""
        box = cls(bwrap, Path(repo), tuple(hide), limits, uid=sandbox_uid(),
                  no_userns=disables_userns(bwrap), sources={})
        box.withheld = _withheld_by_lesson(Path(repo), Path(scratch) / "withheld")
        if box.uid is not None:
            from labkit.grading import mounts

            mounts.private_namespace()
            box.sized_homes = True
            os.chmod(scratch, 0o711)  # the uid traverses it to its kernel's folder only
            for index, root in enumerate(box._bound_roots()):
                if not _reachable_by_others(root):
                    mirror = Path(scratch) / f"bind-{index}"
                    mirror.mkdir(mode=0o711, exist_ok=True)
                    mounts.bind(root, mirror)
                    box.sources[root] = mirror
        return box

    def in_force(self) -> list[str]:
        """The limits a kernel of this sandbox runs under, in words (the report shows them)."""
        gib = self.limits.memory / 1024 ** 3
        said = [f"address space {gib:g} GiB (RLIMIT_AS; no cgroups on this machine)",
                f"{self.limits.processes} processes (pid_max of its pid namespace)",
                f"{self.limits.file_size // MIB} MiB per file",
                f"CPU {self.limits.cpu_seconds} s",
                f"/tmp {TMP_BYTES // MIB} MiB and /dev/shm {SHM_BYTES // MIB} MiB (sized tmpfs)"]
        said.append(f"home and ipc folder {HOME_BYTES // MIB} MiB in all (sized tmpfs)"
                    if self.sized_homes else "home: per-file cap only (a sized home needs "
                    "a grader running as root)")
        said.append("no user namespaces inside (bwrap --disable-userns)" if self.no_userns
                    else "user namespaces inside NOT disabled (bubblewrap < 0.8)")
        said.append(f"kernel as unprivileged uid {self.uid}" if self.uid is not None
                    else f"kernel as the grader's uid {os.geteuid()}")
        return said

    def preexec(self) -> None:
        """In the child, before exec'ing bwrap: the limits, then the unprivileged uid (bwrap
        then builds the sandbox in a user namespace of that uid)."""
        self.limits.apply()
        if self.uid is not None:
            os.setgroups([])
            os.setgid(self.uid)
            os.setuid(self.uid)

    def new_folder(self, folder: Path) -> None:
        """A kernel's folder, owned by its uid (on a sized tmpfs when the grader is root)."""
        folder.mkdir(parents=True, mode=0o700)
        if self.sized_homes:
            from labkit.grading import mounts

            mounts.mount_tmpfs(folder, HOME_BYTES, self.uid, self.uid)
        self.give(folder)

    def release_folder(self, folder: Path) -> None:
        if self.sized_homes:
            from labkit.grading import mounts

            mounts.unmount(folder)

    def give(self, path: Path) -> None:
        """Make ``path`` (written by the grader) the kernel's uid's."""
        if self.uid is not None:
            os.chown(path, self.uid, self.uid)

    def _bound_roots(self) -> list[Path]:
        return [self.repo, *self._python_binds()]

    def _system_binds(self) -> list[str]:
        args = ["--ro-bind", "/usr", "/usr"]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        # /etc for the resolver, locale and SSL config; its secrets stay unreadable.
        args += ["--ro-bind", "/etc", "/etc"]
        for secret in ("/etc/shadow", "/etc/gshadow", "/etc/sudoers"):
            if os.path.exists(secret):
                args += ["--ro-bind", "/dev/null", secret]
        return args

    def _python_binds(self) -> list[Path]:
        roots = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent}
        return sorted(r for r in roots if not _inside_any(r, [Path("/usr")]))

    def command(self, kernel_dir: Path, home: Path, ipc: Path, port: int,
                connection_file: Path, lesson: str | None = None) -> list[str]:
        """bwrap ... -- python -m labkit.grading.sandbox PORT SOCKET python -m ipykernel ..."""
        bound = self._bound_roots()
        sources = self.sources or {}
        # CAP_SYS_ADMIN, in the sandbox's own user namespace only, lets labkit's first step
        # (main() below) set the pid namespace's pid_max; CAP_SETPCAP lets it empty the
        # bounding set: it drops every capability before anything else runs. (RLIMIT_NPROC alone does not hold: uid 0 is exempt from it.)
        args = [self.bwrap, "--unshare-all", "--unshare-user", "--die-with-parent",
                "--new-session", *(["--disable-userns"] if self.no_userns else []),
                "--cap-drop", "ALL", "--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETPCAP",
                *self._system_binds(),
                # /tmp is memory: bounded, as RLIMIT_AS does not count tmpfs pages. Mounted
                # before the repository and Python are bound, so that a checkout or venv
                # under /tmp (a CI clone) is bound on top of it instead of hidden by it.
                "--dev", "/dev", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm",
                "--proc", "/proc", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
        for root in bound:
            args += ["--ro-bind", str(sources.get(root, root)), str(root)]
        for hole in self._holes(bound):
            args += (["--tmpfs", str(hole), "--remount-ro", str(hole)] if hole.is_dir()
                     else ["--ro-bind", "/dev/null", str(hole)])
        # While lesson N is graded, lessons N.. hold no reference solution (withhold.py).
        for real, stub in ((self.withheld or {}).get(lesson) or {}).items():
            args += ["--ro-bind", str(stub), str(real)]
        args += ["--bind", str(home), str(home), "--bind", str(ipc), str(ipc),
                 "--clearenv", *self._environment(home), "--chdir", str(home), "--",
                 sys.executable, "-m", "labkit.grading.sandbox", str(port),
                 str(ipc / BRIDGE_SOCKET), str(self.limits.processes), "--",
                 sys.executable, "-m", "ipykernel_launcher", "-f", str(connection_file)]
        return args

    def _holes(self, bound: list[Path]) -> list[Path]:
        """Existing paths inside a bound folder that must look empty in the sandbox."""
        wanted = [self.repo / name for name in HIDDEN_IN_REPO] + list(self.hide)
        holes = []
        for path in wanted:
            path = Path(os.path.abspath(path))
            if path.exists() and _inside_any(path, bound) and path not in bound:
                holes.append(path)
        holes = sorted(set(holes), key=lambda p: len(p.parts))
        # A hole inside another is hidden already (and the read-only tmpfs has no room for it).
        return [h for i, h in enumerate(holes) if not _inside_any(h, holes[:i])]

    def _environment(self, home: Path) -> list[str]:
        venv_bin = str(Path(sys.executable).parent)
        env = {"HOME": str(home), "LABKIT_HOME": str(home), "LABKIT_NO_NETWORK": "1",
               "LABKIT_EMULATOR_ATTACH": str(home / "attach.json"),
               "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
               "PYTHONPATH": str(self.repo), "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
               "PYDEVD_DISABLE_FILE_VALIDATION": "1", "TMPDIR": "/tmp"}
        args = []
        for key, value in env.items():
            args += ["--setenv", key, value]
        return args


def _withheld_by_lesson(repo: Path, folder: Path) -> dict[str, dict[Path, Path]]:
    """lesson -> {builder file: withheld file} of that lesson and every later one."""
    from labkit import course
    from labkit.grading import withhold

    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    every = withhold.write_withheld(repo, withhold.withheld_lessons("00", True), folder)
    by_lesson = {}
    for item in course.LESSONS:
        later = {withhold.builder_file(repo, other)
                 for other in withhold.withheld_lessons(item.id, True)}
        by_lesson[item.id] = {real: stub for real, stub in every.items() if real in later}
    return by_lesson


def _reachable_by_others(path: Path) -> bool:
    """True when every folder from / to ``path`` lets any user through (o+x)."""
    path = Path(os.path.abspath(path))
    try:
        return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents])
    except OSError:
        return False


def _inside_any(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


# --- grader side: the emulator over a unix socket, every request flagged untrusted --------
class KernelGate(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Serve the worker's emulator on a unix socket that only one sandboxed kernel can reach."""

    daemon_threads = True

    def __init__(self, path: Path, emulator):
        from labkit.emulator.proxy import ProxyHandler
        from labkit.grading import egress

        class Handler(ProxyHandler):
            def setup(self) -> None:
                socketserver.StreamRequestHandler.setup(self)  # no TCP options on a unix socket
                self.client_address = ("sandboxed-kernel", 0)
                egress.serving_kernel()  # what a kernel asks for connects nowhere

            def _environ(self, *args, **kwargs):
                from labkit.emulator.control import UNTRUSTED_ENVIRON

                environ = super()._environ(*args, **kwargs)
                environ[UNTRUSTED_ENVIRON] = True
                return environ

        server = emulator._server
        self.app, self.ca, self.verbose = server.app, server.ca, server.verbose
        super().__init__(str(path), Handler)
        os.chmod(path, 0o600)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True,
                                        name="labkit-kernel-gate")
        self._thread.start()

    def handle_error(self, request, client_address):
        pass  # a kernel hanging up (or being killed) mid-request is its own business

    def close(self) -> None:
        self.shutdown()
        self.server_close()


# --- kernel side: 127.0.0.1:PORT -> the unix socket, then exec the kernel ----------------
def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _forward(listener: socket.socket, unix_path: str) -> None:
    while True:
        client, _ = listener.accept()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(unix_path)
        except OSError:
            client.close()
            continue
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _limit_processes(pid_max: int) -> None:
    """Cap the pid numbers of this pid namespace (Linux >= 6.14 keeps pid_max per namespace)."""
    try:
        with open("/proc/sys/kernel/pid_max", "w") as handle:
            handle.write(str(max(pid_max, 512)))
    except OSError as exc:
        sys.stderr.write(f"labkit sandbox: cannot set pid_max ({exc}); RLIMIT_NPROC only\n")


def _drop_capabilities() -> None:
    """Leave no capability at all, now or after exec (as bwrap's --cap-drop ALL does)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_no_new_privs, pr_capbset_drop, pr_cap_ambient, clear_all = 38, 24, 47, 4
    for cap in range(64):
        libc.prctl(pr_capbset_drop, cap, 0, 0, 0)  # fails past the last cap: fine
    if libc.prctl(23, 21, 0, 0, 0) != 0:  # PR_CAPBSET_READ of CAP_SYS_ADMIN must say 0
        raise OSError("cannot empty the capability bounding set: refusing to run")
    libc.prctl(pr_cap_ambient, clear_all, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed: refusing to run with capabilities")
    libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0)


def main(argv: list[str]) -> None:
    """Inside the sandbox: ``PORT SOCKET PID_MAX -- KERNEL...``: cap the processes, drop
    every capability, fork the emulator forwarder, exec the kernel."""
    port, unix_path, pid_max, _, *kernel = argv
    _limit_processes(int(pid_max))
    _drop_capabilities()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", int(port)))
    listener.listen(64)  # listening before the kernel exists: no first-request race
    if os.fork() == 0:
        try:
            _forward(listener, unix_path)
        finally:
            os._exit(0)
    listener.close()
    os.execv(kernel[0], kernel)


if __name__ == "__main__":
    main(sys.argv[1:])
