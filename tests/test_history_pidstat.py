"""pidstat history (oomsleuth.history.pidstat): -r alone and mixed, -h, -H, -l, -t, locales."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import history_expect as he
import pytest
from expect import expect_path
from hypothesis import given, settings
from hypothesis import strategies as st

from oomsleuth.history import pidstat
from oomsleuth.model import Sample, Warning_

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "history" / "pidstat"
NAMES = sorted(p.name for p in FIXTURES.glob("*.txt"))
# (leaker, steady) pid of each capture; pidstat -r -l lists only tasks that faulted
PIDS = {
    "pidstat-r.txt": ("pid:12", "pid:13"),
    "pidstat-r-h.txt": ("pid:16", "pid:17"),
    "pidstat-r-l.txt": ("pid:20", None),
    "pidstat-r-u-d-h-H.txt": ("pid:24", "pid:25"),
    "pidstat-r-t.txt": ("pid:28", "pid:29"),
    "pidstat-r-12h.txt": ("pid:37", "pid:38"),
    "pidstat-r-iso.txt": ("pid:41", "pid:42"),
}
HEADER = "Linux 6.1.0-18-amd64 (web-1) \t11/25/2026 \t_x86_64_\t(2 CPU)"
COLUMNS = "UID       PID  minflt/s  majflt/s     VSZ     RSS   %MEM  Command"


def run(
    lines: list[str],
    tz: Any = timezone.utc,
    keep: Callable[[datetime], bool] = lambda t: True,
) -> tuple[list[Sample], list[Warning_]]:
    return he.run(pidstat.parse, lines, tz=tz, keep=keep)


def fixture(name: str, tz: Any = timezone.utc) -> list[Sample]:
    samples, warnings = run((FIXTURES / name).read_text().splitlines(), tz)
    assert warnings == []
    return samples


def series(samples: list[Sample], entity: str, metric: str = "proc_rss_kb") -> list[float]:
    return [s.value for s in samples if s.entity == entity and s.metric == metric]


def test_every_fixture_is_listed() -> None:
    assert set(NAMES) == set(PIDS)


@pytest.mark.parametrize("name", NAMES)
def test_fixture_gives_expected_samples(name: str) -> None:
    expect: dict[str, Any] = json.loads(expect_path(FIXTURES / name).read_text())
    warnings: list[Warning_] = []
    with (FIXTURES / name).open() as f:
        samples = list(pidstat.parse(f, source=name, tz=timezone.utc, warn=warnings.append))
    assert dict(Counter(s.metric for s in samples)) == expect["counts"]
    assert [{"line": w.where.line, "code": w.code} for w in warnings] == expect["warnings"]
    entities = expect["subset"]["entities"]
    got = [
        [s.time.isoformat(), s.metric, s.value, s.entity] for s in samples if s.entity in entities
    ]
    assert len(got) == len(expect["samples"])
    for row, want in zip(got, expect["samples"], strict=True):
        assert row[:2] + row[3:] == want[:2] + want[3:]
        assert row[2] == pytest.approx(want[2], abs=1e-6)
    for entity, labels in expect["labels"].items():
        assert {s.labels for s in samples if s.entity == entity} == {tuple(labels.items())}
    assert all(s.time.tzinfo is not None and s.source == name for s in samples)


@pytest.mark.parametrize("name", NAMES)
def test_leaker_grows_and_steady_stays_flat(name: str) -> None:
    samples = fixture(name)
    leaker, steady = PIDS[name]
    leak = series(samples, leaker)
    assert len(leak) >= 3
    assert all(b - a > 3000 for a, b in pairwise(leak))  # ~4 MiB a second
    assert all(v > 1000 for v in series(samples, leaker, "proc_minflt_s"))
    if steady is not None:
        flat = series(samples, steady)
        assert len(flat) == len(leak)
        assert max(flat) - min(flat) < 512
        assert set(series(samples, steady, "proc_minflt_s")) == {0.0}


@pytest.mark.parametrize("name", NAMES)
def test_rss_read_by_header_name_matches_the_rows(name: str) -> None:
    """An independent read: RSS and PID (or TGID) found by their place in the header."""
    leaker = PIDS[name][0].removeprefix("pid:")
    rss: list[float] = []
    rss_at = pid_at = -1
    for line in (FIXTURES / name).read_text().splitlines():
        tokens = line.split()
        if not tokens or tokens[0] == "Average:":
            continue
        shift = 2 if len(tokens) > 1 and tokens[1] in ("AM", "PM", "Time") else 1
        if tokens[-1] == "Command":
            rss_at, pid_at = tokens.index("RSS") - shift, tokens.index(tokens[shift + 1]) - shift
            continue
        if rss_at >= 0 and tokens[shift + pid_at] == leaker:
            rss.append(float(tokens[shift + rss_at]))
    assert rss == series(fixture(name), PIDS[name][0])


def test_names_with_spaces_and_parentheses() -> None:
    samples = fixture("pidstat-r.txt")
    assert {s.label("comm") for s in samples if s.entity == "pid:12"} == {"leak (x) y"}
    assert {s.label("comm") for s in samples if s.entity == "pid:13"} == {"steady one"}
    assert all(s.label("cmdline") is None for s in samples)


def test_command_lines_of_l() -> None:
    samples = fixture("pidstat-r-l.txt")
    first = next(s for s in samples if s.entity == "pid:20")
    assert first.label("cmdline") == (
        "/work/main/.venv/bin/python /work/main/fixtures/history/atop/workload.py leak 8 4 "
        "leak (x) y"
    )
    assert first.label("comm") == "python"


def test_threads_of_t_are_left_out() -> None:
    samples = fixture("pidstat-r-t.txt")
    keys = Counter((s.time, s.entity, s.metric) for s in samples)
    assert set(keys.values()) == {1}
    assert {s.label("comm") for s in samples} == {"sh", "leak (x) y", "steady one", "pidstat"}


def test_times_in_every_clock_format() -> None:
    t12 = fixture("pidstat-r-12h.txt")
    assert [t.isoformat() for t in sorted({s.time for s in t12})] == [
        "2026-11-25T23:07:46+00:00",
        "2026-11-25T23:07:47+00:00",
        "2026-11-25T23:07:48+00:00",
    ]
    iso = fixture("pidstat-r-iso.txt")
    assert min(s.time for s in iso) == datetime(2026, 11, 25, 23, 7, 52, tzinfo=timezone.utc)
    c_locale = fixture("pidstat-r.txt")  # "11/25/26"
    assert min(s.time for s in c_locale) == datetime(2026, 11, 25, 23, 6, 36, tzinfo=timezone.utc)


def test_naive_times_go_in_tz_and_epochs_do_not() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    local = fixture("pidstat-r.txt", berlin)
    assert min(s.time for s in local) == datetime(2026, 11, 25, 23, 6, 36, tzinfo=berlin)
    assert min(s.time for s in local).utcoffset() == timedelta(hours=1)
    epoch = fixture("pidstat-r-u-d-h-H.txt", berlin)
    assert min(s.time for s in epoch) == datetime(2026, 11, 25, 23, 7, 30, tzinfo=timezone.utc)


def test_am_pm_midnight_and_noon_and_day_rollover() -> None:
    lines = [HEADER, "", f"11:59:58 PM   {COLUMNS}"]
    for clock in ("11:59:59 PM", "12:00:00 AM", "12:30:00 PM", "01:00:00 PM"):
        lines.append(f"{clock}     0      4242      1.00      0.00   1000   500   0.01  my app")
    samples, warnings = run(lines)
    assert warnings == []
    assert {s.labels for s in samples} == {(("comm", "my app"),)}  # a name with a space
    assert [s.time.isoformat() for s in samples if s.metric == "proc_rss_kb"] == [
        "2026-11-25T23:59:59+00:00",
        "2026-11-26T00:00:00+00:00",
        "2026-11-26T12:30:00+00:00",
        "2026-11-26T13:00:00+00:00",
    ]
    back = [HEADER, f"10:00:05  {COLUMNS}"]  # the clock stepped back two seconds: same day
    back += [f"{c}  0  7  0.00  0.00  10  5  0.00  x" for c in ("10:00:05", "10:00:03")]
    samples, _ = run(back)
    assert {s.time.date() for s in samples} == {datetime(2026, 11, 25).date()}


def test_dates_of_other_locales_and_several_reports() -> None:
    rows = [f"08:00:00  {COLUMNS}", "08:00:01  0  7  0.00  0.00  10  5  0.00  x"]
    lines = [HEADER.replace("11/25/2026", "25.11.2026"), *rows]
    lines += [HEADER.replace("11/25/2026", "26/11/2026"), *rows]  # en_GB: day first
    lines += [HEADER.replace("11/25/2026", "2026-11-27"), *rows]
    samples, warnings = run(lines)
    assert warnings == []
    days = sorted({s.time.day for s in samples})
    assert days == [25, 26, 27]


def test_columns_by_header_name_and_human_sizes() -> None:
    lines = [
        HEADER,
        "# Time   UID  PID  %usr  RSS  %MEM  VSZ  majflt/s  minflt/s  kB_rd/s  Command",
        "1795640000  0  99  1.00  16.6M  0.50  1.5G  2.00  3.00  0.00  java -Xmx1g Main",
        "1795640000  0  98  1.00  512.0k  0.00  2048B  0.00  0.00  0.00  cat",
    ]
    samples, warnings = run(lines)
    assert warnings == []
    got = {(s.entity, s.metric): s.value for s in samples}
    assert got[("pid:99", "proc_rss_kb")] == pytest.approx(16.6 * 1024)
    assert got[("pid:99", "proc_vsz_kb")] == pytest.approx(1.5 * 1024 * 1024)
    assert got[("pid:99", "proc_majflt_s")] == 2.0
    assert got[("pid:99", "proc_minflt_s")] == 3.0
    assert got[("pid:99", "proc_mem_pct")] == 0.5
    assert got[("pid:98", "proc_rss_kb")] == 512.0
    assert got[("pid:98", "proc_vsz_kb")] == 2.0
    java = next(s for s in samples if s.entity == "pid:99")
    assert java.labels == (("cmdline", "java -Xmx1g Main"), ("comm", "java"))  # -l: > 15 chars
    assert java.time == datetime(2026, 11, 25, 20, 53, 20, tzinfo=timezone.utc)


def test_keep_drops_early_and_is_asked_once_per_time() -> None:
    lines = (FIXTURES / "pidstat-r.txt").read_text().splitlines()
    start = datetime(2026, 11, 25, 23, 6, 40, tzinfo=timezone.utc)
    asked: list[datetime] = []

    def keep(t: datetime) -> bool:
        asked.append(t)
        return start <= t < start + timedelta(seconds=2)

    samples, _ = run(lines, keep=keep)
    assert {s.time for s in samples} == {start, start + timedelta(seconds=1)}
    assert len(asked) == len(set(asked)) == 20
    assert series(samples, "pid:12") == [33444.0, 37540.0]


def test_junk_warns_and_never_raises() -> None:
    lines = [
        "garbage before anything",
        f"10:00:00  {COLUMNS}",
        "10:00:01  0  7  0.00  0.00  10  5  0.00  x",  # no date line yet
        HEADER.replace("11/25/2026", "13/13/2026"),
        "10:00:02  0  7  0.00  0.00  10  5  0.00  x",
        HEADER,
        "10:00:03  0  7  0.00",  # cut short
        "10:00:04  0  x7  0.00  0.00  10  5  0.00  x",
        "10:00:05  0  7  1.0.0  0.00  10  5  0.00  x",  # a bad number: that metric only
        "Average:  0  7  0.00  0.00  10  5  0.00  x",
        "\x00\xff",
        "99:99:99  0  7  0.00  0.00  10  5  0.00  x",
    ]
    samples, warnings = run(lines)
    assert Counter(w.code for w in warnings) == {
        "pidstat-unparsable-line": 4,
        "pidstat-no-date": 3,
        "pidstat-short-line": 1,
    }
    assert [s.metric for s in samples] == [
        "proc_majflt_s",
        "proc_vsz_kb",
        "proc_rss_kb",
        "proc_mem_pct",
    ]
    _, capped = run(["junk"] * 500)
    assert len(capped) == 21
    assert capped[-1].message == "480 more like it"


def test_every_cut_of_real_lines_is_safe() -> None:
    lines = (FIXTURES / "pidstat-r-u-d-h-H.txt").read_text().splitlines()
    for index, line in enumerate(lines[:12]):
        for cut in range(len(line)):
            run([*lines[:index], line[:cut], *lines[index + 1 : 14]])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=" 0123456789:.-/#|_APMTimeRSSVZCommandPID\t", max_size=80)))
def test_arbitrary_text_never_raises(lines: list[str]) -> None:
    samples, warnings = run([HEADER, f"# Time {COLUMNS}", *lines])
    assert all(isinstance(s, Sample) for s in samples)
    assert all(isinstance(w, Warning_) for w in warnings)


def test_sniff() -> None:
    for name in NAMES:
        assert pidstat.sniff((FIXTURES / name).read_text().splitlines()[:50]), name
    assert pidstat.FORMAT.sniff is pidstat.sniff
    atop_text = FIXTURES.parent / "atop" / "atop.P.txt"
    assert not pidstat.sniff(atop_text.read_text().splitlines()[:50])
    sar = [HEADER, "", "10:00:01 AM kbmemfree   kbavail kbmemused  %memused kbbuffers"]
    assert not pidstat.sniff(sar)
    assert re.search(r"\bCommand$", COLUMNS)
