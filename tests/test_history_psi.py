"""Stamped file samples (oomsleuth.history.psi) and scripts/oomsleuth-sampler.

Each fixture under fixtures/history/psi has ``NAME.expect.json`` beside it. Set
``OOMSLEUTH_REGEN=1`` to rewrite them from the parser (then read the diff line by line).
"""

from __future__ import annotations

import itertools
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import history_expect as he
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oomsleuth.history import csvseries, prometheus, psi
from oomsleuth.model import Sample, Warning_

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "fixtures" / "history" / "psi"
SAMPLER = ROOT / "scripts" / "oomsleuth-sampler"
EXPECTS = sorted(HERE.glob("*.expect.json"))
UTC = timezone.utc


def run(lines: list[str], tz: Any = UTC, **kw: Any) -> tuple[list[Sample], list[Warning_]]:
    return he.run(psi.parse, lines, tz=tz, **kw)


@pytest.mark.parametrize("expect", EXPECTS, ids=[p.name for p in EXPECTS])
def test_fixture(expect: Path) -> None:
    want = json.loads(expect.read_text())
    source = expect.with_name(want["input"])
    samples, warnings = run(source.read_text().splitlines(), tz=ZoneInfo(want["tz"]))
    got = he.as_json(samples, warnings)
    he.check_expect(expect, want, got)


def test_every_fixture_has_an_expectation() -> None:
    inputs = {p.name for p in HERE.iterdir() if p.suffix in (".txt", ".samples")}
    inputs -= {p.name for p in HERE.glob("*.kernel.txt")}
    assert inputs == {json.loads(p.read_text())["input"] for p in EXPECTS}


def test_real_capture_against_its_raw_lines() -> None:
    """Check the real capture with a reading of our own, and against the kernel's report."""
    raw = (HERE / "real-v1-memcg-oom.samples").read_text().splitlines()
    samples, warnings = run(raw)
    assert warnings == []
    kernel = (HERE / "real-v1-memcg-oom.kernel.txt").read_text()
    memcg = re.search(r"oom_memcg=([^,\s]+)", kernel)
    assert memcg is not None
    child = f"cgroup:{memcg[1]}"
    usage = [
        (datetime.fromisoformat(line.split()[0]), int(line.split()[2]) / 1024)
        for line in raw
        if line.split()[1].endswith(memcg[1] + "/memory.usage_in_bytes")
    ]
    got = [
        (s.time, s.value) for s in samples if (s.metric, s.entity) == ("cg_mem_current_kb", child)
    ]
    assert got == usage and len(got) == 30
    assert max(v for _, v in got) > 60 * 1024  # filled up to its 64 MiB limit
    assert len({s.time for s in samples}) == 30
    per_round = {s.metric for s in samples if s.entity is None}
    assert {"psi_mem_some_avg10", "psi_mem_full_total_us", "mem_available_kb", "swap_used_kb"} <= (
        per_round
    )
    assert not any(s.metric == "cg_mem_max_kb" and s.entity != child for s in samples)  # unlimited
    kill = datetime.fromisoformat(kernel.splitlines()[-1].split()[0].replace(",", "."))
    before = [v for t, v in got if t <= kill]
    after = [v for t, v in got if t > kill + timedelta(seconds=1)]
    assert before[-1] > 60 * 1024 and after and max(after) < 4 * 1024  # the kill freed it
    some = [s.value for s in samples if s.metric == "psi_mem_some_avg10"]
    assert max(some) > 0.5  # the thrashing before the kill shows in the host PSI


