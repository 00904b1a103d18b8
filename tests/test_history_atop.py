"""atop history: ``atop -P`` text (oomsleuth.history.atop) and raw files (external_atop)."""

from __future__ import annotations

import json
import re
import shutil
import struct
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any, cast

import history_expect as he
import pytest
from expect import expect_path
from hypothesis import given, settings
from hypothesis import strategies as st

from oomsleuth.errors import InputError
from oomsleuth.history import atop, metrics
from oomsleuth.load import atop_raw
from oomsleuth.load.atop_raw import atop_to_lines, is_atop_raw
from oomsleuth.model import Sample, Warning_

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "history" / "atop"
RAW = FIXTURES / "atop.raw"
needs_atop = pytest.mark.skipif(shutil.which("atop") is None, reason="atop is not installed")
H = "vm 1795647971 2026/11/25 23:06:11 60"  # host, epoch, date, time, interval


def run(
    lines: list[str] | Iterator[str], keep: Callable[[datetime], bool] = lambda t: True
) -> tuple[list[Sample], list[Warning_]]:
    return he.run(atop.parse, lines, keep=keep)


def values(samples: list[Sample], metric: str, entity: str | None = None) -> list[float]:
    return [s.value for s in samples if s.metric == metric and s.entity == entity]


def only(samples: list[Sample], metric: str, entity: str | None = None) -> float:
    found = values(samples, metric, entity)
    assert len(found) == 1, (metric, entity, found)
    return found[0]


# --- the captured fixtures ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["atop.P.txt", "atop.PZ.txt"])
def test_fixture_gives_expected_samples(name: str) -> None:
    expect: dict[str, Any] = json.loads(expect_path(FIXTURES / name).read_text())
    with (FIXTURES / name).open() as f:
        samples, warnings = run(f)
    assert dict(Counter(s.metric for s in samples)) == expect["counts"]
    assert [{"line": w.where.line, "code": w.code} for w in warnings] == expect["warnings"]
    entities, host_times = expect["subset"]["entities"], expect["subset"]["host_times"]
    chosen = [
        s
        for s in samples
        if s.entity in entities or (s.entity is None and s.time.isoformat() in host_times)
    ]
    got = [[s.time.isoformat(), s.metric, s.value, s.entity] for s in chosen]
    assert len(got) == len(expect["samples"])
    for row, want in zip(got, expect["samples"], strict=True):
        assert row[:2] + row[3:] == want[:2] + want[3:]
        assert row[2] == pytest.approx(want[2], abs=1e-6)
    for entity, labels in expect["labels"].items():
        assert {s.labels for s in samples if s.entity == entity} == {tuple(labels.items())}
    assert all(s.time.tzinfo is timezone.utc and s.source == "t" for s in samples)
    assert {s.metric for s in samples} - metrics.ALL <= {
        "pgscan_s",
        "allocstall_s",
        "oom_kill_count",
        "psi_mem_some_interval_pct",
        "psi_mem_full_interval_pct",
        "proc_exit_code",
    }


def test_leaker_grows_and_steady_stays_flat() -> None:
    text = (FIXTURES / "atop.P.txt").read_text()
    samples, _ = run(text.splitlines())
    leak, steady = values(samples, "proc_rss_kb", "pid:5"), values(samples, "proc_rss_kb", "pid:6")
    assert len(leak) == len(steady) == 20
    assert all(b - a > 3000 for a, b in pairwise(leak))  # ~4 MiB a second
    assert leak[-1] - leak[0] > 70_000
    assert max(steady) - min(steady) < 512
    # read independently of the parser: the third number after "(leak (x) y) S"
    rsize = [int(m[1]) for m in re.finditer(r"^PRM .*\(leak \(x\) y\) S \d+ \d+ (\d+)", text, re.M)]
    assert leak == rsize


def test_names_with_spaces_and_parentheses_and_labels_from_prg() -> None:
    samples, _ = run((FIXTURES / "atop.P.txt").read_text().splitlines())
    leak = next(s for s in samples if s.entity == "pid:5")
    assert leak.label("comm") == "leak (x) y"
    assert leak.label("tgid") == "5"
    assert (leak.label("cmdline") or "").endswith("workload.py leak 24 4 leak (x) y")
    assert leak.label("cgroup") is None  # atop printed "()": no cgroup v2 path
    zsamples, _ = run((FIXTURES / "atop.PZ.txt").read_text().splitlines())
    assert next(s for s in zsamples if s.entity == "pid:5").label("comm") == "leak_(x)_y"


