"""sysstat history: sar text, sadf -d / -j, and binary sa files through sadf."""

from __future__ import annotations

import json
import shutil
import struct
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import history_expect as he
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oomsleuth.errors import InputError
from oomsleuth.history import metrics, sadf, sar
from oomsleuth.load import sa_binary
from oomsleuth.model import Sample, Warning_

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "history" / "sysstat"
EXPECTS = sorted(FIXTURES.glob("*.expect.json"))
UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")
needs_sadf = pytest.mark.skipif(shutil.which("sadf") is None, reason="sysstat is not installed")


def input_of(expect: Path) -> Path:
    stem = expect.name.removesuffix(".expect.json")
    found = [p for p in FIXTURES.glob(f"{stem}*") if p.name.rpartition(".")[0] == stem]
    return found[0] if found else FIXTURES / stem


def text(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def run(
    module: Any,
    lines: Iterable[str],
    tz: Any = UTC,
    keep: Callable[[datetime], bool] = lambda t: True,
) -> tuple[list[Sample], list[Warning_]]:
    return he.run(module.parse, lines, source="x", tz=tz, keep=keep)


def parse_fixture(expect: dict[str, Any], path: Path, **kw: Any) -> tuple[list[Sample], list[Any]]:
    if expect["format"] == "sa-binary":
        if shutil.which("sadf") is None:
            pytest.skip("sysstat is not installed")
        return run(sadf, sa_binary.sa_to_lines(path), **kw)
    module = sar if expect["format"] == "sar" else sadf
    return run(module, text(path), **kw)


@pytest.mark.parametrize("expect_path", EXPECTS, ids=lambda p: p.name)
def test_fixture(expect_path: Path) -> None:
    expect = json.loads(expect_path.read_text())
    tz = ZoneInfo(expect["tz"])
    samples, warnings = parse_fixture(expect, input_of(expect_path), tz=tz)
    assert sorted({w.code for w in warnings}) == sorted(expect["warnings"])
    assert len(samples) == expect["count"]
    assert dict(Counter(s.metric for s in samples)) == expect["metrics"]
    got = {(s.time.isoformat(), s.metric): s.value for s in samples}
    assert len(got) == len(samples), "one value per time and metric"
    tolerance = expect["tolerance"] or 0.0
    for when, metric, value in expect["samples"]:
        assert (when, metric) in got, (when, metric)
        assert got[when, metric] == pytest.approx(value, rel=tolerance, abs=tolerance * 5)
    if expect["complete"]:
        assert set(got) == {(w, m) for w, m, _ in expect["samples"]}
    for s in samples:
        assert s.time.tzinfo is not None and s.time.utcoffset() is not None
        assert s.metric in metrics.HOST or s.metric == "restart"
        assert s.entity is None and s.source == "x"
    if "restart" in expect["metrics"]:
        assert all(s.value == 0 for s in samples if s.metric == "restart")


def test_every_fixture_has_an_expectation_and_a_readme_entry() -> None:
    readme = (FIXTURES / "README.md").read_text()
    inputs = {input_of(e).name for e in EXPECTS}
    data = {p.name for p in FIXTURES.iterdir() if p.suffix in (".txt", ".csv", ".json", "")}
    data = {n for n in data if (FIXTURES / n).is_file()}
    data = {n for n in data if not n.endswith(".expect.json") and n != "README.md"}
    assert data <= inputs
    for name in inputs:
        assert name in readme, name


@pytest.mark.parametrize("expect_path", EXPECTS, ids=lambda p: p.name)
def test_sniff(expect_path: Path) -> None:
    expect = json.loads(expect_path.read_text())
    if expect["format"] == "sa-binary":
        assert sa_binary.is_sa_binary(input_of(expect_path).read_bytes()[:64])
        return
    head = text(input_of(expect_path))[:50]
    assert sar.sniff(head) is (expect["format"] == "sar")
    assert sadf.sniff(head) is (expect["format"] == "sadf")
    assert not sa_binary.is_sa_binary(input_of(expect_path).read_bytes()[:64])


PIDSTAT = """\
Linux 6.18.44-fc-v657 (vm) 	11/25/26 	_x86_64_	(2 CPU)

23:20:01      UID       PID  minflt/s  majflt/s     VSZ     RSS   %MEM  Command
23:20:02        0       812   1021.00      0.00  415180  402668   1.63  python3
"""
MPSTAT = """\
Linux 6.18.44-fc-v657 (vm) 	11/25/26 	_x86_64_	(2 CPU)

23:20:01     CPU    %usr   %nice    %sys %iowait    %irq   %soft  %steal  %guest  %gnice   %idle
23:20:02     all    0.50    0.00    0.50    0.00    0.00    0.00    0.00    0.00    0.00   99.00
"""
KERNEL = "[  12.345678] python3 invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE)"


@pytest.mark.parametrize("other", [PIDSTAT, MPSTAT, KERNEL, "", "{}", "a;b;c;d"])
def test_sniff_rejects_other_inputs(other: str) -> None:
    head = other.splitlines()
    assert not sar.sniff(head)
    assert not sadf.sniff(head)


def test_format_infos() -> None:
    assert sar.FORMAT.name == "sar" and sar.FORMAT.sniff is sar.sniff
    assert sadf.FORMAT.name == "sadf" and sadf.FORMAT.sniff is sadf.sniff


# --- times and zones ---------------------------------------------------------------------------


def test_sar_times_are_local_and_placed_in_tz() -> None:
    samples, _ = run(sar, text(FIXTURES / "grow.sar-r.en_US.txt"), tz=NEW_YORK)
    first = samples[0]
    assert first.time == datetime(2026, 11, 25, 23, 16, 46, tzinfo=NEW_YORK)
    assert first.time.utcoffset() == timedelta(hours=-5)


def test_sadf_utc_stamps_are_converted_and_zoneless_ones_placed() -> None:
    utc, _ = run(sadf, text(FIXTURES / "grow.sadf-d-A.csv"), tz=NEW_YORK)
    assert min(s.time for s in utc) == datetime(2026, 11, 25, 23, 16, 46, tzinfo=UTC)
    assert all(s.time.tzinfo is NEW_YORK for s in utc)
    local, _ = run(sadf, text(FIXTURES / "grow.sadf-d-T-r.csv"), tz=NEW_YORK)
    assert local[0].time == datetime(2026, 11, 25, 23, 16, 46, tzinfo=NEW_YORK)
    epoch, _ = run(sadf, text(FIXTURES / "grow.sadf-d-U-q.csv"), tz=NEW_YORK)
    assert epoch[0].time == datetime(2026, 11, 25, 23, 16, 46, tzinfo=UTC)


BANNER = "Linux 6.1.0-18-amd64 (host) 	{} 	_x86_64_	(2 CPU)"
R_HEADER = "{}    kbmemfree   kbavail kbmemused  %memused kbbuffers  kbcached  kbcommit   %commit"
R_ROW = "{}     1000  2000 3000  4.00 5 6 7 8.00"


def sar_text(date: str, times: list[str]) -> list[str]:
    return [BANNER.format(date), "", R_HEADER.format(times[0])] + [
        R_ROW.format(t) for t in times[1:]
    ]


@pytest.mark.parametrize(
    ("banner", "day", "ambiguous"),
    [
        ("11/25/26", datetime(2026, 11, 25), False),
        ("11/25/2026", datetime(2026, 11, 25), False),
        ("25/11/26", datetime(2026, 11, 25), False),
        ("25.11.2026", datetime(2026, 11, 25), False),
        ("2026-11-25", datetime(2026, 11, 25), False),
        ("2026/11/25", datetime(2026, 11, 25), False),
        ("05/06/26", datetime(2026, 5, 6), True),
        ("06/06/26", datetime(2026, 6, 6), False),
    ],
)
def test_banner_dates(banner: str, day: datetime, ambiguous: bool) -> None:
    samples, warnings = run(sar, sar_text(banner, ["10:00:00", "10:01:00"]))
    assert samples[0].time == day.replace(hour=10, minute=1, tzinfo=UTC)
    assert [w.code for w in warnings] == (["sar-date-ambiguous"] if ambiguous else [])


def test_twelve_hour_clock() -> None:
    times = ["11:58:00 PM", "11:59:00 PM", "12:00:00 AM", "12:30:00 AM", "12:00:00 PM"]
    samples, warnings = run(sar, [*sar_text("11/25/2026", times), "01:00:00 PM  LINUX RESTART"])
    stamps = sorted({s.time for s in samples})
    assert [t.strftime("%d %H:%M") for t in stamps] == [
        "25 23:59",
        "26 00:00",
        "26 00:30",
        "26 12:00",
        "26 13:00",
    ]
    assert not warnings


def test_a_clock_going_back_without_a_banner_is_the_next_day() -> None:
    lines = sar_text("11/25/26", ["23:50:01", "23:59:01", "00:09:01", "00:19:01"])
    lines += ["", "23:50:01  pswpin/s pswpout/s", "23:59:01  1.00 2.00", "00:09:01  3.00 4.00"]
    samples, _ = run(sar, lines)
    days = {(s.metric, s.time.day, s.time.hour) for s in samples}
    assert ("mem_free_kb", 25, 23) in days and ("mem_free_kb", 26, 0) in days
    # the second section starts again at the block's first time: same days, not a third one
    assert ("pswpin_s", 25, 23) in days and ("pswpin_s", 26, 0) in days
    assert max(s.time for s in samples).day == 26


def test_restart_then_next_day() -> None:
    lines = sar_text("11/25/26", ["23:40:01", "23:50:01"])
    lines += ["", "00:05:11     LINUX RESTART\t(2 CPU)", "", R_HEADER.format("00:05:11")]
    lines += [R_ROW.format("00:10:01"), "Average:  1 2 3 4 5 6 7 8"]
    samples, warnings = run(sar, lines)
    restarts = [s for s in samples if s.metric == "restart"]
    assert [r.time for r in restarts] == [datetime(2026, 11, 26, 0, 5, 11, tzinfo=UTC)]
    assert max(s.time for s in samples) == datetime(2026, 11, 26, 0, 10, 1, tzinfo=UTC)
    assert not warnings


def test_values_decimal_commas_and_human_units() -> None:
    lines = [BANNER.format("25.11.2026"), R_HEADER.format("10:00:00")]
    lines.append("10:01:00  22,5G 1,5M 512.0k 4,25 1.0T 2 3 50.0%")
    samples, warnings = run(sar, lines)
    values = {s.metric: s.value for s in samples}
    assert values["mem_free_kb"] == 22.5 * 1024 * 1024
    assert values["mem_available_kb"] == 1.5 * 1024
    assert values["mem_used_kb"] == 512
    assert values["buffers_kb"] == 1024**3
    assert values["commit_pct"] == 50.0
    assert "%memused" not in values and not warnings


def test_swap_total_is_free_plus_used() -> None:
    lines = [BANNER.format("11/25/26"), "10:00:00  kbswpfree kbswpused  %swpused  kbswpcad"]
    lines.append("10:01:00  1000 24 2.34 8")
    samples, _ = run(sar, lines)
    values = {s.metric: s.value for s in samples}
    assert values == {
        "swap_free_kb": 1000,
        "swap_used_kb": 24,
        "swap_cached_kb": 8,
        "swap_total_kb": 1024,
    }


# --- keep --------------------------------------------------------------------------------------


@pytest.mark.parametrize("expect_path", EXPECTS, ids=lambda p: p.name)
def test_keep_rejecting_everything_yields_nothing(expect_path: Path) -> None:
    expect = json.loads(expect_path.read_text())
    seen: list[datetime] = []

    def keep(t: datetime) -> bool:
        seen.append(t)
        return False

    samples, _ = parse_fixture(expect, input_of(expect_path), keep=keep)
    assert samples == []
    assert seen and all(t.tzinfo is not None for t in seen)


@pytest.mark.parametrize(
    "name", ["grow.sar-A.C.txt", "grow.sadf-d-A.csv", "grow.sadf-j-A.json", "grow.sar-r.en_US.txt"]
)
def test_keep_selects_times(name: str) -> None:
    module = sadf if name.startswith("grow.sadf") else sar
    wanted = datetime(2026, 11, 25, 23, 16, 48, tzinfo=UTC)
    samples, _ = run(module, text(FIXTURES / name), keep=lambda t: t == wanted)
    assert samples and {s.time for s in samples} == {wanted}
    everything, _ = run(module, text(FIXTURES / name))
    assert samples == [s for s in everything if s.time == wanted]


# --- odd input ---------------------------------------------------------------------------------


JUNK = [
    "",
    "Average:",
    "23:01:09",
    "23:01:09 kbmemfree",
    "23:01:10 abc def",
    "99:99:99 1 2 3",
    "Linux x (y) 99/99/99 _x_ (2 CPU)",
    "Linux x (y) 11/25/26",
    "23:01:10 1 2 3 4 5 6 7 8 9 10 11 12",
    "# hostname;interval;timestamp;kbmemfree",
    "vm;1;2026-11-25 23:01:10 UTC",
    "vm;1;2026-13-45 23:01:10 UTC;1",
    "vm;1;2026-11-25 23:01:10 UTC;x;y",
    "vm;-1;garbage;LINUX-RESTART",
    '{"sysstat": {"hosts": [{"statistics": [{"timestamp": {"date": "x"}, "memory": 3}',
    '{"timestamp": {"date": "2026-11-25", "time": "23:01:10", "utc": 1}, "memory": []}',
    '"boot": {"date": "2026-02-30", "time": "25:00:00"}',
    "\x00\x01\ufffd" * 10,
]


@pytest.mark.parametrize("module", [sar, sadf], ids=["sar", "sadf"])
def test_junk_never_raises(module: Any) -> None:
    samples, warnings = run(module, JUNK)
    assert all(isinstance(s, Sample) for s in samples)
    assert all(isinstance(w, Warning_) for w in warnings)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(JUNK) | st.text(max_size=80), max_size=30))
