"""Files only their owner may read, written so that no reader ever sees half of one.

Lab credentials, the shared lab's state, TLS keys and attach files all go through
:func:`write_private`: the file is created ``0600`` (never briefly readable by others,
as a write followed by ``chmod`` would leave it), filled, then moved into place.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Union


def write_private(path: Union[str, Path], data: Union[bytes, str]) -> None:
    """Write DATA to PATH, readable by the owner only, atomically."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ForeignFolder(PermissionError):
    """A lab folder belongs to another user: a lab never uses (nor trusts) it."""


def private_folder(path: Union[str, Path]) -> Path:
    """PATH as a folder only its owner can enter: created 0700, made 0700 if it is
    looser, refused (ForeignFolder) when another user owns it, since that user could
    read the lab's token and keys or plant files in it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = path.stat()
    if info.st_uid != os.getuid():
        raise ForeignFolder(
            f"{path} belongs to another user (uid {info.st_uid}), not to you (uid "
            f"{os.getuid()}): a lab keeps its token and keys only in a folder of its own. "
            "Set LABKIT_HOME to a folder in your home directory (the default is ~/.labkit).")
    if info.st_mode & 0o077:
        path.chmod(0o700)
    return path
