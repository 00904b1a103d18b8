"""The terminal report at a fixed width, compared exactly with golden files.

Regenerate after an intended change: ``UPDATE_GOLDEN=1 pytest tests/test_terminal_golden.py``,
then read the diff before committing it.
"""

from __future__ import annotations

import io
import os
from datetime import timezone
from pathlib import Path

import pytest

from oomsleuth.correlate import correlate, event_moments
from oomsleuth.history.windows import Windows, parse_window
from oomsleuth.history_loader import load_history
from oomsleuth.models import ParseResult
from oomsleuth.render.terminal import TerminalRenderer
from oomsleuth.scan import parse_sources
from oomsleuth.timebase import TimeContext, resolve_times

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


def analysed(logs: list[str], history: list[str]) -> ParseResult:
    ctx = TimeContext(tz=timezone.utc)
    sources = [
        (name, (ROOT / name).read_text(errors="surrogateescape").splitlines()) for name in logs
    ]
    result = resolve_times(parse_sources(sources), ctx)
    before, after = parse_window("30m:5m")
    windows = Windows(event_moments(result), before, after)
    past = load_history(history, windows, ctx.tz, lambda _: None) if history else None
    return correlate(result, past, before=before)


@pytest.mark.parametrize("name", sorted(CASES))
def test_terminal_golden(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # history sources are named relative to the checkout
    out = io.StringIO()
    TerminalRenderer(width=100, color=False).render(analysed(*CASES[name]), out)
    text = out.getvalue()
    assert "\x1b" not in text
    golden = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert golden.exists(), f"no golden file: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert text == golden.read_text()


def test_narrow_terminal_drops_columns_but_keeps_the_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    TerminalRenderer(width=60, color=False).render(analysed(*CASES["sidecar-with-history"]), out)
    text = out.getvalue()
    assert "Culprit leaky-sidecar" in text
    assert max(len(line) for line in text.splitlines()) <= 60
