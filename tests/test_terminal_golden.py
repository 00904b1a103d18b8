"""The terminal report at a fixed width, compared exactly with golden files.

Regenerate after an intended change: ``OOMSLEUTH_REGEN=1 pytest tests/test_terminal_golden.py``,
then read the diff before committing it.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from expect import check_text
from pipeline import analyze_files

import oomsleuth
from oomsleuth.model import Report

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "terminal"
INC = "fixtures/incidents"
CASES = {
    "sidecar-with-history": (
        [f"{INC}/sidecar-leak-kills-db/kern-dmesg-iso.txt"],
        [f"{INC}/sidecar-leak-kills-db/atop-P.txt", f"{INC}/sidecar-leak-kills-db/psi-cgroup.txt"],
    ),
    "repeated-kills": (
        [f"{INC}/repeated-kills-restart/kern-dmesg-iso.txt"],
        [f"{INC}/repeated-kills-restart/pidstat-r.txt"],
    ),
    "tmpfs-no-history": ([f"{INC}/tmpfs-fills-memory/kern-dmesg-iso.txt"], []),
    "hostile-names": (["fixtures/real/memcg-names.dmesg.txt"], []),
    "old-kernels": (
        [
            "fixtures/handwritten/k2.6.18-oomkilladj-children.txt",
            "fixtures/handwritten/k4.13-prcont-sacrifice-child.dmesg.txt",
            "fixtures/handwritten/k5.15-arm64-no-killable-panic.console.txt",
        ],
        [],
    ),
}


def analysed(logs: list[str], history: list[str]) -> Report:
    return analyze_files(logs, history=history)


@pytest.mark.parametrize("name", sorted(CASES))
def test_terminal_golden(name: str) -> None:
    out = io.StringIO()
    oomsleuth.render(analysed(*CASES[name]), "terminal", out, width=100, color=False)
    text = out.getvalue()
    assert "\x1b" not in text
    check_text(GOLDEN / f"{name}.txt", text)


def test_narrow_terminal_drops_columns_but_keeps_the_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    oomsleuth.render(
        analysed(*CASES["sidecar-with-history"]), "terminal", out, width=60, color=False
    )
    text = out.getvalue()
    assert "Culprit leaky-sidecar" in text
    assert max(len(line) for line in text.splitlines()) <= 60