def test_reset_sample_has_gauges_but_no_rates() -> None:
    samples, _ = run((FIXTURES / "atop.P.txt").read_text().splitlines())
    first = min(s.time for s in samples)
    at_first = {s.metric for s in samples if s.time == first}
    assert {"mem_total_kb", "proc_rss_kb", "commit_kb", "psi_mem_some_avg10"} <= at_first
    assert not at_first & {"pgscan_s", "pswpin_s", "proc_minflt_s", "psi_mem_some_interval_pct"}
    second = sorted({s.time for s in samples})[1]
    assert "proc_minflt_s" in {s.metric for s in samples if s.time == second}
    assert only([s for s in samples if s.time == second], "proc_minflt_s", "pid:5") == 1025.0


def test_processes_that_ended_give_exit_codes_not_sizes() -> None:
    samples, _ = run((FIXTURES / "atop.P.txt").read_text().splitlines())
    exits = [s for s in samples if s.metric == "proc_exit_code"]
    assert exits and all(s.value != 0 for s in exits)
    ended = {s.entity for s in exits}
    assert not ended & {s.entity for s in samples if s.metric == "proc_rss_kb"}


def test_keep_drops_early_and_is_asked_once_per_sample() -> None:
    lines = (FIXTURES / "atop.P.txt").read_text().splitlines()
    start = datetime(2026, 11, 25, 23, 6, 15, tzinfo=timezone.utc)
    asked: list[datetime] = []

    def keep(t: datetime) -> bool:
        asked.append(t)
        return start <= t < start + timedelta(seconds=3)

    samples, _ = run(lines, keep)
    assert {s.time for s in samples} == {start + timedelta(seconds=i) for i in range(3)}
    assert len(asked) == len(set(asked)) == 20
    assert values(samples, "proc_rss_kb", "pid:5") == [29380.0, 33476.0, 37572.0]


# --- lines of other atop versions, odd names, odd values ----------------------------------------


def test_versions_by_position() -> None:
    mem_210 = " ".join(["4096", "1000", "200", "300", "10", "50", "5", "40", "0", "7"] + ["0"] * 14)
    lines = [
        f"MEM {H} {mem_210} 250 0",  # atop 2.10+: available memory at 24
        f"SWP {H} 4096 1000 400 333 444",  # atop 2.3-2.5: no swap cache, commit at 3
        f"PSI {H} n 0.0 0.0 0.0 0 0.0 0.0 0.0 0",  # no PSI on that kernel
        f"PAG {H} 4096 600 60 0 120 240 -1",  # 2.7+: oomkills -1 = no counter
        "SEP",
        f"SWP {H} 4096 1000 400 50 333 444 50 0 0",  # atop 2.6+
        f"PAG {H} 4096 0 0 0 0 0 2 0 0 0 30 15",  # two OOM kills, pgpgin/out in pages
        f"PSI {H} y 1.0 2.0 3.0 100 4.5 5.5 6.5 3000000 1.5 2.5 3.5 600000 0 0 0 0 0 0 0 0",
    ]
    samples, warnings = run(lines)
    assert warnings == []
    assert only(samples, "mem_available_kb") == 1000.0
    assert only(samples, "shmem_kb") == 28.0
    assert values(samples, "commit_kb") == [1332.0, 1332.0]
    assert values(samples, "swap_cached_kb") == [200.0]
    assert values(samples, "swap_used_kb") == [2400.0, 2400.0]
    assert values(samples, "pgscan_s") == [10.0, 0.0]
    assert values(samples, "pswpout_s") == [4.0, 0.0]
    assert values(samples, "oom_kill_count") == [2.0]
    assert only(samples, "pgpgin_kb_s") == 2.0
    assert values(samples, "psi_mem_some_avg10") == [4.5]
    assert only(samples, "psi_mem_full_avg300") == 3.5
    assert only(samples, "psi_mem_some_interval_pct") == pytest.approx(5.0)  # 3 s of 60
    assert only(samples, "psi_mem_full_interval_pct") == pytest.approx(1.0)


