"""Scanning: several hosts in one file, one kill in two files, the fast path's safety, and
``oomsleuth.scan`` (streaming) against ``oomsleuth.analyze`` on every fixture and corpus log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pipeline import analyze_lines

import oomsleuth
from oomsleuth.model import OomReport, UserspaceKill
from oomsleuth.scanner import parse_sources

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real"
CORPUS = ROOT.parent / "shared" / "corpus"
STAMP = re.compile(r"^(\[\s*\d+\.\d+\] )")


def as_syslog(path: Path, host: str) -> list[str]:
    """A real dmesg capture as rsyslog writes it: wall time, host, 'kernel:' and the stamp."""
    out = []
    for line in path.read_text().splitlines():
        out.append(f"Nov 25 22:51:07 {host} kernel: {line}")
    return out


def victims(result: object) -> list[tuple[int, str]]:
    return [(k.victim.pid, k.victim.comm) for r in result.reports for k in r.kills]  # type: ignore[attr-defined]


def test_two_hosts_interleaved_in_one_syslog_file() -> None:
    a = as_syslog(REAL / "memcg-single.dmesg.txt", "web-1")
    b = as_syslog(REAL / "memcg-bystander.dmesg.txt", "db-1")
    mixed = [line for pair in zip(a, b, strict=False) for line in pair]
    mixed += a[len(b) :] + b[len(a) :]
    alone = {
        "web-1": analyze_lines(a),
        "db-1": analyze_lines(b),
    }
    result = analyze_lines(mixed)
    by_host = {r.kills[0].stamp.host: r for r in result.reports}
    assert set(by_host) == {"web-1", "db-1"}
    for host, single in alone.items():
        (expected,) = single.reports
        got = by_host[host]
        assert victims(single) == [(k.victim.pid, k.victim.comm) for k in got.kills]
        assert got.tasks == expected.tasks
        assert got.memcg == expected.memcg
        assert got.trigger == expected.trigger


def test_the_same_kill_in_two_logs_is_counted_once() -> None:
    lines = as_syslog(REAL / "memcg-bystander.dmesg.txt", "db-1")
    result = analyze_lines({"kern.log": lines, "syslog": lines})
    assert len(victims(result)) == 1
    (dup,) = [w for w in result.warnings if w.code == "copies-merged"]
    assert dup.where.source == "kern.log" and "syslog:" in dup.message and "2 places" in dup.message
    (report,) = result.reports
    assert [c.source for c in report.copies] == ["syslog"]


def test_a_repeated_kill_within_one_log_is_kept() -> None:
    lines = (REAL / "memcg-single.dmesg.txt").read_text().splitlines()
    killed = [line for line in lines if "Killed process" in line]
    result = analyze_lines(lines + killed)
    assert len(victims(result)) == 2


def _all_logs() -> list[Path]:
    fx = ROOT / "fixtures"
    logs = [p for d in ("real", "handwritten", "userspace") for p in sorted((fx / d).glob("*.*"))]
    logs = [p for p in logs if p.suffix in (".txt", ".log")]
    logs += sorted(fx.glob("incidents/*/kern-*.txt"))
    if CORPUS.is_dir():
        logs += sorted(CORPUS.glob("*.log"))
    return [p for p in logs if "README" not in p.name]


@pytest.mark.parametrize("log", _all_logs(), ids=lambda p: p.name)
def test_prefilter_loses_nothing(log: Path) -> None:
    """The scanner's fast path (skip lines the keyword prefilter rejects) against framing every
    line: the same reports, kills and failures."""
    lines = log.read_text(errors="surrogateescape").splitlines()
    fast = parse_sources([(log.name, lines)])
    full = parse_sources([(log.name, lines)], prefilter=False)
    assert fast.reports == full.reports
    assert fast.userspace == full.userspace
    assert fast.alloc_failures == full.alloc_failures


def _kills(events: list[OomReport] | list[OomReport | UserspaceKill]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for e in events:
        if isinstance(e, OomReport):
            out += [(k.victim.pid, k.victim.comm, k.where.line, k.stamp.wall) for k in e.kills]
        elif e.kind == "kill":
            out.append((e.pid, e.comm, e.where.line, e.stamp.wall))
    return sorted(out, key=lambda k: k[2])


@pytest.mark.parametrize("log", _all_logs(), ids=lambda p: p.name)
def test_scan_streams_the_kills_analyze_finds(log: Path) -> None:
    """``oomsleuth.scan(open(f))`` yields the same kills, on the same wall clock where the lines
    anchor themselves, as ``oomsleuth.analyze([f])``."""
    report = oomsleuth.analyze([log], tz="UTC", year=2024, on_warning=lambda _: None)
    with log.open(encoding="utf-8", errors="surrogateescape") as f:
        streamed = list(oomsleuth.scan(f, source=str(log), tz="UTC", year=2024))
    got, want = _kills(streamed), _kills([*report.reports, *report.userspace])
    assert [k[:3] for k in got] == [k[:3] for k in want]
    # a receive time the whole log shows to be late is only known once the log has been read
    late = {
        k.where.line for r in report.reports for k in r.kills if "late" in (k.stamp.time_note or "")
    }
    assert [k for k in got if k[2] not in late] == [k for k in want if k[2] not in late]


def test_scan_keeps_memory_flat_over_many_reports() -> None:
    """Streaming forgets what it has yielded: 2,000 reports in, a bounded parser state."""
    from oomsleuth.scanner import Scanner

    one = (REAL / "memcg-single.dmesg.txt").read_text().splitlines()
    scanner = Scanner()
    seen = 0

    def lines() -> Iterator[str]:
        for i in range(2000):
            shift = 1000.0 * i
            for line in one:
                m = STAMP.match(line)
                stamp = float(line[1 : m.end() - 2]) + shift if m else None
                yield f"[{stamp:12.6f}] {line[m.end() :]}" if m and stamp is not None else line

    for event in scanner.events("big", lines()):
        seen += isinstance(event, OomReport)
    assert seen == 2000
    assert sum(len(kp.reports) for kp in scanner.kernels.values()) <= 16
