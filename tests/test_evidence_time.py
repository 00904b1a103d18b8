"""Time on evidence as it arrives, recorded for real on a test host (fixtures/evidence, made by
fixtures/capture_evidence.py): a journal whose journald started 90 s after an OOM kill, the same
two kills in 17 framings (journal export/json/verbose/text modes, rsyslog from the kernel buffer
and from the journal, dmesg in all forms, /dev/kmsg), and raw dmesg with history sampled every
10 s and every 60 s. Every time must be right within the uncertainty it states, or say it is a
receive time (whose lag nobody can know from that file alone)."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import oomsleuth
from oomsleuth.model import Kill, Report

ROOT = Path(__file__).resolve().parent.parent
EVIDENCE = ROOT / "fixtures" / "evidence"
LATE = EVIDENCE / "late-journal"
LATE_FACTS = json.loads((LATE / "facts.json").read_text())
TRUE = {k["pid"]: datetime.fromisoformat(k["true_kill_time_utc"]) for k in LATE_FACTS["kills"]}
LATE_PID = next(k["pid"] for k in LATE_FACTS["kills"] if k["journal"]["received_late"])
FRAMINGS = sorted(p.name for p in LATE.iterdir() if p.is_file() and p.name != "facts.json")


def analyze(*paths: Path, history: tuple[Path, ...] = ()) -> Report:
    return oomsleuth.analyze(paths, history=history, tz="UTC", on_warning=lambda _: None)


def ours(report: Report, truth: dict[int, datetime]) -> list[Kill]:
    return [k for r in report.reports for k in r.kills if k.victim.pid in truth]


def check_time(kill: Kill, truth: datetime) -> None:
    """Right within the stated uncertainty, or honestly a receive time (no bound)."""
    s = kill.stamp
    assert s.wall is not None, f"pid {kill.victim.pid}: no time"
    error = abs((s.wall - truth).total_seconds())
    if s.time_uncertainty_s is None:
        assert s.time_source == "receive-time" and s.time_confidence != "exact"
    else:
        assert error <= s.time_uncertainty_s + 1e-3, (kill.victim.pid, error, s)


# -- the late journal, one file at a time ----------------------------------------------------


def test_the_journal_export_and_json_give_the_kernels_own_time() -> None:
    for name in ("journalctl-k.export", "journalctl-k.json"):
        report = analyze(LATE / name)
        kills = ours(report, TRUE)
        assert len(kills) == 2
        for kill in kills:
            assert (kill.stamp.time_source, kill.stamp.time_confidence) == ("journal", "exact")
            assert kill.stamp.wall is not None
            assert abs((kill.stamp.wall - TRUE[kill.victim.pid]).total_seconds()) < 0.001
        (late,) = [w for w in report.warnings if w.code == "received-late"]
        assert "up to 90 s" in late.message


@pytest.mark.parametrize("name", ["kern.log", "kern-rfc3339.log"])
def test_rsyslog_reading_the_kernel_buffer_late_is_caught(name: str) -> None:
    """imklog stamps records when it reads them but keeps the kernel's [uptime]: the kill it
    read 91 s late gets its kernel time, named; the kill it read on time keeps its stamp."""
    report = analyze(LATE / name)
    for kill in ours(report, TRUE):
        check_time(kill, TRUE[kill.victim.pid])
        late = kill.victim.pid == LATE_PID
        assert (kill.stamp.time_source == "boot-estimate") is late
        assert (
            "91." in (kill.stamp.time_note or "") or "90." in (kill.stamp.time_note or "")
        ) is late
    assert any(w.code == "received-late" for w in report.warnings)


@pytest.mark.parametrize(
    "name",
    [
        "messages",
        "messages-rfc3339",
        "journalctl-k.short.txt",
        "journalctl-k.short-iso.txt",
        "journalctl-k.short-precise.txt",
        "journalctl-k.short-full.txt",
    ],
)
def test_text_modes_say_they_are_receive_times(name: str) -> None:
    kills = ours(analyze(LATE / name), TRUE)
    assert len(kills) == 2
    for kill in kills:
        assert kill.stamp.time_source == "receive-time" and kill.stamp.time_uncertainty_s is None
        assert "received the line" in (kill.stamp.time_note or "")


@pytest.mark.parametrize("name", FRAMINGS)
def test_every_framing_alone_is_right_or_says_what_it_knows(name: str) -> None:
    kills = ours(analyze(LATE / name), TRUE)
    assert sorted(k.victim.pid for k in kills) == sorted(TRUE)
    for kill in kills:
        if kill.stamp.wall is None:  # dmesg, kmsg, short-monotonic: uptimes only
            assert kill.stamp.time_confidence == "unknown"
        else:
            check_time(kill, TRUE[kill.victim.pid])


@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(FRAMINGS, 2)))
def test_every_pair_of_framings_is_one_event_per_kill_on_the_better_clock(a: str, b: str) -> None:
    report = analyze(LATE / a, LATE / b)
    kills = ours(report, TRUE)
    assert sorted(k.victim.pid for k in kills) == sorted(TRUE)
    for kill in kills:
        if kill.stamp.wall is not None:
            check_time(kill, TRUE[kill.victim.pid])
    merged = [r for r in report.reports if any(k.victim.pid in TRUE for k in r.kills)]
    assert all(len(r.copies) == 1 for r in merged)


def test_a_receive_time_copy_takes_the_kernel_time_of_its_raw_twin() -> None:
    """journalctl -o short (receive times) + raw dmesg (uptimes): the late kill's receive time
    is paired with its kernel stamp; the merged event is on the kernel's clock."""
    report = analyze(LATE / "journalctl-k.short-precise.txt", LATE / "dmesg.txt")
    for kill in ours(report, TRUE):
        assert kill.stamp.time_source == "boot-estimate"
        check_time(kill, TRUE[kill.victim.pid])


