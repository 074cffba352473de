"""A grader worker's own mount namespace: sized tmpfs homes for its kernels (root only).

Why: a kernel's home is bound from the grader's disk, and RLIMIT_FSIZE caps one file, not
the total; a sized tmpfs caps every byte the kernel can write there. Mounting needs
CAP_SYS_ADMIN, which a grader running as root has: it first gives itself a private mount
namespace (``unshare(CLONE_NEWNS)``, everything made private), so its mounts are seen by
nobody else and vanish with it, even when it is killed. The same namespace lets it bind a
folder the sandbox's unprivileged uid cannot reach on the host (Python under /root) at a
path that uid can traverse, as the source of bubblewrap's bind.
"""
from __future__ import annotations

import ctypes
import os
from pathlib import Path

_CLONE_NEWNS = 0x00020000
_MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
_MNT_DETACH = 2


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _call(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def private_namespace() -> None:
    """Move this process into a mount namespace of its own (call before any thread starts)."""
    libc = _libc()
    _call(libc.unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _call(libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "mount --make-rprivate /")


def mount_tmpfs(path: Path, size: int, uid: int, gid: int) -> None:
    """A tmpfs of ``size`` bytes at ``path``, its root owned by ``uid``:``gid``, mode 0700."""
    options = f"size={size},mode=0700,uid={uid},gid={gid}".encode()
    _call(_libc().mount(b"tmpfs", os.fsencode(path), b"tmpfs", _MS_NOSUID | _MS_NODEV, options),
          f"mount tmpfs on {path}")


def bind(source: Path, target: Path) -> None:
    """``source`` seen (recursively) at ``target`` too, in this namespace only."""
    _call(_libc().mount(os.fsencode(source), os.fsencode(target), None, _MS_BIND | _MS_REC,
                        None), f"bind {source} on {target}")


def unmount(path: Path) -> None:
    """Detach whatever is mounted at ``path`` (lazily: a dying kernel may still hold it)."""
    _libc().umount2(os.fsencode(path), _MNT_DETACH)