def test_random_lines_never_raise(lines: list[str]) -> None:
    for module in (sar, sadf):
        run(module, lines)
        run(module, ["{", *lines])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_truncated_fixtures_never_raise(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from([input_of(e) for e in EXPECTS if input_of(e).suffix]))
    content = path.read_text()
    cut = data.draw(st.integers(0, len(content)))
    module = sar if ".sar-" in path.name else sadf
    samples, _ = run(module, content[:cut].splitlines())
    full, _ = run(module, content.splitlines())
    assert len(samples) <= len(full)


def test_truncated_json_warns() -> None:
    content = (FIXTURES / "grow.sadf-j-A.json").read_text()
    lines = content[: len(content) // 2].splitlines()
    samples, warnings = run(sadf, lines)
    assert samples and "sadf-truncated" in {w.code for w in warnings}


def test_broken_json_item_is_skipped_with_a_warning() -> None:
    lines = text(FIXTURES / "grow.sadf-j-A.json")
    index = next(i for i, line in enumerate(lines) if '"memory"' in line)
    lines[index] = lines[index].replace(":", "::", 1)
    samples, warnings = run(sadf, lines)
    full, _ = run(sadf, text(FIXTURES / "grow.sadf-j-A.json"))
    assert "sadf-bad-json" in {w.code for w in warnings}
    assert 0 < len(samples) < len(full)


def test_rows_without_a_banner_warn_once_per_code() -> None:
    lines = [R_HEADER.format("10:00:00")] + [R_ROW.format(f"10:{m:02}:00") for m in range(1, 40)]
    samples, warnings = run(sar, lines)
    assert samples == []
    assert [w.code for w in warnings] == ["sar-no-date"] * sar.WARN_LIMIT


def test_row_under_the_wrong_header_is_skipped() -> None:
    lines = [*sar_text("11/25/26", ["10:00:00", "10:01:00"]), "10:02:00  1 2 3"]
    samples, warnings = run(sar, lines)
    assert {s.time.minute for s in samples} == {1}
    assert [w.code for w in warnings] == ["sar-bad-row"]


# --- streaming ---------------------------------------------------------------------------------


def month_of_sar_r() -> Iterator[str]:
    """31 daily ``sar -r`` outputs at one-minute resolution, concatenated (about 44,700 lines)."""
    for day in range(1, 32):
        yield f"Linux 6.1.0-18-amd64 (host) \t12/{day:02}/2026 \t_x86_64_\t(2 CPU)"
        yield ""
        yield R_HEADER.format("00:00:01") + "  kbactive   kbinact   kbdirty"
        for minute in range(1, 1440):
            h, m = divmod(minute, 60)
            free = 1_000_000 + (day * 1440 + minute) % 77_777
            yield (
                f"{h:02}:{m:02}:01  {free:>9} {free + 5000:>9} {16_000_000 - free:>9}"
                f"  93.75  1024  200000  18000000  110.50  900000  300000  120"
            )
        yield "Average:  1 2 3 4 5 6 7 8 9 10 11"


def test_a_month_streams_in_small_memory() -> None:
    start = datetime(2026, 12, 17, 14, 0, tzinfo=UTC)
    end = start + timedelta(minutes=35)
    size = sum(len(line) + 1 for line in month_of_sar_r())
    assert size > 4_000_000
    tracemalloc.start()
    try:
        count = 0
        for sample in sar.parse(
            month_of_sar_r(), source="month", tz=UTC, keep=lambda t: start <= t < end
        ):
            count += 1
            assert start <= sample.time < end
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 35 * 10  # ten of the eleven columns are metrics (not %memused)
    print(f"peak {peak} bytes for {size} bytes of input")
    assert peak < 200_000, f"peak {peak} bytes for {size} bytes of input"


def test_rejecting_everything_is_fast() -> None:
    began = time.perf_counter()
    samples = list(sar.parse(month_of_sar_r(), source="m", tz=UTC, keep=lambda t: False))
    assert samples == []
    assert time.perf_counter() - began < 5


def month_of_sadf_json() -> Iterator[str]:
    """A month of ``sadf -j -- -r`` at ten-minute resolution, line by line."""
    yield '{"sysstat": {\n\t"hosts": [\n\t\t{\n\t\t\t"nodename": "vm",\n\t\t\t"statistics": ['
    first = datetime(2026, 12, 1, tzinfo=UTC)
    for i in range(31 * 144):
        t = first + timedelta(minutes=10 * i)
        comma = "," if i < 31 * 144 - 1 else ""
        yield "\t\t\t\t{"
        yield (
            f'\t\t\t\t\t"timestamp": {{"date": "{t:%Y-%m-%d}", "time": "{t:%H:%M:%S}", '
            '"utc": 1, "interval": 600},'
        )
        yield f'\t\t\t\t\t"memory": {{"memfree": {i}, "avail": {i + 1}, "dirty": 3}}'
        yield "\t\t\t\t}" + comma
    yield "\t\t\t],"
    yield '\t\t\t"restarts": [\n\t\t\t\t{"boot": {"date": "2026-12-17", "time": "14:05:00",'
    yield '"utc": 1, "cpu_count": 2}}\n\t\t\t]\n\t\t}\n\t]\n}}'


def test_sadf_json_streams_in_small_memory() -> None:
    start = datetime(2026, 12, 17, 14, 0, tzinfo=UTC)
    end = start + timedelta(minutes=35)
    tracemalloc.start()
    try:
        samples = list(
            sadf.parse(month_of_sadf_json(), source="j", tz=UTC, keep=lambda t: start <= t < end)
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert Counter(s.metric for s in samples) == {
        "mem_free_kb": 4,
        "mem_available_kb": 4,
        "dirty_kb": 4,
        "restart": 1,
    }
    assert peak < 200_000


# --- binary sa files through sadf --------------------------------------------------------------


def test_is_sa_binary() -> None:
    assert sa_binary.is_sa_binary(b"\x96\xd5\x75\x21" + bytes(60))
    assert sa_binary.is_sa_binary(b"\xd5\x96\x21\x73" + bytes(60))  # written big-endian
    assert not sa_binary.is_sa_binary(b"\x96\xd5\x00\x00")
    assert not sa_binary.is_sa_binary(b"Linux 6.1")
    assert not sa_binary.is_sa_binary(b"")


@needs_sadf
def test_sa_to_lines_streams() -> None:
    lines = sa_binary.sa_to_lines(FIXTURES / "sa26")
    assert isinstance(lines, Generator)  # streamed, not read whole
    first = next(lines)
    assert first.startswith("# hostname;interval;timestamp;") and not first.endswith("\n")
    lines.close()  # stops sadf


def test_missing_sadf_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InputError) as caught:
        list(sa_binary.sa_to_lines(FIXTURES / "sa26"))
    message = caught.value.message
    assert "\n" not in message and "install sysstat: apt-get install sysstat" in message


@needs_sadf
def test_another_sysstat_version_is_one_clear_line(tmp_path: Path) -> None:
    data = bytearray((FIXTURES / "sa26").read_bytes())
    data[2:4] = struct.pack("<H", 0x2173)  # the format of sysstat 10.3 to 11.6
    copy = tmp_path / "sa26"
    copy.write_bytes(bytes(data))
    with pytest.raises(InputError) as caught:
        list(sa_binary.sa_to_lines(copy))
    message = caught.value.message
    assert "\n" not in message
    assert "0x2173" in message and "sadf -d" in message and "host that wrote it" in message


@needs_sadf
def test_not_a_sysstat_file_is_one_clear_line(tmp_path: Path) -> None:
    junk = tmp_path / "sa01"
    junk.write_bytes(b"\x00" * 4096)
    with pytest.raises(InputError) as caught:
        list(sa_binary.sa_to_lines(junk))
    assert "\n" not in caught.value.message and "sadf -d" in caught.value.message


@needs_sadf
def test_a_binary_cut_short_keeps_its_records_and_warns(tmp_path: Path) -> None:
    data = (FIXTURES / "sa26").read_bytes()
    cut = tmp_path / "sa26"
    cut.write_bytes(data[: len(data) - 700])
    samples, warnings = run(sadf, sa_binary.sa_to_lines(cut))
    full, _ = run(sadf, sa_binary.sa_to_lines(FIXTURES / "sa26"))
    assert 0 < len(samples) < len(full)
    assert "sadf-note" in {w.code for w in warnings}


def test_sa_to_lines_on_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        list(sa_binary.sa_to_lines(tmp_path / "sa31"))
    assert "\n" not in caught.value.message


def test_a_file_from_a_newer_sysstat_asks_for_that_version() -> None:
    stderr = (
        "Invalid system activity file: sa25\n"
        "File created by sar/sadc from sysstat version 12.7.5\n"
        "Current sysstat version cannot read the format of this file (0x2176)\n"
    )
    error = sa_binary._explain(Path("/var/log/sa/sa25"), 3, stderr, "12.6.1")
    assert "\n" not in error.message
    assert "install sysstat 12.7.5 or newer" in error.message and "sadf -c" not in error.message
    older = sa_binary._explain(Path("sa25"), 3, stderr.replace("12.7.5", "11.6.1"), "12.6.1")
    assert "sadf -c sa25" in older.message and "host that wrote it" in older.message