def test_hostile_names_and_newer_prg_fields() -> None:
    tail_prm = "S 4096 2000 1000 4 0 0 120 6 0 0 0 64 {pid} {isproc} 0 0 -1 -1 -1 -1"
    cmd = "sleep 1) 2 3 4 5 6 7 8 9 10 11 y (x"
    prg_213 = (
        f"PRG {H} 77 (a) S 4096 (b) S 0 0 77 1 265 1795640000 ({cmd}) 1 0 1 0 0 0 0 0 0 0 0 y 0"
        " 0 web-7f9c N (/kubepods/pod 1 (x)/c) 1795647971 0"
    )
    lines = [
        prg_213,
        f"PRM {H} 77 (a) S 4096 (b) " + tail_prm.format(pid=77, isproc="y"),
        f"PRM {H} 78 ()) " + tail_prm.format(pid=78, isproc="y"),
        f"PRM {H} 79 ((sd-pam)) " + tail_prm.format(pid=79, isproc="y"),
        f"PRM {H} 80 (worker thread) " + tail_prm.format(pid=77, isproc="n"),
        f"PRG {H} 81 (bash) E 0 0 81 1 265 1795640000 () 1 0 0 0 0 0 0 0 0 0 0 y 0 0 - N ()",
        f"PRM {H} 81 (bash) E 4096 0 0 0 0 0 0 0 0 0 0 0 81 y 0 0 -3 -3 -3 -3",
    ]
    samples, warnings = run(lines)
    assert warnings == []
    by_pid = {s.entity: s for s in samples if s.metric == "proc_rss_kb"}
    assert set(by_pid) == {"pid:77", "pid:78", "pid:79"}  # not the thread, not the ended one
    first = by_pid["pid:77"]
    assert first.label("comm") == "a) S 4096 (b"
    assert first.label("cmdline") == cmd
    assert first.label("cgroup") == "/kubepods/pod 1 (x)/c"
    assert first.label("container") == "web-7f9c"
    assert by_pid["pid:78"].label("comm") == ")"
    assert by_pid["pid:79"].label("comm") == "(sd-pam)"
    assert only(samples, "proc_majflt_s", "pid:77") == pytest.approx(0.1)
    assert only(samples, "proc_swap_kb", "pid:77") == 64.0
    assert only(samples, "proc_exit_code", "pid:81") == 265  # 256 + SIGKILL


def test_a_prm_before_its_prg_borrows_the_previous_sample_names() -> None:
    prm = f"PRM {H} 9 (java) S 4096 2000 1000 4 0 0 0 0 0 0 0 0 9 y"
    prg = f"PRG {H} 9 (java) S 0 0 9 1 0 1795640000 (java -jar a.jar) 1 0 1 0 0 0 0 0 0 0 0 y"
    samples, _ = run([prg, prm, "SEP", prm, prg, "SEP", prm])
    assert [s.label("cmdline") for s in samples if s.metric == "proc_rss_kb"] == [
        "java -jar a.jar",
        "java -jar a.jar",
        "java -jar a.jar",
    ]
    other = prm.replace("(java)", "(other)")  # the pid now names another program
    samples, _ = run([prg, other, "SEP", other, "SEP", prm])
    assert [s.label("cmdline") for s in samples if s.metric == "proc_rss_kb"] == [None] * 3


def test_junk_and_cut_lines_warn_and_never_raise() -> None:
    lines = [
        "",
        "garbage",
        "MEM vm 1795647971 2026/11/25 23:06:11 1",
        "MEM vm 99999999999999999999 2026/11/25 23:06:11 1 4096 1",
        "MEM vm 1795647971 2026/11/25 23:06:11 1 0 100 100",
        "PRM vm 1795647971 2026/11/25 23:06:11 1 12 (cut",
        "PRM vm 1795647971 2026/11/25 23:06:11 1 12 (x) S 4096 20",
        "PRG vm 1795647971 2026/11/25 23:06:11 1 12 (x) S 0 0 12 1 0 179 (cmd",
        "PSI vm 1795647971 2026/11/25 23:06:11 1 y 1.0",
        "\x00\x01\xff binary",
        "DSK vm 1795647971 2026/11/25 23:06:11 1 sda 1 2 3",
        "# atop -r stopped early (exit 7): x.raw may be cut short",
        "MEM vm 1795647971 2026/11/25 23:06:11 1 4096 1 2\r\n",
    ]
    samples, warnings = run(lines)
    codes = Counter(w.code for w in warnings)
    assert codes == {
        "atop-unparsable-line": 3,
        "atop-short-line": 3,
        "atop-bad-time": 1,
        "atop-note": 1,
    }
    assert {w.where.line for w in warnings} == {2, 3, 4, 5, 6, 7, 10, 12}
    assert [s.metric for s in samples] == ["mem_total_kb", "mem_free_kb"]


