"""The repository carries the licence it declares: Apache-2.0 for the code (a LICENSE file with
the licence's own terms) and CC0 for the dataset (stated in its card, data/README.md)."""
from __future__ import annotations

import tomllib

from labkit import config

ROOT = config.repo_root()


def test_the_declared_code_licence_is_the_licence_file():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert declared == {"text": "Apache-2.0"}
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_the_dataset_keeps_its_own_licence_in_its_card():
    assert "CC0 1.0" in (ROOT / "data" / "README.md").read_text()
