"""Stamps on the wall clock (oomsleuth.clock): anchors, --boot-time, dmesg -T, syslog years."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pipeline import analyze_lines

from oomsleuth.clock import LIVE_BOOT_TIME, TimeContext, parse_boot_time, resolve_times
from oomsleuth.load.host import live_boot_time
from oomsleuth.model import Kill, OomReport, Report, Stamp, Victim, Warning_, Where

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real"
HAND = ROOT / "fixtures" / "handwritten"
SCENARIOS = ["memcg-single", "memcg-adj", "memcg-bystander", "memcg-names"]
UTC = timezone.utc
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def bsd(when: datetime) -> str:
    return f"{_MONTHS[when.month - 1]} {when.day:2d} {when:%H:%M:%S}"


def lines(name: str) -> list[str]:
    path = REAL / name if (REAL / name).exists() else HAND / name
    return path.read_text().splitlines()


def iso_walls(name: str) -> list[datetime]:
    return [
        datetime.fromisoformat(s.split(" ", 1)[0].replace(",", "."))
        for s in lines(f"{name}.dmesg-iso.txt")
    ]


def syslog_copy(name: str, shift_s: float = 0.0) -> list[str]:
    """kern.log of a real capture: rsyslog's receive time (iso + 4 ms), whole seconds."""
    out = []
    for when, plain in zip(iso_walls(name), lines(f"{name}.dmesg.txt"), strict=True):
        out.append(f"{bsd(when + timedelta(seconds=0.004 + shift_s))} web-1 kernel: {plain}")
    return out


def kill_times(result: Report) -> list[Stamp]:
    return [k.stamp for r in result.reports for k in r.kills]


def ctx(**kw: object) -> dict[str, object]:
    """What the test knows about time: file mtimes, boot time, year (options of analyze)."""
    return kw


def resolved(sources: list[tuple[str, list[str]]], context: dict[str, object]) -> Report:
    """``oomsleuth.analyze`` of the sources written to files of those names (on UTC)."""
    return analyze_lines(dict(sources), **context)  # type: ignore[arg-type]


def per_copy(sources: list[tuple[str, list[str]]], **context: object) -> Report:
    """The clock stage alone, before copies of one record are merged: each copy's own time
    (what the merged event picks from), on UTC."""
    from oomsleuth.api import time_context
    from oomsleuth.scanner import parse_sources

    mtimes = context.pop("mtimes", {})
    tc = time_context(tz="UTC", **context)  # type: ignore[arg-type]
    tc.mtimes.update(mtimes)  # type: ignore[arg-type]
    return resolve_times(parse_sources(sources), tc)


def drift_warnings(result: Report) -> list[Warning_]:
    return [w for w in result.warnings if w.code in ("suspend-drift", "dmesg-t-drift")]


@pytest.mark.parametrize("name", SCENARIOS)
def test_real_captures_agree_in_every_framing(name: str) -> None:
    """dmesg iso is dmesg's own sum (its whole-second boot time + the kernel stamp: derived,
    +-1 s); dmesg and kmsg + the same boot time give the same; dmesg -T within 1 s."""
    first_iso = iso_walls(name)[0]
    first_uptime = float(lines(f"{name}.dmesg.txt")[0][1:].split("]", 1)[0])
    boot = first_iso - timedelta(seconds=first_uptime)
    truth = kill_times(resolved([("iso", lines(f"{name}.dmesg-iso.txt"))], ctx()))
    assert truth and all(
        (s.time_confidence, s.time_uncertainty_s) == ("derived", 1.0) for s in truth
    )
    for framing in ("dmesg", "kmsg"):
        got = kill_times(resolved([(framing, lines(f"{name}.{framing}.txt"))], ctx(boot_time=boot)))
        for s, t in zip(got, truth, strict=True):
            assert (s.time_confidence, s.time_source) == ("derived", "boot-time option")
            assert s.wall is not None and t.wall is not None
            assert abs((s.wall - t.wall).total_seconds()) < 1e-3
    tee = kill_times(resolved([("T", lines(f"{name}.dmesg-T.txt"))], ctx()))
    for s, t in zip(tee, truth, strict=True):
        assert s.time_confidence == "derived" and s.wall is not None and t.wall is not None
        assert 0 <= (t.wall - s.wall).total_seconds() < 1