def test_warnings_are_capped() -> None:
    _, warnings = run(["junk"] * 1000)
    assert len(warnings) == 21
    assert warnings[-1].message == "980 more like it"


def test_every_cut_of_real_lines_is_safe() -> None:
    lines = (FIXTURES / "atop.P.txt").read_text().splitlines()
    picked = [line for line in lines if line[:3] in ("PRG", "PRM", "MEM", "SWP", "PAG", "PSI")]
    for line in picked[::37]:
        for cut in range(0, len(line), 3):
            run([line[:cut], line])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=" ()SEPRGMyn0123456789-/:\nabc", max_size=120), max_size=20))
def test_arbitrary_text_never_raises(lines: list[str]) -> None:
    samples, warnings = run([f"PRG {H} {line}" for line in lines] + lines)
    assert all(isinstance(s, Sample) for s in samples)
    assert all(isinstance(w, Warning_) for w in warnings)


def test_sniff() -> None:
    head = (FIXTURES / "atop.P.txt").read_text().splitlines()[:50]
    assert atop.sniff(head)
    assert atop.FORMAT.sniff is atop.sniff
    pidstat = FIXTURES.parent / "pidstat" / "pidstat-r.txt"
    assert not atop.sniff(pidstat.read_text().splitlines()[:50])
    assert not atop.sniff(["Linux 6.1.0 (host) 11/25/2026 _x86_64_ (2 CPU)", ""])


# --- streaming -----------------------------------------------------------------------------------


def generated(procs: int, intervals: int, step: int = 60) -> Iterator[str]:
    """atop -P text of ``procs`` processes over ``intervals`` samples, made as it is read.

    Each line is built from a prepared tail (few allocations, so tracemalloc stays quick); the
    first process grows by 4 kB a sample, the others hold steady.
    """
    start = 1795600000
    prg = [
        f"{pid} (worker {pid}) S 0 0 {pid} 1 0 1795590000 (/usr/bin/worker --id {pid}) 1 0 1 0"
        f" 0 0 0 0 0 0 0 y 0 0 - - (/system.slice/w.service)"
        for pid in range(100, 100 + procs)
    ]
    prm = [
        f"{pid} (worker {pid}) S 4096 200000 50000 4 0 0 10 0 0 0 0 0 {pid} y 0 0 -3 -3 -3 -3"
        for pid in range(101, 100 + procs)
    ]
    yield "RESET"
    for i in range(intervals):
        epoch = start + i * step
        stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(epoch))
        head = f"vm {epoch} {stamp} {step}"
        yield f"MEM {head} 4096 6171023 5975579 76229 2506 26614 318 20623 0 2214 0 0 2097152 0"
        yield f"SWP {head} 4096 262144 262144 0 75902 3085511 0 0 0"
        yield f"PAG {head} 4096 0 0 0 0 0 0 0 0 0 0 0"
        yield f"PSI {head} y 0.0 0.0 0.0 0 0.1 0.2 0.3 100 0.0 0.0 0.0 0 0 0 0 0 0 0 0 0"
        for tail in prg:
            yield f"PRG {head} {tail}"
        yield f"PRM {head} 100 (worker 100) S 4096 200000 {1000 + 4 * i} 4 0 4 1 0 0 0 0 0 100 y"
        for tail in prm:
            yield f"PRM {head} {tail}"
        yield "SEP"


def stream_peak(procs: int, intervals: int) -> tuple[Counter[str], int]:
    """Parse generated text under tracemalloc, keeping 35 minutes from the second hour on."""
    first = datetime.fromtimestamp(1795600000, timezone.utc)
    window = (first + timedelta(hours=1), first + timedelta(hours=1, minutes=35))
    kept: Counter[str] = Counter()
    tracemalloc.start()
    try:
        for sample in atop.parse(
            generated(procs, intervals),
            source="day",
            tz=timezone.utc,
            keep=lambda t: window[0] <= t < window[1],
        ):
            kept[sample.metric] += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return kept, peak


def test_streaming_holds_little() -> None:
    kept, peak = stream_peak(100, 240)  # four hours at one sample a minute (tracemalloc is slow)
    assert kept["proc_rss_kb"] == 35 * 100
    assert kept["mem_total_kb"] == 35
    assert kept["proc_minflt_s"] == 35 * 100
    assert peak < 500_000, f"peak {peak} bytes"


