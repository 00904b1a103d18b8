"""Correlation on real OOM reports: the verdict follows the evidence, and says when it has none.

Reports are real captures (fixtures/real, with exact ISO stamps); histories here are built
from the facts of each capture, to check the reasoning on growth patterns one at a time. The
end-to-end verdicts on real recorded incidents (with real collectors) are in
tests/test_incidents.py.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pipeline import analyze_files

from oomsleuth.correlate import correlate
from oomsleuth.history.windows import Windows, parse_duration, parse_window
from oomsleuth.model import History, Report, Sample
from oomsleuth.model.outcomes import event_moments

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real"
CORPUS = ROOT.parent / "shared" / "corpus"
UTC = timezone.utc


def parsed(path: Path) -> Report:
    """The report ``oomsleuth.analyze`` makes of a log (no history): the correlation stage is
    then run again here on histories built from the capture's facts."""
    return analyze_files([path])


def facts(name: str) -> dict[str, object]:
    return json.loads((REAL / f"{name}.facts.json").read_text())  # type: ignore[no-any-return]


def role(name: str, what: str) -> dict[str, object]:
    procs = facts(name)["processes"]
    return next(p for p in procs if p["role"] == what)  # type: ignore[union-attr,index]


def rss_series(pid: int, comm: str, start: datetime, kb: list[float]) -> list[Sample]:
    return [
        Sample(
            start + timedelta(seconds=10 * i),
            "proc_rss_kb",
            v,
            f"pid:{pid}",
            (("comm", comm),),
            "pidstat.txt",
        )
        for i, v in enumerate(kb)
    ]


def kill_time(result: Report) -> datetime:
    (moment,) = event_moments(result)
    return moment


def test_sidecar_that_grew_is_the_culprit_not_the_steady_victim() -> None:
    result = parsed(REAL / "memcg-bystander.dmesg-iso.txt")
    when = kill_time(result)
    db, leak = role("memcg-bystander", "database"), role("memcg-bystander", "leaker")
    start = when - timedelta(minutes=5)
    samples = rss_series(int(db["pid"]), str(db["comm"]), start, [75000.0] * 30)  # type: ignore[call-overload]
    samples += rss_series(
        int(leak["pid"]),
        str(leak["comm"]),
        start,  # type: ignore[call-overload]
        [2000.0 + 1300 * i for i in range(30)],
    )
    (inc,) = correlate(
        result, History(samples=tuple(samples), sources=(("p", "pidstat"),))
    ).incidents
    assert inc.victims[0].pid == db["pid"]
    assert inc.trigger_pid == leak["pid"]
    assert (inc.culprit.kind, inc.culprit.pid) == ("process", leak["pid"])
    assert inc.culprit.confidence >= 0.7
    text = " ".join(inc.culprit.evidence)
    assert "innocent bystander" in text and "lives on" in text
    assert inc.culprit.growth_kb == 1300 * 29


def test_a_leaker_that_killed_itself_is_victim_and_culprit() -> None:
    result = parsed(REAL / "memcg-single.dmesg-iso.txt")
    when = kill_time(result)
    victim = result.reports[0].kills[0].victim
    samples = rss_series(
        victim.pid, victim.comm, when - timedelta(minutes=2), [5000.0 + 5000 * i for i in range(13)]
    )
    (inc,) = correlate(result, History(samples=tuple(samples))).incidents
    assert inc.culprit.pid == victim.pid == inc.victims[0].pid


def test_history_outside_the_window_or_scope_is_not_evidence() -> None:
    result = parsed(REAL / "memcg-bystander.dmesg-iso.txt")
    when = kill_time(result)
    leak = role("memcg-bystander", "leaker")
    old = rss_series(
        int(leak["pid"]),
        str(leak["comm"]),
        when - timedelta(hours=3),  # type: ignore[call-overload]
        [1000.0 + 5000 * i for i in range(20)],
    )
    other = rss_series(
        99999, "elsewhere", when - timedelta(minutes=5), [1000.0 + 9000 * i for i in range(30)]
    )
    (inc,) = correlate(result, History(samples=tuple(old + other))).incidents
    assert inc.culprit.kind == "unknown"


def test_without_history_the_verdict_says_not_enough_data() -> None:
    result = parsed(REAL / "memcg-bystander.dmesg-iso.txt")
    (inc,) = correlate(result).incidents
    assert inc.culprit.kind == "unknown"
    assert any("no per-process history" in g for g in inc.data_gaps)
    assert inc.badness[0].victim  # the kernel's choice is still explained
    assert "highest badness" in (inc.badness_note or "")


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not here")
def test_successive_tables_show_who_grew_between_kills() -> None:
    result = analyze_files([CORPUS / "oomexporter-rhel7-3.10-syslog-multi.log"])
    second = result.incidents[1]
    # 754 survived the first kill and grew 51 MiB before the second one killed 29838
    assert second.victims[0].pid == 29838
    assert (second.culprit.pid, second.culprit.growth_kb) == (754, 52468)
    assert any("restarted service" in e for e in second.culprit.evidence)


def test_windows_and_durations() -> None:
    t = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    w = Windows([t, t + timedelta(minutes=20)], timedelta(minutes=30), timedelta(minutes=5))
    assert len(w.spans) == 1  # overlapping windows merge
    assert w.keep(t - timedelta(minutes=30)) and w.keep(t + timedelta(minutes=25))
    assert not w.keep(t - timedelta(minutes=31)) and not w.keep(t + timedelta(minutes=26))
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_window("2h") == (timedelta(hours=2), timedelta(minutes=5))
    assert parse_window("90s:10s") == (timedelta(seconds=90), timedelta(seconds=10))
    with pytest.raises(Exception, match="bad duration"):
        parse_duration("soon")


def test_cli_with_real_psi_and_cgroup_history() -> None:
    """A real capture: kernel log + the sampler's PSI/cgroup samples of the same 30 s."""
    import subprocess
    import sys

    psi = ROOT / "fixtures" / "history" / "psi"
    kernel = psi / "real-v1-memcg-oom.kernel.txt"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "oomsleuth",
            "analyze",
            str(kernel),
            "--history",
            str(psi / "real-v1-memcg-oom.samples"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(proc.stdout)
    (inc,) = doc["incidents"]
    victim = inc["victims"][0]
    assert (inc["culprit"]["kind"], inc["culprit"]["pid"]) == ("process", victim["pid"])
    assert inc["culprit"]["growth_kb"] > 60 * 1024
    assert any("PSI memory some" in c for c in inc["cascade"])
    assert any("reached its limit" in c for c in inc["cascade"])
    assert doc["history"]["sources"] == [
        {"source": str(psi / "real-v1-memcg-oom.samples"), "format": "psi"}
    ]
    # the parent cgroup grew as much (hierarchical usage), but it is not a culprit
    assert all(s["cgroup"] is None or "oomsleuth-sampler" in s["cgroup"] for s in inc["suspects"])