def test_raw_dmesg_without_boot_time_is_unknown() -> None:
    (stamp,) = kill_times(resolved([("d", lines("memcg-single.dmesg.txt"))], ctx()))
    assert (stamp.wall, stamp.time_confidence, stamp.time_source) == (None, "unknown", None)
    assert stamp.uptime_s == pytest.approx(1501.66917)


def test_boot_time_applies_to_the_last_boot_only() -> None:
    reboot = "[    0.000000] Linux version 6.18.44"
    text = [*lines("memcg-adj.dmesg.txt"), reboot, *lines("memcg-single.dmesg.txt")]
    boot = datetime(2026, 11, 25, 22, 26, 58, tzinfo=UTC)
    stamps = kill_times(resolved([("d", text)], ctx(boot_time=boot)))
    assert [s.time_confidence for s in stamps] == ["unknown", "unknown", "derived"]
    assert stamps[-1].wall == boot + timedelta(seconds=1501.66917)


def test_boot_time_is_not_used_where_the_source_has_anchors() -> None:
    boot = datetime(2000, 1, 1, tzinfo=UTC)
    (stamp,) = kill_times(resolved([("k", syslog_copy("memcg-single"))], ctx(boot_time=boot)))
    assert stamp.time_source == "log" and stamp.wall is not None and stamp.wall.year == 2026


def test_journal_json_kernel_records_take_the_kernels_own_stamp() -> None:
    """time = (__REALTIME - __MONOTONIC) + _SOURCE_MONOTONIC: journald received the header
    2.818 ms after the kernel printed it; the kernel's time is exact, the receive time is not."""
    result = resolved([("j", lines("k6.1-memcg-v2.journal.json"))], ctx())
    (report,) = result.reports
    first = json.loads(lines("k6.1-memcg-v2.journal.json")[0])
    offset = int(first["__REALTIME_TIMESTAMP"]) - int(first["__MONOTONIC_TIMESTAMP"])
    kernel_us = offset + int(first["_SOURCE_MONOTONIC_TIMESTAMP"])
    assert (report.stamp.time_confidence, report.stamp.time_source) == ("exact", "journal")
    assert report.stamp.wall == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=kernel_us)
    assert report.stamp.wall == datetime(2024, 3, 1, 12, 0, 0, 688018, tzinfo=UTC)
    assert report.stamp.time_uncertainty_s is not None and report.stamp.time_uncertainty_s < 0.01


def journal_copy(name: str) -> list[str]:
    """journalctl -o json of a real capture: realtime = iso wall + 3 ms, monotonic = uptime."""
    out = []
    for when, plain in zip(iso_walls(name), lines(f"{name}.dmesg.txt"), strict=True):
        uptime, text = plain[1:].split("] ", 1)
        realtime = round((when + timedelta(seconds=0.003)).timestamp() * 1e6)
        mono = str(round(float(uptime) * 1e6))
        record = {"__REALTIME_TIMESTAMP": str(realtime), "_SOURCE_MONOTONIC_TIMESTAMP": mono,
                  "_TRANSPORT": "kernel", "_BOOT_ID": "b" * 32, "_HOSTNAME": "web-1",
                  "MESSAGE": text}  # fmt: skip
        out.append(json.dumps(record))
    return out


def test_kmsg_takes_the_journal_anchor_of_the_same_boot() -> None:
    """/dev/kmsg (kernel stamps only) borrows the journal's anchor; the two copies of the kill
    are then one event, on the journal's clock."""
    sources = [("journal", journal_copy("memcg-names")), ("kmsg", lines("memcg-names.kmsg.txt"))]
    result = resolved(sources, ctx())
    journal_seg, kmsg_seg = result.segments
    assert kmsg_seg.borrowed_from == f"journal:{journal_seg.first_line}"
    (kill,) = kill_times(result)
    (report,) = result.reports
    assert {report.where.source, *(c.source for c in report.copies)} == {"journal", "kmsg"}
    truth = kill_times(resolved([("iso", lines("memcg-names.dmesg-iso.txt"))], ctx()))[0]
    assert kill.wall is not None and truth.wall is not None
    assert abs((kill.wall - truth.wall).total_seconds()) < 0.01


