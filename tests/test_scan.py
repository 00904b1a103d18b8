"""The scanner: several hosts in one file, one kill in two files, and the fast path's safety."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oomsleuth.scan import parse_lines, parse_sources

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
        "web-1": parse_lines(a),
        "db-1": parse_lines(b),
    }
    result = parse_lines(mixed)
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
    result = parse_sources([("kern.log", lines), ("syslog", lines)])
    assert len(victims(result)) == 1
    (dup,) = [w for w in result.warnings if w.code == "duplicate-report"]
    assert dup.where.source == "syslog" and "kern.log:" in dup.message


def test_a_repeated_kill_within_one_log_is_kept() -> None:
    lines = (REAL / "memcg-single.dmesg.txt").read_text().splitlines()
    killed = [line for line in lines if "Killed process" in line]
    result = parse_lines(lines + killed)
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
    lines = log.read_text(errors="surrogateescape").splitlines()
    fast = parse_sources([(log.name, lines)])
    full = parse_sources([(log.name, lines)], prefilter=False)
    assert fast.reports == full.reports
    assert fast.userspace == full.userspace
    assert fast.alloc_failures == full.alloc_failures
