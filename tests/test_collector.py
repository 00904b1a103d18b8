"""Full garbage collections made rare while a run builds its model (``oomsleuth._collector``):
a dense log's analysis walks the whole heap at most once, not again and again as the model
grows, and the caller's collector settings are as they were afterwards, whatever happened."""

from __future__ import annotations

import gc
import io
import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import oomsleuth
from oomsleuth import _collector
from oomsleuth.errors import OomsleuthError

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "fixtures" / "real" / "memcg-bystander.dmesg.txt"
STAMP = re.compile(r"^\[\s*(\d+\.\d+)\]")


def _dense(path: Path, reports: int) -> None:
    """``reports`` copies of a real report back to back, each 10 s after the one before."""
    lines = REPORT.read_text().splitlines()
    first = float(STAMP.match(lines[0])[1])  # type: ignore[index]
    with path.open("w") as f:
        for i in range(reports):
            for line in lines:
                m = STAMP.match(line)
                if m:
                    line = f"[{float(m[1]) - first + 10.0 * (i + 1):12.6f}]" + line[m.end() :]
                f.write(line + "\n")


# a fresh interpreter, its imports frozen as the command line's are (oomsleuth._startup): the
# full collections of one analysis of the log, and of the same with CPython's defaults
COUNT = """
import gc, io, json, sys
import oomsleuth
from oomsleuth import _collector
gc.collect(); gc.freeze()
full = []
def note(phase, info):
    if phase == "start" and info["generation"] == 2:
        full.append(1)
gc.callbacks.append(note)
if sys.argv[2] == "defaults":
    _collector.RARE = 0
report = oomsleuth.analyze(sys.argv[1])
oomsleuth.render(report, "json", io.StringIO())
print(json.dumps({"kills": sum(len(r.kills) for r in report.reports), "full": len(full)}))
"""


def _full_collections(log: Path, mode: str) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", COUNT, str(log), mode], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_a_dense_log_is_walked_whole_at_most_once(tmp_path: Path) -> None:
    log = tmp_path / "dense.log"
    _dense(log, 3000)
    ours, defaults = _full_collections(log, "rare"), _full_collections(log, "defaults")
    assert ours["kills"] == defaults["kills"] == 3000
    assert ours["full"] <= 1
    assert defaults["full"] >= 4  # what the analysis costs without it (6 on this machine)


def _threshold_inside(**kw: object) -> tuple[int, int, int]:
    seen: list[tuple[int, int, int]] = []
    oomsleuth.analyze(REPORT, on_progress=lambda *_: seen.append(gc.get_threshold()), **kw)  # type: ignore[arg-type]
    assert seen
    return seen[-1]


@pytest.fixture
def thresholds() -> object:
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_the_callers_thresholds_come_back(thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(700, 10, 10)
    assert _threshold_inside() == (700, 10, _collector.RARE)
    assert gc.get_threshold() == (700, 10, 10)
    gc.set_threshold(500, 5, 5000)  # a caller's higher third threshold is kept
    assert _threshold_inside() == (500, 5, 5000)
    assert gc.get_threshold() == (500, 5, 5000)


def test_they_come_back_after_an_error_and_a_disabled_collector_stays_off(
    thresholds: tuple[int, int, int], tmp_path: Path
) -> None:
    gc.set_threshold(700, 10, 10)
    with pytest.raises(OomsleuthError):
        oomsleuth.analyze(tmp_path / "missing.log")
    assert gc.get_threshold() == (700, 10, 10)
    gc.disable()
    try:
        _threshold_inside()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_nested_and_threaded_calls_restore_once(thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(700, 10, 10)
    report = oomsleuth.analyze(REPORT)
    inner: list[tuple[int, int, int]] = []

    def render_inside(*_: object) -> None:  # a render while an analysis runs, on its thread
        oomsleuth.render(report, "json", io.StringIO())
        inner.append(gc.get_threshold())

    threads = [threading.Thread(target=lambda: oomsleuth.analyze(REPORT)) for _ in range(4)]
    for t in threads:
        t.start()
    oomsleuth.analyze(REPORT, on_progress=render_inside)
    for t in threads:
        t.join()
    assert inner and all(t == (700, 10, _collector.RARE) for t in inner)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_threshold_changed_during_the_run_stands(thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(700, 10, 10)
    oomsleuth.analyze(REPORT, on_progress=lambda *_: gc.set_threshold(100, 10, 10))
    assert gc.get_threshold() == (100, 10, 10)


def test_a_render_alone_has_them_too(thresholds: tuple[int, int, int]) -> None:
    report = oomsleuth.analyze(REPORT)
    gc.set_threshold(700, 10, 10)
    seen: list[tuple[int, int, int]] = []

    class Stream(io.StringIO):  # what the renderer writes to, noting the thresholds
        def write(self, text: str) -> int:
            seen.append(gc.get_threshold())
            return super().write(text)

    for fmt in ("terminal", "json", "html", "md"):
        oomsleuth.render(report, fmt, Stream(), width=100, color=False)
    assert seen and set(seen) == {(700, 10, _collector.RARE)}
    assert gc.get_threshold() == (700, 10, 10)
