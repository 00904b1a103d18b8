"""Kernels and killers that changed: the memory-allocation-profiling list (6.10+) in its three
wordings, BPF OOM handlers (kill lines with a caller's message, or no kill line), and earlyoom
``--kernel-oom`` having the kernel's OOM killer run (SysRq-f).

The profiling report is fixtures/handwritten/k6.18-global-alloc-profiling.dmesg.txt, the earlyoom
one fixtures/userspace/earlyoom-kernel-oom-syslog.log; the BPF case is the shared corpus's patched
6.16 kernel, read from ../shared (skipped where it is absent).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline import analyze_lines

from oomsleuth.model import Incident, OomReport

ROOT = Path(__file__).resolve().parent.parent
PROFILED = ROOT / "fixtures" / "handwritten" / "k6.18-global-alloc-profiling.dmesg.txt"
HEADER = "Memory allocations (profiling is currently turned on):"
REAL_MEMCG = ROOT / "fixtures" / "real" / "memcg-adj.dmesg.txt"
EARLYOOM_KERNEL = ROOT / "fixtures" / "userspace" / "earlyoom-kernel-oom-syslog.log"
BPF_CASE = ROOT.parent / "shared" / "corpus" / "lkml-memcg-v2-6.16-bpf-constraint-patched.log"


def _profiled(header: str) -> tuple[OomReport, Incident]:
    lines = PROFILED.read_text().replace(HEADER, header).splitlines()
    result = analyze_lines(lines, on_warning=lambda _: None)
    [report] = result.reports
    [incident] = result.incidents
    return report, incident


def test_the_profiled_kernel_sites_name_the_driver_that_holds_memory() -> None:
    report, incident = _profiled(HEADER)
    assert report.meminfo is not None
    sites = report.meminfo.allocation_sites
    assert len(sites) == 10 and report.meminfo.allocation_profiling == "on"
    assert (sites[0].site, sites[0].module, sites[0].size_kb) == (
        "drivers/gpu/drm/ttm/ttm_pool.c:229",
        "ttm",
        round(2.81 * 1024 * 1024),
    )
    assert sites[-1].size_kb == 512 and sites[1].module is None
    culprit = incident.culprit
    assert culprit.kind == "kernel" and culprit.name is not None
    assert "ttm_pool_alloc_page [ttm]" in culprit.name
    # the user-page sites (folio_prealloc 862 MiB) are memory the task table already shows
    assert "folio_prealloc" not in culprit.evidence[0]
    assert incident.victims[0].comm == "firefox"


def test_the_6_10_wording_without_the_on_off_state() -> None:
    report, incident = _profiled("Memory allocations:")
    assert report.meminfo is not None and len(report.meminfo.allocation_sites) == 10
    assert report.meminfo.allocation_profiling is None
    assert incident.culprit.kind == "kernel"


def test_counts_of_profiling_turned_off_are_not_a_verdict() -> None:
    report, incident = _profiled("Memory allocations (profiling is currently turned off):")
    assert report.meminfo is not None and report.meminfo.allocation_profiling == "off"
    assert incident.culprit.kind != "kernel"
    assert any("turned off" in e for e in incident.culprit.evidence)


def test_a_kill_line_with_a_bpf_handlers_message() -> None:
    """A BPF OOM handler passes its own message to the kill: any text, colons included."""
    text = REAL_MEMCG.read_text()
    assert "Memory cgroup out of memory: Killed process" in text
    text = text.replace("Memory cgroup out of memory: Killed", "bpf_oom: psi: mem some: Killed")
    result = analyze_lines(text.splitlines(), on_warning=lambda _: None)
    kills = [k for r in result.reports for k in r.kills]
    assert [k.victim.pid for k in kills] == [20945, 20946]
    assert {k.message for k in kills} == {"bpf_oom: psi: mem some"}


@pytest.mark.skipif(not BPF_CASE.is_file(), reason="../shared/corpus is not here")
def test_a_bpf_handler_that_printed_no_kill_line_is_said() -> None:
    lines = [
        line
        for line in BPF_CASE.read_text().splitlines()
        if "Killed process" not in line and "oom-kill:" not in line
    ]
    result = analyze_lines(lines, on_warning=lambda _: None)
    [report] = result.reports
    assert report.kills == ()
    assert any("BPF OOM handler" in n for n in report.notes)
    # with the kill line there is no such note: the handler's kill is in the output
    full = analyze_lines(BPF_CASE.read_text().splitlines(), on_warning=lambda _: None)
    assert [k.victim.pid for r in full.reports for k in r.kills] == [675]
    assert not any("BPF OOM handler" in n for r in full.reports for n in r.notes)


def _manual(lines: list[str]) -> Incident:
    result = analyze_lines(lines, year=2024, on_warning=lambda _: None)
    [incident] = result.incidents
    return incident


def test_earlyoom_that_ran_the_kernel_killer_is_the_trigger() -> None:
    lines = EARLYOOM_KERNEL.read_text().splitlines()
    incident = _manual(lines)
    assert (incident.trigger_comm, incident.trigger_pid) == ("earlyoom", 611)
    assert [v.comm for v in incident.victims] == ["mariadbd"]
    said = " ".join(incident.culprit.evidence)
    assert "earlyoom (611) had the kernel's OOM killer run" in said
    assert "kworker/1:3 only carried out the request" in said


def test_a_manual_oom_without_a_daemon_keeps_the_kernels_trigger() -> None:
    lines = [line for line in EARLYOOM_KERNEL.read_text().splitlines() if "earlyoom[" not in line]
    incident = _manual(lines)
    assert incident.trigger_comm == "kworker/1:3"
    assert any("run on request (SysRq-f)" in e for e in incident.culprit.evidence)


def test_an_earlyoom_request_minutes_away_is_not_this_reports_trigger() -> None:
    lines = EARLYOOM_KERNEL.read_text().splitlines()
    moved = [
        line.replace("09:22:43 db1 earlyoom", "09:12:43 db1 earlyoom")
        if "successfully triggered" in line
        else line
        for line in lines
    ]
    assert moved != lines
    assert _manual(moved).trigger_comm == "kworker/1:3"


def test_reports_share_one_copy_of_each_memcg_stat_name() -> None:
    """Hundreds of reports repeat the same few dozen memory.stat names: one copy is kept."""
    logs = ("memcg-adj.dmesg.txt", "memcg-names.dmesg.txt")
    lines = [
        x for name in logs for x in (ROOT / "fixtures" / "real" / name).read_text().split("\n")
    ]
    names = [[k for k, _ in r.memcg.stats_bytes] for r in analyze_lines(lines).reports if r.memcg]
    first, second = (next(k for k in found if k == "rss") for found in names[:2])
    assert len(names) >= 2 and first is second
