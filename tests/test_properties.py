"""Property tests: no input makes oomsleuth raise, and every kill line is accounted for.

Inputs: any prefix of any fixture we ship (and of the shared corpus when present), the fixtures
with lines dropped or shuffled, and random junk. Everything goes through ``oomsleuth.analyze``,
``oomsleuth.scan`` and two renderers.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline import analyze_lines, write_lines

import oomsleuth
from oomsleuth.errors import InputError
from oomsleuth.model import OomReport

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
FILES = sorted(
    p
    for p in [*(ROOT / "fixtures").rglob("*"), *(CORPUS.glob("*.log") if CORPUS.is_dir() else [])]
    if p.is_file()
    and p.suffix in (".txt", ".log", ".json")
    and not p.name.endswith((".facts.json", ".expect.json", ".meta.json"))
)
TEXTS = [p.read_text(errors="replace").splitlines() for p in FILES]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def render_all(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_lines(Path(tmp) / "prop.log", lines)
        with path.open(encoding="utf-8", errors="surrogateescape") as f:
            streamed = list(oomsleuth.scan(f, tz="UTC"))  # the streaming path never raises
        try:
            report = oomsleuth.analyze([path], tz="UTC", on_warning=lambda _: None)
        except InputError as exc:  # the loader's documented refusal of binary junk, not a crash
            assert "binary" in exc.message
            return
    out = io.StringIO()
    oomsleuth.render(report, "json", out)
    json.loads(out.getvalue())
    oomsleuth.render(report, "terminal", io.StringIO(), width=100, color=False)
    # analyze merges copies of one record that scan streams as they come
    assert sum(isinstance(e, OomReport) for e in streamed) >= len(report.reports)


def test_there_are_fixtures() -> None:
    assert len(FILES) >= 10


@SETTINGS
@given(st.data())
def test_any_prefix_of_any_fixture(data: st.DataObject) -> None:
    lines = data.draw(st.sampled_from(TEXTS))
    cut = data.draw(st.integers(min_value=0, max_value=len(lines)))
    chars = data.draw(st.integers(min_value=0, max_value=200))
    prefix = lines[:cut]
    if cut < len(lines):
        prefix.append(lines[cut][:chars])  # cut mid-line too
    render_all(prefix)


@SETTINGS
@given(st.data())
def test_fixture_with_lines_dropped_or_swapped(data: st.DataObject) -> None:
    lines = list(data.draw(st.sampled_from(TEXTS)))
    if lines:
        drop = data.draw(st.sets(st.integers(0, len(lines) - 1), max_size=8))
        lines = [line for i, line in enumerate(lines) if i not in drop]
    if len(lines) > 2:
        i = data.draw(st.integers(0, len(lines) - 2))
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    render_all(lines)


JUNK_LINE = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=200).map(lambda b: b.decode("utf-8", errors="surrogateescape")),
    st.sampled_from(
        [
            "[  1.0] x invoked oom-killer: gfp_mask=",
            "Killed process",
            "Killed process 12 (",
            "oom-kill:constraint=,task=,pid=,uid=",
            "[ pid ]   uid  tgid total_vm      rss name",
            "[  123] 0 1 2",
            "Memory cgroup stats for",
            "memory: usage 1kB, limit 0kB, failcnt",
            "Mem-Info:",
            '{"MESSAGE": [1, 2, 300], "__REALTIME_TIMESTAMP": "x"}',
            "6,1,2,-;Killed process 1 (a) total-vm:1kB, anon-rss:1kB, file-rss:1kB",
            "-- Boot 00 --",
            "<4>1 2026-01-01T00:00:00Z h kernel - - - oom_reaper: reaped process 1 (a), now",
        ]
    ),
)


@SETTINGS
@given(st.lists(JUNK_LINE, max_size=40))
def test_random_junk_never_raises(lines: list[str]) -> None:
    render_all(lines)


KILL_LINE = re.compile(r"Killed process (\d+)")
# userspace programs that repeat the kernel's kill text: their lines are not kills
ECHO = re.compile(r"node-problem-detector|containerd\[|kubelet\[|systemd\[|earlyoom|nohang")


@SETTINGS
@given(st.data())
def test_every_kill_line_is_a_kill_or_a_warning(data: st.DataObject) -> None:
    lines = data.draw(st.sampled_from(TEXTS))
    cut = data.draw(st.integers(min_value=0, max_value=len(lines)))
    result = analyze_lines(lines[:cut], on_warning=lambda _: None)
    killed = {int(k.victim.pid) for r in result.reports for k in r.kills}
    warned = " ".join(w.message for w in result.warnings)
    for line in lines[:cut]:
        m = KILL_LINE.search(line)
        if m is None or ECHO.search(line):
            continue
        pid = int(m.group(1))
        assert pid in killed or f"Killed process {pid}" in warned, line