def test_raw_dmesg_takes_the_syslog_anchor_of_the_same_boot() -> None:
    sources = [("kern.log", syslog_copy("memcg-bystander"))]
    sources.append(("d", lines("memcg-bystander.dmesg.txt")))
    (_, stamp) = kill_times(per_copy(sources, mtimes={"kern.log": on(2026, 12, 1)}))
    truth = kill_times(resolved([("iso", lines("memcg-bystander.dmesg-iso.txt"))], ctx()))[0]
    assert (stamp.time_source, stamp.time_confidence) == ("boot-estimate", "estimated")
    assert stamp.wall is not None and truth.wall is not None
    assert abs((stamp.wall - truth.wall).total_seconds()) < 1
    # the year comes from the kern.log (its mtime), not from the dmesg file or today
    (_, stamp) = kill_times(per_copy(sources, mtimes={"kern.log": on(2025, 12, 1)}))
    assert stamp.wall is not None and stamp.wall.year == 2025
    (merged,) = resolved(sources, ctx(mtimes={"kern.log": on(2025, 12, 1)})).reports
    assert [c.source for c in merged.copies] == ["d"]


def test_dmesg_t_after_a_suspend_is_replaced_by_the_anchor() -> None:
    """The printk clock stopped for an hour: dmesg -T is an hour early; kern.log is right."""
    tee = []
    for when, plain in zip(iso_walls("memcg-adj"), lines("memcg-adj.dmesg.txt"), strict=True):
        early = when - timedelta(hours=1)
        tee.append(f"[{early:%a %b %d %H:%M:%S %Y}] {plain.split('] ', 1)[1]}")
    sources = [("kern.log", syslog_copy("memcg-adj")), ("T", tee)]
    mtimes = {"kern.log": datetime(2026, 11, 26, tzinfo=UTC)}
    result = per_copy(sources, mtimes=mtimes)
    truth = kill_times(resolved([("iso", lines("memcg-adj.dmesg-iso.txt"))], ctx()))
    tee_reports = [r for r in result.reports if r.where.source == "T"]
    for report, t in zip(tee_reports, [truth[0], truth[1]], strict=True):
        (kill,) = report.kills
        assert kill.stamp.time_source == "boot-estimate" and kill.stamp.wall is not None
        assert t.wall is not None and abs((kill.stamp.wall - t.wall).total_seconds()) < 1
        assert "dmesg -T time replaced (-3600" in (kill.stamp.time_note or "")
        head = report.stamp  # no matched line of its own: shifted like the nearest one
        assert head.wall is not None and head.time_confidence == "estimated"
        assert abs((head.wall - t.wall).total_seconds()) < 2
    (warning,) = drift_warnings(resolved(sources, ctx(mtimes=mtimes)))
    assert (warning.code, warning.where) == ("dmesg-t-drift", Where("T", 80))
    assert re.search(r"-360[01] s off", warning.message)


def test_dmesg_t_without_drift_keeps_its_own_wall() -> None:
    sources = [("kern.log", syslog_copy("memcg-single")), ("T", lines("memcg-single.dmesg-T.txt"))]
    mtimes = {"kern.log": datetime(2026, 11, 26, tzinfo=UTC)}
    report = next(r for r in per_copy(sources, mtimes=mtimes).reports if r.where.source == "T")
    assert report.stamp.time_source == "log"  # within the 1 s of dmesg -T: left alone
    assert report.kills[0].stamp.time_source == "boot-estimate"  # matched: the precise time
    assert drift_warnings(resolved(sources, ctx(mtimes=mtimes))) == []


