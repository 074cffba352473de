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


#: aws-like tests wait this long for IAM and resources (kept short: seconds count).
AWS_LIKE_DELAY = "1.5"


@pytest.fixture(scope="module")
def aws_like_em(em):
    """The shared emulator switched to aws-like mode (labkit.emulator.aws_like) for one module."""
    import os

    from labkit.emulator import aws_like

    previous = os.environ.get(aws_like.DELAY_VARIABLE)
    os.environ[aws_like.DELAY_VARIABLE] = AWS_LIKE_DELAY
    aws_like.enable(True)
    aws_like.install()
    em.reset()
    yield em
    aws_like.enable(None)
    em.reset()
    if previous is None:
        os.environ.pop(aws_like.DELAY_VARIABLE, None)
    else:
        os.environ[aws_like.DELAY_VARIABLE] = previous
