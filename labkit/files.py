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