# --- time stamps and zones -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("1795646000", "2026-11-25T22:33:20+00:00"),
        ("1795646000.5", "2026-11-25T22:33:20.500000+00:00"),
        ("1795646000500", "2026-11-25T22:33:20.500000+00:00"),
        ("2026-11-25T22:33:20Z", "2026-11-25T22:33:20+00:00"),
        ("2026-11-25T23:33:20+01:00", "2026-11-25T23:33:20+01:00"),
        ("2026-11-25T23:33:20+0100", "2026-11-25T23:33:20+01:00"),
        ("2026-11-25T17:33:20-05", "2026-11-25T17:33:20-05:00"),
        ("2026-11-25T23:33:20,123456789+01:00", "2026-11-25T23:33:20.123456+01:00"),
        ("2026-11-25 23:33:20", "2026-11-25T23:33:20+01:00"),  # naive: in tz
        ("2026-07-01T12:00:00", "2026-07-01T12:00:00+02:00"),  # summer time
        ("2026-11-25T23:33", "2026-11-25T23:33:00+01:00"),
        ("2026-13-45T99:00:00", None),
        ("17956", None),
        ("yesterday", None),
    ],
)
def test_parse_stamp(text: str, want: str | None) -> None:
    got = psi.parse_stamp(text, ZoneInfo("Europe/Berlin"))
    assert (got.isoformat() if got else None) == want


