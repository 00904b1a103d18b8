"""Expected outputs kept beside their inputs, and the one way to regenerate them.

Set ``OOMSLEUTH_REGEN=1`` to rewrite every expectation (golden files, ``NAME.expect.json``)
from the current build instead of comparing; then read the diff line by line before
committing it. Ground truth written by capture scripts (``facts.json``) is never regenerated.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REGEN = os.environ.get("OOMSLEUTH_REGEN") == "1"


def expect_path(input_path: Path) -> Path:
    """``NAME.expect.json`` beside ``NAME.ext``: the input's last suffix replaced."""
    return input_path.with_name(input_path.stem + ".expect.json")


def check_text(golden: Path, text: str) -> None:
    """``text`` equals the golden file, or (with OOMSLEUTH_REGEN=1) becomes it."""
    if REGEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        pytest.skip("regenerated")
    assert golden.is_file(), f"no {golden}: run OOMSLEUTH_REGEN=1 pytest"
    assert text == golden.read_text(encoding="utf-8")