def test_syslog_drift_within_a_boot_is_warned() -> None:
    before = syslog_copy("memcg-bystander")
    after = syslog_copy("memcg-adj", shift_s=5400.0)  # 90 min suspended between the two
    (warning,) = drift_warnings(resolved([("kern.log", before + after)], ctx()))
    assert warning.code == "suspend-drift" and "+5400 s" in warning.message
    assert warning.where.line > len(before) - 8


def oom_at(when: str, uptime: float) -> list[str]:
    body = lines("memcg-single.dmesg.txt")
    return [f"{when} web-1 kernel: [{uptime + i * 1e-6:12.6f}] {s.split('] ', 1)[1]}"
            for i, s in enumerate(body)]  # fmt: skip


def on(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def years(text: list[str], context: TimeContext) -> list[int | None]:
    return [s.wall.year if s.wall else None for s in kill_times(resolved([("s", text)], context))]


def test_december_to_january_inside_one_file() -> None:
    text = oom_at("Dec 31 23:59:50", 100.0) + oom_at("Jan  1 00:00:20", 130.0)
    assert years(text, ctx(mtimes={"s": on(2025, 1, 3)})) == [2024, 2025]
    # mtime long after: the end of the file is still January 2025
    assert years(text, ctx(mtimes={"s": on(2025, 7, 1)})) == [2024, 2025]
    assert years(text, ctx(year=2030)) == [2030, 2031]  # --year: the year the file starts in


def test_december_lines_in_a_january_file_are_last_year() -> None:
    assert years(oom_at("Dec 30 10:00:00", 50.0), ctx(mtimes={"s": on(2025, 1, 2)})) == [2024]


def test_29_february_finds_a_leap_year() -> None:
    text = oom_at("Feb 29 12:00:00", 70.0)
    noon = datetime(2024, 2, 29, 12, tzinfo=UTC)  # syslog's whole second: +- 0.5 s about .5
    (stamp,) = kill_times(resolved([("s", text)], ctx(mtimes={"s": on(2024, 3, 5)})))
    assert stamp.wall is not None and 0 <= (stamp.wall - noon).total_seconds() < 1
    assert stamp.time_note is None
    (stamp,) = kill_times(resolved([("s", text)], ctx(mtimes={"s": on(2025, 3, 5)})))
    assert stamp.wall is not None and 0 <= (stamp.wall - noon).total_seconds() < 1
    assert stamp.time_confidence == "estimated" and "2025 has none" in (stamp.time_note or "")


def test_results_built_by_hand_still_get_rollovers_and_boot_time() -> None:
    def kill(line: int, stamp: Stamp) -> OomReport:
        k = Kill(Victim(1, "x"), Where("s", line), stamp)
        return OomReport(Where("s", line), stamp, "killed", kills=(k,))

    result = Report(reports=(
        kill(1, Stamp(wall=datetime(1900, 12, 31, 23, 0))),
        kill(2, Stamp(wall=datetime(1900, 1, 1, 1, 0))),
        kill(3, Stamp(uptime_s=10.0)),
    ), sources=("s",))  # fmt: skip
    boot = datetime(2025, 1, 1, 5, tzinfo=UTC)
    context = TimeContext(tz=UTC, mtimes={"s": datetime(2025, 2, 1, tzinfo=UTC)}, boot_time=boot)
    got = resolve_times(result, context)  # the clock stage alone, on a hand-built model
    assert [r.stamp.wall for r in got.reports] == [
        datetime(2024, 12, 31, 23, tzinfo=UTC),
        datetime(2025, 1, 1, 1, tzinfo=UTC),
        boot + timedelta(seconds=10),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T22:26:58Z", datetime(2026, 11, 25, 22, 26, 58, tzinfo=UTC)),
        ("2026-11-25T23:26:58+01:00", datetime(2026, 11, 25, 22, 26, 58, tzinfo=UTC)),
        ("2026-11-25 22:26:58", datetime(2026, 11, 25, 22, 26, 58, tzinfo=UTC)),  # naive: --tz
        ("1795645618", datetime(2026, 11, 25, 22, 26, 58, tzinfo=UTC)),
        ("@1795645618.5", datetime(2026, 11, 25, 22, 26, 58, 500000, tzinfo=UTC)),
    ],
)
def test_parse_boot_time(text: str, expected: datetime) -> None:
    assert parse_boot_time(text, UTC) == expected