@pytest.mark.slow
def test_streaming_a_day_of_300_processes_holds_little() -> None:
    kept, peak = stream_peak(300, 1440)  # a day at one sample a minute: 871k lines
    assert kept["proc_rss_kb"] == 35 * 300
    assert peak < 1_000_000, f"peak {peak} bytes"  # ~0.4 MB: names of two samples' processes


# --- raw files through atop -----------------------------------------------------------------------


def test_is_atop_raw() -> None:
    assert is_atop_raw(RAW.read_bytes()[:64])
    assert is_atop_raw(b"\xfe\xed\xbe\xef" + b"\x00" * 60)  # written on a big-endian host
    assert not is_atop_raw(b"")
    assert not is_atop_raw(b"\xef\xbe")
    assert not is_atop_raw((FIXTURES / "atop.P.txt").read_bytes()[:64])


@needs_atop
def test_raw_file_through_atop_matches_the_text_fixture() -> None:
    try:
        lines = list(atop_to_lines(RAW))
    except InputError as exc:  # another atop version here, which cannot read 2.8 raw files
        assert "\n" not in exc.message
        pytest.skip(exc.message)
    samples, warnings = run(lines)
    text, _ = run((FIXTURES / "atop.P.txt").read_text().splitlines())
    assert warnings == []
    assert values(samples, "proc_rss_kb", "pid:5") == values(text, "proc_rss_kb", "pid:5")
    assert values(samples, "mem_free_kb") == values(text, "mem_free_kb")


def patched_raw(tmp_path: Path, version: int | None, sstatlen: int) -> Path:
    """A copy of the fixture raw file whose header claims another layout (and version)."""
    data = bytearray(RAW.read_bytes())
    if version is not None:
        struct.pack_into("<H", data, 4, 0x8000 | version)  # aversion: MSB set, major<<8 | minor
    struct.pack_into("<I", data, 28, sstatlen)  # sstatlen: no longer this atop's struct size
    path = tmp_path / "atop_20261125"
    path.write_bytes(data)
    return path


@needs_atop
@pytest.mark.parametrize(
    ("version", "words"),
    [
        (0x0207, ["written by atop 2.7", "atopconvert", "atop -r atop_20261125 -P"]),
        (0x0263, ["written by atop 2.99", "install atop 2.99 or newer", "host that wrote it"]),
        (None, ["another architecture", "host that wrote it"]),
    ],
)
def test_incompatible_raw_file_is_explained_in_one_line(
    tmp_path: Path, version: int | None, words: list[str]
) -> None:
    path = patched_raw(tmp_path, version, 1000)
    with pytest.raises(InputError) as caught:
        list(atop_to_lines(path))
    message = caught.value.message
    assert "\n" not in message
    for word in words:
        assert word in message


@needs_atop
def test_raw_errors_for_other_files(tmp_path: Path) -> None:
    cases = {
        "not-raw": (b"hello world, this is not atop" * 20, "not a raw atop file"),
        "empty": (b"", "empty or cut short before its header"),
    }
    for name, (data, words) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(InputError, match=re.escape(words)) as caught:
            list(atop_to_lines(path))
        assert "\n" not in caught.value.message
    with pytest.raises(InputError, match="no such raw atop file"):
        list(atop_to_lines(tmp_path / "missing"))


@needs_atop
def test_raw_file_cut_short_keeps_what_atop_read(tmp_path: Path) -> None:
    path = tmp_path / "cut.raw"
    path.write_bytes(RAW.read_bytes()[:25000])
    samples, warnings = run(list(atop_to_lines(path)))
    assert [w.code for w in warnings] == ["atop-note"]
    assert 3 <= len(values(samples, "proc_rss_kb", "pid:5")) < 20


def test_missing_atop_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(InputError) as caught:
        list(atop_to_lines(RAW))
    assert "install atop: apt-get install atop" in caught.value.message
    assert "\n" not in caught.value.message


@needs_atop
def test_stopping_early_ends_atop() -> None:
    lines = cast(Generator[str, None, None], atop_to_lines(RAW))
    assert next(lines).strip() == "RESET"
    lines.close()  # the generator's finally kills and reaps atop
    assert atop_raw.is_atop_raw(RAW.read_bytes()[:4])