# -- raw dmesg and coarse history --------------------------------------------------------------

COARSE = ["coarse-10s-restarts", "coarse-60s-slow-leak"]


def coarse_truth(scenario: str) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads((EVIDENCE / scenario / "facts.json").read_text())
    return dict(facts["truth"])


@pytest.mark.parametrize("scenario", COARSE)
@pytest.mark.parametrize("history", ["atop-P.txt", "pidstat-r.txt", "psi-cgroup.txt", None])
def test_raw_dmesg_is_dated_by_coarse_history(scenario: str, history: str | None) -> None:
    """Samples 10 s or 60 s apart still place the boot (all kills of the boot at once), within
    an uncertainty no wider than the sampling; with per-process history the culprit is named."""
    folder = EVIDENCE / scenario
    names = [history] if history else ["atop-P.txt", "pidstat-r.txt", "psi-cgroup.txt"]
    report = analyze(folder / "kern-dmesg.txt", history=tuple(folder / n for n in names))
    want = coarse_truth(scenario)
    truth = {
        k["victim"]["pid"]: datetime.fromisoformat(k["kernel_time_utc"]) for k in want["kills"]
    }
    kills = ours(report, truth)
    assert len(kills) == len(truth)
    interval = float(
        json.loads((folder / "facts.json").read_text())["coarse"]["intervals_s"]["atop"]
    )
    for kill in kills:
        assert (kill.stamp.time_source, kill.stamp.time_confidence) == ("history", "estimated")
        check_time(kill, truth[kill.victim.pid])
        assert kill.stamp.time_uncertainty_s is not None
        assert kill.stamp.time_uncertainty_s <= interval
    if history in ("atop-P.txt", "pidstat-r.txt", None):
        leakers = {want["culprit"]["pid"]} | {
            i["pid"] for i in want["culprit"].get("all_instances", [])
        }
        mine = [i for i in report.incidents if i.victims and i.victims[0].pid in truth]
        assert len(mine) == len(truth)
        for incident in mine:
            assert (incident.culprit.kind, incident.culprit.pid in leakers) == ("process", True)


def test_sar_alone_cannot_date_raw_dmesg() -> None:
    folder = EVIDENCE / "coarse-10s-restarts"
    report = analyze(folder / "kern-dmesg.txt", history=(folder / "sar-A.txt",))
    assert all(k.stamp.wall is None for r in report.reports for k in r.kills)
