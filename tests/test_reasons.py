"""The kernel's reasons (oomsleuth.correlate.reasons) on real reports: GFP flags in words, zones
against their watermarks, fragmentation of an order-3 request, allocation sites, the sacrificed
child, badness shares over 100% and Kubernetes oom_score_adj values (their names listed in one
look-up a task row); and the JSON document."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelfactory import memcg_v1_report, task
from pipeline import CORPUS, ROOT, analyze_files

from oomsleuth.correlate.badness import explain, total_kb
from oomsleuth.correlate.reasons import _names_by_adj
from oomsleuth.model import OomReport, Report, Victim
from oomsleuth.model.record import replace

HAND = ROOT / "fixtures" / "handwritten"


def _reasons(report: Report, i: int = 0) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {r.kind: (r.title, r.lines) for r in report.incidents[i].reasons}


def _corpus(name: str) -> Path:
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


def test_order3_with_free_memory_is_fragmentation() -> None:
    """arm32 4.4: an order-3 request failed with 4 MiB free in Normal, above its high
    watermark, and no free block of 32 kB or more: fragmentation, not a lack of memory."""
    result = analyze_files([_corpus("lkml-global-4.4-arm32-order3-truncated.log")])
    reasons = _reasons(result)
    title, lines = reasons["fragmentation"]
    assert title.startswith("Fragmentation: no free block of 32 KiB (order 3)")
    assert lines == ("Normal: 4.3 MiB free, 0 free block(s) of 32 KiB or more",)
    zones_title, zone_lines = reasons["zones"]
    assert "above its high watermark" in zones_title
    assert zone_lines[0].endswith("above high")
    # a bare mask of a 4.4 kernel is not decoded: its bits changed between versions
    assert reasons["gfp"][1][0].startswith("flags not named in the report")


def test_zone_below_min_is_named() -> None:
    """5.10: DMA32 below its min watermark is the failing zone; DMA is not for this request."""
    result = analyze_files([_corpus("lmmnotes-global-5.10-raw-dmesg.log")])
    reasons = _reasons(result)
    title, lines = reasons["zones"]
    assert title == (
        "Zones: node 0 DMA32 fell below the min watermark: the allocation could not be met there"
    )
    assert (
        "node 0 DMA32: free 5.1 MiB, min/low/high 5.5 MiB / 7.5 MiB / 9.4 MiB: below min" in lines
    )
    assert "DMA is kept for devices: lowmem_reserve bars this allocation from it" in lines
    gfp_lines = reasons["gfp"][1]
    assert "it could sleep and reclaim memory itself (direct reclaim)" in gfp_lines
    assert "it could start IO and call into filesystems to free memory" in gfp_lines
    assert "__GFP_ZERO: zeroed" in gfp_lines
    # stress-ng with oom_score_adj 1000 scores past 100%: said why
    badness = reasons["badness"]
    assert badness[1][0].startswith("stress-ng-stack (211): 142% with oom_score_adj +1000")


def test_sacrificed_child_is_explained() -> None:
    result = analyze_files([_corpus("awsdocs-ec2-wrapped-2.6-vsz-child-sacrifice.log")])
    title, lines = _reasons(result)["sacrifice"]
    assert title == (
        "A child died for its parent: selected httpd (20273) (score 1285879), killed php-cgi (1917)"
    )
    assert "kernels before 5.1" in lines[0]


def test_kubernetes_adj_values_name_the_qos_class() -> None:
    """A burstable pod (adj 988) is not BestEffort; the pause container is -998."""
    result = analyze_files([_corpus("aksnotes-memcg-v2-k8s-5.15-syslog-dmesgts.log")])
    lines = _reasons(result)["adj"][1]
    assert (
        lines[0]
        == "+1000 (stress-ng-vm (victim)): a BestEffort pod (no memory request): killed first"
    )
    burstable = next(line for line in lines if line.startswith("+988"))
    assert "a Burstable pod" in burstable and "about 1.2% of the node's memory" in burstable
    assert any(line.startswith("-998 (pause): a pod sandbox (pause) container") for line in lines)
    # a memcg OOM says nothing about zones
    assert "zones" not in _reasons(result)


def test_allocation_sites_are_listed() -> None:
    result = analyze_files([HAND / "k6.18-global-alloc-profiling.dmesg.txt"])
    title, lines = _reasons(result)["allocations"]
    assert title == "The kernel's largest allocation sites"
    assert len(lines) == 5 and " in " in lines[0] and " at " in lines[0]


def test_gfp_kernel_in_a_real_capture() -> None:
    """A real memcg OOM of this host (fixtures/incidents): GFP_KERNEL, order 0."""
    path = ROOT / "fixtures" / "incidents" / "sidecar-leak-kills-db" / "kern-dmesg-iso.txt"
    title, lines = _reasons(analyze_files([path]))["gfp"]
    assert title == "The allocation: GFP_KERNEL, order 0"
    assert lines[2] == "kernel memory: from Normal or a lower zone, not movable"


def test_reasons_are_in_the_json_document() -> None:
    result = analyze_files([_corpus("lmmnotes-global-5.10-raw-dmesg.log")])
    doc = result.to_dict()
    kinds = [r["kind"] for r in doc["incidents"][0]["reasons"]]
    assert kinds == ["gfp", "zones", "badness", "adj"]
    assert all(r["title"] and isinstance(r["lines"], list) for r in doc["incidents"][0]["reasons"])


def test_shares_over_100_percent_are_explained() -> None:
    """A real memcg OOM of this host: the tasks' shares of the limit add up to more than 100%
    (each python maps the same libraries), and the report says why."""
    result = analyze_files([ROOT / "fixtures" / "real" / "memcg-names.dmesg.txt"])
    rows = result.incidents[0].badness
    assert sum(r.share for r in rows) > 1.0 and all(r.share <= 1.0 for r in rows)
    title, lines = _reasons(result)["badness"]
    assert title.startswith("Why the badness shares add up to 1") and title.endswith("%")
    assert "shares need not add to 100%" in lines[-1]


def _reference_names(report: OomReport) -> dict[int, list[str]]:
    """Who has each adj, as first written: each row checked against every name listed."""
    seen: dict[int, list[str]] = {}
    for k in report.kills:
        if k.victim.oom_score_adj is not None:
            seen.setdefault(k.victim.oom_score_adj, []).append(f"{k.victim.comm} (victim)")
    for row in report.tasks or ():
        names = seen.setdefault(row.oom_score_adj, []) if row.oom_score_adj is not None else []
        if row.oom_score_adj is not None and not any(n.startswith(row.comm) for n in names):
            names.append(row.comm)
    return seen


def test_names_by_adj_of_every_real_report_and_of_built_tables() -> None:
    """The adj reason's names (a prefix set a row, not a pass over the names listed): those of
    the pass over the names, on every real report (a table of 151 tasks at one adj among
    them) and on tables built of comms that start one another, repeat, are empty, or end
    like a victim's entry."""
    logs = [*sorted((ROOT / "fixtures" / "real").glob("*.dmesg.txt")), *CORPUS.glob("*.log")]
    reports = [r for log in logs for r in analyze_files([log]).reports]
    assert max(len(r.tasks or ()) for r in reports) >= 151
    comms = ["java", "jav", "java", "", "ja", "a (victim)", "java (victim)", "sh", "s", "javac"]
    victim = Victim(3120, "java", None, 2_459_188, 521_460, 15_208, 0)
    base = memcg_v1_report()
    kills = tuple(
        replace(k, victim=replace(victim, oom_score_adj=adj)) for k in base.kills for adj in (0, -1)
    )
    for n in range(len(comms) + 1):
        rows = tuple(
            task(100 + i, c, 10, oom_score_adj=(i % 3) - 1 if i % 4 else None)
            for i, c in enumerate(comms[n:] + comms[:n])
        )
        reports.append(replace(base, tasks=rows, kills=kills))
    for report in reports:
        assert _names_by_adj(report) == _reference_names(report)


def test_badness_without_a_limit_or_ram_is_a_share_of_all_the_tasks_points() -> None:
    """No limit and no RAM size in the report: each task's share is its points over the sum
    of every task's (summed once for the table, not once a row)."""
    report = replace(memcg_v1_report(), memcg=None, meminfo=None)
    rows, note = explain(report)
    assert total_kb(report)[0] is None and len(rows) == 2
    points = {r.pid: max(r.points_kb, 0) for r in rows}
    assert all(r.share == points[r.pid] / sum(points.values()) for r in rows)
    assert note is not None and "unknown" in note
