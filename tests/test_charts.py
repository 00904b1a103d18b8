"""The charts show the OOM's own scope, and the report alone always draws a picture.

A memcg OOM is drawn as the cgroup against its limit, split into anon / page cache / shmem
(never the host's flat 23 GiB line); a global one as the host's memory; a line that stayed
flat is left out with one note saying so. Without history, every report that holds numbers
(a kill line, Mem-Info, a memcg block, a task table) still gets the memory at the kill and
the top tasks, in every fixture.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pipeline import ROOT, analyze_files

import oomsleuth
from oomsleuth.model import Report

TMPFS = "fixtures/incidents/tmpfs-fills-memory"
GLOBAL = "fixtures/handwritten/k5.15-global.journal-short-precise.txt"


def html(result: Report) -> str:
    out = io.StringIO()
    oomsleuth.render(result, "html", out)
    return out.getvalue()


def charts(page: str) -> list[str]:
    return re.findall(r'<svg class="chart[^"]*"[^>]*data-chart="(\w+)"', page)


def svg(page: str, key: str) -> str:
    m = re.search(rf'<svg class="chart[^"]*"[^>]*data-chart="{key}".*?</svg>', page, re.S)
    assert m, key
    return m.group(0)


def legend(chart: str) -> list[str]:
    return re.findall(r'<text class="legend"[^>]*>([^<]*)</text>', chart)


def test_a_memcg_oom_is_drawn_as_the_cgroup_against_its_limit() -> None:
    result = analyze_files([f"{TMPFS}/kern-dmesg-iso.txt"], history=[f"{TMPFS}/psi-cgroup.txt"])
    page = html(result)
    assert charts(page) == ["memcg", "breakdown", "badness"]  # no host memory, no flat PSI
    memcg = svg(page, "memcg")
    assert legend(memcg) == ["cgroup usage", "anon", "shmem/tmpfs", "limit"]
    assert re.search(r'<line class="limit"[^>]*y1="30"', memcg)  # the limit is the top
    assert "in the cgroup stayed flat, not drawn: page cache at 0 KiB" in page
    assert "host-wide PSI stayed flat, not drawn" in page
    assert "23.5 GiB" not in memcg and "GiB" not in memcg  # nothing of the 24 GiB host


def test_the_report_alone_draws_memory_at_the_kill_and_the_kernels_choice() -> None:
    page = html(analyze_files([f"{TMPFS}/kern-dmesg-iso.txt"]))
    assert charts(page) == ["breakdown", "badness"]
    parts = legend(svg(page, "breakdown"))
    # v1 stats block: rss 67440640 B, shmem 141557760 B (cache 141606912 B holds the shmem)
    assert parts == ["anon: 64.3 MiB (32% of limit)", "shmem/tmpfs: 135.0 MiB (68% of limit)"]
    bars = svg(page, "badness")
    names = re.findall(r'<text class="legend"[^>]*>([^<]*)<tspan', bars)
    assert names == ["app-server (14640)", "healthcheck (14641)"]
    values = re.findall(r'<tspan class="tick"[^>]*>([^<]*)</tspan>', bars)
    assert values == ["49.6 MiB · victim", "27.0 MiB · trigger"]
    assert re.search(r'class="bar victim"', bars) and re.search(r'class="bar s0 trigger"', bars)


def test_a_global_oom_is_drawn_as_the_host_with_its_mem_info(tmp_path: Path) -> None:
    kill = datetime.fromisoformat("2024-03-02T14:11:07+00:00")
    rows = ["time,series,value"]
    for i in range(6):
        t = (kill - timedelta(seconds=10 * (6 - i))).isoformat()
        rows += [f"{t},mem_available_kb,{4_000_000 - 600_000 * i}", f"{t},shmem_kb,2048"]
    path = tmp_path / "h.csv"
    path.write_text("\n".join(rows) + "\n")
    page = html(analyze_files([GLOBAL], history=[path]))
    assert charts(page)[0] == "memory" and "memcg" not in charts(page)
    assert legend(svg(page, "memory")) == ["available memory"]
    assert "host memory stayed flat, not drawn: shmem/tmpfs at 2.0 MiB" in page
    parts = legend(svg(page, "breakdown"))
    assert parts[0].startswith("anon: ") and parts[-1].startswith("free: ")
    assert all("of RAM)" in p for p in parts)


def test_hostile_names_stay_text_in_the_bars() -> None:
    page = html(analyze_files(["fixtures/real/memcg-names.dmesg-iso.txt"]))
    for key in ("breakdown", "badness"):
        chart = svg(page, key)
        assert "<script" not in chart.lower() and "<b>" not in chart


def _logs() -> list[Path]:
    pats = ("real/*.txt", "handwritten/*.txt", "handwritten/*.log", "handwritten/*.json")
    pats += ("incidents/*/kern-dmesg*.txt", "userspace/*.log", "evidence/locale/*/*.txt")
    found = {p for pat in pats for p in (ROOT / "fixtures").glob(pat)}
    return sorted(p for p in found if not p.name.endswith(("facts.json", "meta.json")))


@pytest.mark.parametrize("log", _logs(), ids=lambda p: str(p.relative_to(ROOT / "fixtures")))
def test_every_report_with_numbers_has_a_picture(log: Path) -> None:
    result = analyze_files([log.relative_to(ROOT)])
    sections = html(result).split('<section class="incident')[1:]
    assert len(sections) == len(result.reports)
    for report, section in zip(result.reports, sections, strict=True):
        numbers = report.kills or report.meminfo or report.memcg or report.tasks
        if numbers:
            assert charts(section), f"{log.name}: report at line {report.where.line} has no chart"
            for box in re.findall(r'viewBox="0 0 (\d+) (\d+)"', section):
                assert int(box[0]) >= 300 and int(box[1]) >= 40, box