def test_parse_boot_time_now_and_errors() -> None:
    assert parse_boot_time(" NOW ", UTC) is LIVE_BOOT_TIME
    for bad in ("yesterday", "", "1900-01-01T00:00:00Z", "2026-13-01"):
        with pytest.raises(ValueError, match="cannot read boot time"):
            parse_boot_time(bad, UTC)


def test_live_boot_time_reads_btime(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  1 2 3\nbtime 1795645618\nprocesses 9\n")
    assert live_boot_time(stat) == datetime(2026, 11, 25, 22, 26, 58, tzinfo=UTC)
    assert live_boot_time(tmp_path / "missing") is None


def test_short_monotonic_takes_the_times_of_short_precise() -> None:
    names = ["k5.15-global.journal-short-precise.txt", "k5.15-global.journal-short-monotonic.txt"]
    sources = [(n, lines(n)) for n in names]
    precise, monotonic = per_copy(sources, mtimes={names[0]: on(2024, 3, 2)}).reports
    assert monotonic.stamp.time_source == "boot-estimate"
    assert monotonic.stamp.wall == precise.stamp.wall
    assert monotonic.stamp.wall == datetime(2024, 3, 2, 14, 11, 7, 577473, tzinfo=UTC)
    (merged,) = resolved(sources, ctx(mtimes={names[0]: on(2024, 3, 2)})).reports
    assert merged.stamp.wall == monotonic.stamp.wall and len(merged.copies) == 1


def test_raw_dmesg_pairs_with_a_kern_log_that_prints_no_uptime() -> None:
    # rsyslog imkmsg style: "Nov 25 22:52:17 web-1 kernel: text", no [uptime]
    kern = [s[: s.index("kernel: ") + 8] + s.split("] ", 1)[1] for s in syslog_copy("memcg-names")]
    sources = [("kern.log", kern), ("d", lines("memcg-names.dmesg.txt"))]
    result = per_copy(sources, mtimes={"kern.log": on(2026, 11, 26)})
    (stamp,) = [r.kills[0].stamp for r in result.reports if r.where.source == "d"]
    truth = kill_times(resolved([("iso", lines("memcg-names.dmesg-iso.txt"))], ctx()))[0]
    assert stamp.time_source == "boot-estimate" and stamp.wall is not None
    assert truth.wall is not None and abs((stamp.wall - truth.wall).total_seconds()) < 1


def test_a_syslog_line_received_late_gets_the_kernels_own_time() -> None:
    """rsyslog wrote the kill 90 s late (a backlog); the other lines were on time: the kill's
    time is boot + its kernel stamp, and the note says how late the receive time was."""
    copy = syslog_copy("memcg-single")
    truth = kill_times(resolved([("iso", lines("memcg-single.dmesg-iso.txt"))], ctx()))[0]
    late = [i for i, line in enumerate(copy) if "Killed process" in line]
    for i in late:
        stamp = datetime.strptime("1900 " + copy[i][:15], "%Y %b %d %H:%M:%S")
        copy[i] = bsd(stamp + timedelta(seconds=90)) + copy[i][15:]
    (stamp,) = kill_times(
        resolved([("kern.log", copy)], ctx(mtimes={"kern.log": on(2026, 11, 26)}))
    )
    assert stamp.time_source == "boot-estimate" and stamp.wall is not None and truth.wall
    assert abs((stamp.wall - truth.wall).total_seconds()) < 1.0
    assert re.match(r"received (89|90)\.\d s late by the logger", stamp.time_note or "")
    assert stamp.time_confidence == "estimated" and stamp.time_uncertainty_s == 0.5  # year inferred


def test_journal_text_modes_are_receive_times() -> None:
    (stamp,) = kill_times(resolved([("j", lines("k5.15-global.journal-short-precise.txt"))], ctx()))
    assert stamp.time_source == "receive-time" and stamp.time_uncertainty_s is None
    assert stamp.time_confidence != "exact" and "received the line" in (stamp.time_note or "")