def test_naive_stamps_are_placed_in_tz_and_epoch_is_absolute() -> None:
    lines = [
        "2026-11-25 23:33:20 /proc/meminfo MemFree: 1 kB",
        "2026-11-25T23:33:20 /proc/meminfo MemFree: 2 kB",
        "1795646000 /proc/meminfo MemFree: 3 kB",
    ]
    for tz in (UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")):
        samples, _ = run(lines, tz=tz)
        assert [s.time.tzinfo is not None for s in samples] == [True] * 3
        assert samples[0].time == samples[1].time
        assert samples[2].time == datetime(2026, 11, 25, 22, 33, 20, tzinfo=UTC)
    berlin, _ = run(lines, tz=ZoneInfo("Europe/Berlin"))
    assert berlin[0].time == berlin[2].time


# --- sniffing ------------------------------------------------------------------------------

SAR = """Linux 6.1.0-18-amd64 (web-1) \t11/25/2026 \t_x86_64_\t(4 CPU)

10:40:01 PM kbmemfree   kbavail kbmemused  %memused kbbuffers  kbcached  kbcommit   %commit
10:50:01 PM    182340    401228   7870060     97.74      2044    301232  10432104    103.52
""".splitlines()
SAR_CSV = [
    "# hostname;interval;timestamp;kbmemfree;kbavail;kbmemused;%memused",
    "web-1;600;2026-11-25 22:50:01 UTC;182340;401228;7870060;97.74",
]
ATOP = [
    "RESET",
    "MEM web-1 1795646000 2026/11/25 22:33:20 600 4096 2013100 45585 75308 512 2100 4410 1",
    "PRM web-1 1795646000 2026/11/25 22:33:20 600 1234 (leaker) R 4096 2097152 1048576 0 0 0",
    "SEP",
]
PIDSTAT = [
    "# Time        UID       PID  minflt/s  majflt/s     VSZ     RSS   %MEM  Command",
    " 1795646000      0      1234  51200.00      0.00 2101248 1048576  13.02  leaker",
]


def _lines(path: Path, n: int = 50) -> list[str]:
    return path.read_text(errors="surrogateescape").splitlines()[:n]


def test_sniff_says_yes_to_its_own() -> None:
    for expect in EXPECTS:
        assert psi.sniff(_lines(expect.with_name(json.loads(expect.read_text())["input"])))
    assert psi.sniff(["1795646000 some avg10=0.00 avg60=0.00 avg300=0.00 total=1"])
    assert psi.sniff(["2026-11-25T22:51:00+00:00 /sys/fs/cgroup/a/memory.current 4096"])


def test_sniff_says_no_to_others() -> None:
    others = [SAR, SAR_CSV, ATOP, PIDSTAT, [], [""], ["time,series,value"]]
    others += [_lines(p) for p in sorted((ROOT / "fixtures" / "real").glob("*.txt"))]
    others += [_lines(p) for p in sorted((ROOT / "fixtures" / "handwritten").glob("*.txt"))]
    others += [_lines(p) for p in sorted((ROOT / "fixtures" / "userspace").glob("*.log"))]
    others += [_lines(p) for p in sorted((ROOT / "fixtures" / "history").glob("[cp]*/*.*json"))]
    others += [_lines(p) for p in sorted((ROOT / "fixtures" / "history" / "csv").glob("*.csv"))]
    others.append(_lines(HERE / "real-v1-memcg-oom.kernel.txt"))
    for head in others:
        assert not psi.sniff(head), head[:3]
    assert not any(prometheus.sniff(_lines(p)) or csvseries.sniff(_lines(p)) for p in EXPECTS)


# --- streaming, keep, junk -----------------------------------------------------------------


def test_parse_streams() -> None:
    def endless() -> Iterator[str]:
        for i in itertools.count():
            yield f"{1795646000 + i} /proc/meminfo MemFree: {i} kB"

    first = list(itertools.islice(psi.parse(endless(), source="t", tz=UTC), 5))
    assert [s.value for s in first] == [0, 1, 2, 3, 4]


def test_keep_is_asked_once_per_stamp_and_drops_early() -> None:
    raw = (HERE / "real-v1-memcg-oom.samples").read_text().splitlines()
    everything, _ = run(raw)
    times = sorted({s.time for s in everything})
    lo, hi = times[10], times[14]
    asked: list[datetime] = []

    def keep(t: datetime) -> bool:
        asked.append(t)
        return lo <= t <= hi

    kept, _ = run(raw, keep=keep)
    assert asked == times  # once per round, in order
    assert kept == [s for s in everything if lo <= s.time <= hi]


def test_restart_is_seen_between_windows() -> None:
    lines = [
        "1795646000 some avg10=0.00 avg60=0.00 avg300=0.00 total=900",
        "1795646100 some avg10=0.00 avg60=0.00 avg300=0.00 total=50",  # rebooted, not kept
        "1795646200 some avg10=0.00 avg60=0.00 avg300=0.00 total=60",
    ]
    start = datetime.fromtimestamp(1795646100, UTC)
    samples, _ = run(lines, keep=lambda t: t != start)
    assert [s.metric for s in samples].count("restart") == 0  # the fall was outside the window
    samples, _ = run(lines)
    assert [(s.time, s.metric) for s in samples if s.metric == "restart"] == [(start, "restart")]


def test_warnings_are_limited() -> None:
    samples, warnings = run([f"junk {i}" for i in range(100)])
    assert samples == []
    assert [w.code for w in warnings] == ["bad-line"] * 21
    assert "80 more" in warnings[-1].message


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=30))
def test_junk_never_raises(lines: list[str]) -> None:
    run(lines)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mangled_fixture_lines_never_raise(data: st.DataObject) -> None:
    raw = (HERE / "handwritten-v2-shell-loops.txt").read_text().splitlines()
    lines = [
        data.draw(
            st.sampled_from([line, line[: len(line) // 2], line.replace(" ", ":"), line[::-1]])
        )
        for line in raw
    ]
    run(lines)


# --- the sampler ---------------------------------------------------------------------------


def _sampler(*args: str) -> list[str]:
    cmd = [sys.executable, str(SAMPLER), *args]
    return [*cmd]


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="needs Linux /proc")
def test_sampler_on_this_host(tmp_path: Path) -> None:
    out = tmp_path / "samples"
    run_ = subprocess.run(
        _sampler("--interval", "0.5", "--duration", "1.5", "--cgroup", "self", "-o", str(out)),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run_.returncode == 0, run_.stderr
    lines = out.read_text().splitlines()
    samples, warnings = run(lines)
    assert warnings == []
    assert len({s.time for s in samples}) == 3
    metrics = {s.metric for s in samples}
    assert {"mem_available_kb", "mem_total_kb", "commit_kb"} <= metrics
    if Path("/proc/pressure/memory").exists():
        assert "psi_mem_some_avg10" in metrics
    cgroups = {s.entity for s in samples if s.metric == "cg_mem_current_kb"}
    assert len(cgroups) == 1
    assert psi.sniff(lines)
    again = subprocess.run(_sampler("--duration", "0.1", "-o", str(out)), timeout=30)
    assert again.returncode == 0
    assert out.read_text().splitlines()[: len(lines)] == lines  # -o appends


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sampler_stops_cleanly_on_signals(sig: int) -> None:
    proc = subprocess.Popen(_sampler("--interval", "0.2"), stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert out.endswith("\n")
    samples, warnings = run(out.splitlines())
    assert samples and warnings == []


def test_sampler_rejects_a_bad_interval() -> None:
    bad = subprocess.run(_sampler("--interval", "0"), capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "--interval" in bad.stderr
