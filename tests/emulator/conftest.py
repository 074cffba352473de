"""The emulator the request-level tests share: one per module, wiped before and after."""
from __future__ import annotations

import pytest

from labkit.emulator import ensure_running


@pytest.fixture(scope="module")
def em(tmp_path_factory, request):
    emulator = ensure_running(home=tmp_path_factory.mktemp(f"labkit-{request.module.__name__}"))
    emulator.reset()
    yield emulator
    emulator.reset()
