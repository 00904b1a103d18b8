"""Boot segments and wall-clock anchors (oomsleuth.clock.anchors)."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pipeline import analyze_lines

from oomsleuth.clock.anchors import AnchorTracker, is_yearless
from oomsleuth.clock.samples import MAX_KEYS, MAX_SAMPLES, KeySet
from oomsleuth.frame import frame_lines
from oomsleuth.model import BootSegment, LogLine
from oomsleuth.scanner import parse_sources

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real"
HAND = ROOT / "fixtures" / "handwritten"
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def bsd(when: datetime) -> str:
    return f"{_MONTHS[when.month - 1]} {when.day:2d} {when:%H:%M:%S}"


def track(lines: list[str], source: str = "-") -> tuple[BootSegment, ...]:
    tracker = AnchorTracker()
    for line in frame_lines(lines, source):
        tracker.observe(line)
    return tracker.segments()


def syslog_copy(name: str, host: str = "web-1", delay_s: float = 0.004) -> list[str]:
    """kern.log as rsyslog writes a real capture: receive time (iso + delay, whole seconds)."""
    iso = (REAL / f"{name}.dmesg-iso.txt").read_text().splitlines()
    raw = (REAL / f"{name}.dmesg.txt").read_text().splitlines()
    out = []
    for stamped, plain in zip(iso, raw, strict=True):
        when = datetime.fromisoformat(stamped.split(" ", 1)[0].replace(",", "."))
        out.append(f"{bsd(when + timedelta(seconds=delay_s))} {host} kernel: {plain}")
    return out


def test_journal_json_anchors_are_exact() -> None:
    path = HAND / "k6.1-memcg-v2.journal.json"
    first = json.loads(path.read_text().splitlines()[0])
    boot = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(
        microseconds=int(first["__REALTIME_TIMESTAMP"]) - int(first["_SOURCE_MONOTONIC_TIMESTAMP"])
    )
    (seg,) = analyze_lines({"j": path.read_text().splitlines()}).segments
    assert seg.anchor_kind == "journal" and seg.host == "app02"
    assert seg.boot_id == first["_BOOT_ID"]
    assert seg.anchors > 40
    assert seg.boot_wall is not None and abs((seg.boot_wall - boot).total_seconds()) < 0.01
    assert seg.spread_s is not None and seg.spread_s < 0.01


def test_syslog_anchors_take_the_median_of_noisy_receive_times() -> None:
    rng = random.Random(7)
    boot = datetime(1900, 11, 25, 10, 0, 0, 300000)
    lines = []
    for i in range(400):
        uptime = 5000 + i * 0.37
        delay = 6.0 if i % 50 == 7 else rng.uniform(0.0, 0.2)  # a few very late receptions
        wall = boot + timedelta(seconds=uptime + delay)
        lines.append(f"{bsd(wall)} h kernel: [{uptime:12.6f}] Killed process {i} (x)")
    (seg,) = track(lines)
    assert seg.anchor_kind == "syslog" and seg.anchors == 400
    assert seg.boot_wall is not None and is_yearless(seg.boot_wall)
    assert seg.boot_wall.year == 1904  # the yearless space
    error = (seg.boot_wall.replace(year=1900) - boot).total_seconds()
    assert abs(error) < 0.5
    assert seg.spread_s is not None and 6.0 < seg.spread_s < 7.5  # max - min, outliers included
    assert seg.drift_s is not None and abs(seg.drift_s) < 1.5  # the lower envelope ignores them


def test_anchor_memory_is_bounded() -> None:
    tracker = AnchorTracker()
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for i in range(5000):
        wall = base + timedelta(seconds=10 + i)
        tracker.observe(LogLine("j", i + 1, f"Killed process {i} (x)", "journal-json", i, wall))
    (seg,) = tracker.segments()
    assert seg.anchors == 5000 and seg.boot_wall == base + timedelta(seconds=10)
    built = tracker._all[0]
    assert len(built.anchors.values) <= MAX_SAMPLES
    assert len(built.keys.items) <= MAX_KEYS and len(built.texts.items) <= MAX_KEYS


def test_key_sets_thin_out_the_same_way() -> None:
    a, b = KeySet(), KeySet()
    for i in range(3000):
        a.add(f"Killed process {i}", (i, 1.0, None))
        if i % 3 == 0:
            b.add(f"Killed process {i}", (i, 2.0, None))
    assert len(a.items) <= MAX_KEYS and a.items.keys() & b.items.keys()


def test_a_suspend_shows_as_drift_of_the_lower_envelope() -> None:
    boot = datetime(1900, 3, 2, 8, 0, 0)
    lines = []
    for i in range(64):
        uptime = 100.0 + i
        suspended = 3600.0 if i >= 40 else 0.0  # the printk clock stood still for an hour
        wall = boot + timedelta(seconds=uptime + suspended + 0.1)
        lines.append(f"{bsd(wall)} h kernel: [{uptime:12.6f}] oom-kill:pid={i}")
    (seg,) = track(lines)
    assert seg.drift_s is not None and abs(seg.drift_s - 3600) < 2
    assert seg.drift_line is not None and 33 <= seg.drift_line <= 41


def test_uptime_going_back_starts_a_boot() -> None:
    lines = ["[ 500.000000] a invoked oom-killer: x", "[ 499.500000] b", "[  12.000000] c"]
    segs = track(lines)
    assert [(s.first_line, s.last_line, s.reason) for s in segs] == [
        (1, 2, "start"),
        (3, 3, "uptime went back"),
    ]


def test_boot_banner_splits_every_host_of_the_source() -> None:
    lines = [
        "Mar 02 14:11:07 ws kernel: one",
        "-- Boot 0123456789abcdef0123456789abcdef --",
        "Mar 02 14:20:00 ws kernel: two",
    ]
    first, second = track(lines)
    assert (first.host, first.last_line) == ("ws", 1)
    assert (second.first_line, second.reason) == (3, "boot banner")
    assert second.boot_id == "0123456789abcdef0123456789abcdef"


def test_journal_boot_id_change_splits() -> None:
    def record(boot: str, mono: int) -> str:
        return json.dumps({"__REALTIME_TIMESTAMP": "1709294400000000", "_BOOT_ID": boot,
                           "_SOURCE_MONOTONIC_TIMESTAMP": str(mono), "_TRANSPORT": "kernel",
                           "MESSAGE": "Killed process 1 (x)", "_HOSTNAME": "h"})  # fmt: skip

    segs = track([record("a" * 32, 9_000_000), record("b" * 32, 9_500_000)])
    assert [(s.boot_id, s.reason) for s in segs] == [("a" * 32, "start"), ("b" * 32, "boot banner")]
    tracker = AnchorTracker()  # without the framer's marker line, the id itself splits
    for boot in ("a", "b"):
        tracker.observe(LogLine("-", 1, "x", "journal-json", 1.0, boot_id=boot * 32))
    assert [s.reason for s in tracker.segments()] == ["start", "boot id changed"]


def test_linux_version_line_starts_a_boot() -> None:
    lines = [
        "[ 900.000000] x invoked oom-killer: gfp_mask=0xcc0, order=0",
        "[ 901.000000] y",
        "[ 901.500000] Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org)",
    ]
    segs = track(lines)
    assert [(s.first_line, s.reason) for s in segs] == [(1, "start"), (3, "Linux version")]


def test_december_to_january_is_a_rollover() -> None:
    lines = [
        "Dec 31 23:59:58 h kernel: [ 100.000000] a",
        "Jan  1 00:00:02 h kernel: [ 104.000000] b",
        "Jan  1 00:00:03 h kernel: [ 105.000000] c",
    ]
    (seg,) = track(lines)
    assert seg.rollovers == (2,)
    assert seg.spread_s is not None and seg.spread_s <= 1.0  # offsets agree across the new year
    assert seg.boot_wall is not None and seg.boot_wall.year == 1904


def test_raw_dmesg_borrows_the_boot_of_a_kern_log_of_the_same_boot() -> None:
    raw = (REAL / "memcg-single.dmesg.txt").read_text().splitlines()
    result = analyze_lines({"kern.log": syslog_copy("memcg-single"), "dmesg": raw})
    donor, borrower = result.segments
    assert donor.anchor_kind == "syslog" and donor.boot_wall is not None
    assert borrower.source == "dmesg" and borrower.borrowed_from == "kern.log:1"
    assert borrower.boot_wall == donor.boot_wall and borrower.anchors == 0


def test_dmesg_t_lines_are_matched_by_their_pid_lines() -> None:
    tee = (REAL / "memcg-adj.dmesg-T.txt").read_text().splitlines()
    result = analyze_lines({"kern.log": syslog_copy("memcg-adj"), "dmesg-T": tee})
    seg = result.segments[-1]
    assert seg.source == "dmesg-T" and seg.anchors == 0
    assert [m[0] for m in seg.matched] == [80, 81, 160, 161]  # oom-kill: + Killed process
    assert seg.dmesg_t_boot is not None and seg.boot_wall is not None


def test_prefiltered_and_full_scans_find_the_same_boot() -> None:
    lines = syslog_copy("memcg-bystander")
    fast = parse_sources([("-", lines)]).segments
    full = parse_sources([("-", lines)], prefilter=False).segments
    assert [s.boot_wall for s in fast] == [s.boot_wall for s in full]


def test_uptimes_pair_with_receive_times_of_copies_without_uptime() -> None:
    """journalctl -o short-monotonic and -o short-precise of the same kill."""
    names = ["k5.15-global.journal-short-precise.txt", "k5.15-global.journal-short-monotonic.txt"]
    result = analyze_lines({n: (HAND / n).read_text().splitlines() for n in names})
    precise, monotonic = result.segments
    assert precise.boot_wall is None and precise.anchors == 0
    assert monotonic.anchors == 2 and monotonic.anchor_kind == "syslog"  # oom-kill: + Killed
    assert monotonic.borrowed_from == f"{names[0]}:2"
    assert monotonic.boot_wall is not None and is_yearless(monotonic.boot_wall)
