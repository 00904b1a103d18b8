"""The history charts of the OOM's own scope. For a memcg OOM: the cgroup's usage against its
limit (and memory.high), split into anon / page cache / shmem where the history has them, and
PSI of the cgroup (the host's only when it moved). For a global OOM: the host's available
memory, page cache and shmem, swap, and PSI. A line that stayed flat or has no sample is left
out, with one line saying so: a 1 GiB cgroup's OOM is not drawn as a flat 23 GiB host line.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from oomsleuth.model import OomReport
from oomsleuth.model.units import human_kb
from oomsleuth.renderers.charts import Chart, Level, Line

if TYPE_CHECKING:
    from oomsleuth.renderers.html_charts import HistoryIndex, Key

NO_LIMIT_KB = 2**50  # larger than any real limit: PAGE_COUNTER_MAX and "max"
PSI_MOVED = 1.0  # % of time stalled: below this PSI did not move


def cgroup_key(report: OomReport) -> str | None:
    path = report.oom_memcg or (report.constraint.oom_memcg if report.constraint else None)
    return f"cgroup:{path.rstrip('/') or '/'}" if path else None


def flat(line: Line, unit: str, scale: float = 0.0) -> bool:
    """No movement worth a chart: within 1% of the chart's scale (the limit, RAM, or the line's
    own high) for sizes; under 1% of time stalled for PSI."""
    if not line.values:
        return True
    low, high = min(line.values), max(line.values)
    if unit == "%":
        return high < PSI_MOVED
    return high - low <= max(0.01 * max(abs(high), scale), 64.0)


def _level(unit: str, values: list[float]) -> str:
    v = values[-1]
    return f"{v:.1f}%" if unit == "%" else human_kb(int(v))


def moving(
    lines: list[Line], unit: str, notes: list[str], where: str, scale: float = 0.0
) -> list[Line]:
    """The lines that moved; one note naming those left out, and why."""
    kept, still = [], []
    for ln in lines:
        if not ln.values:
            continue
        if flat(ln, unit, scale):
            still.append(f"{ln.label} at {_level(unit, list(ln.values))}")
        else:
            kept.append(ln)
    if still:
        notes.append(f"{where} stayed flat, not drawn: {', '.join(still)}")
    return kept


def _line(hist: HistoryIndex, key: Key, label: str, css: str, s: datetime, e: datetime) -> Line:
    cut = hist.cut(key, s, e)
    return (
        Line(label, [], [], css) if cut is None else Line(label, cut[0], cut[1], css, source=cut[2])
    )


def _cache(hist: HistoryIndex, entity: str | None, s: datetime, e: datetime, css: str) -> Line:
    """The page cache without shmem (v1 cache, v2 file and meminfo Cached count tmpfs in),
    from one source."""
    metric, shmem = ("cg_file_kb", "cg_shmem_kb") if entity else ("cached_kb", "shmem_kb")
    cut = hist.cut((entity, metric), s, e)
    if cut is None:
        return Line("page cache", [], [], css)
    sh = hist.cut_from((entity, shmem), cut[2], s, e)
    if sh is None:
        return Line("page cache (with shmem)", cut[0], cut[1], css, source=cut[2])
    at = dict(zip(sh[0], sh[1], strict=True))
    pairs = [(t, v - at[t]) for t, v in zip(cut[0], cut[1], strict=True) if t in at]
    return Line("page cache", [t for t, _ in pairs], [v for _, v in pairs], css, source=cut[2])


def memcg(
    hist: HistoryIndex, report: OomReport, s: datetime, e: datetime, notes: list[str]
) -> Chart | None:
    key = cgroup_key(report)
    if key is None:
        return None
    usage = _line(hist, (key, "cg_mem_current_kb"), "cgroup usage", "s0 total", s, e)
    if not usage.values:
        notes.append(f"no history of the cgroup {key[7:]}: its usage cannot be drawn")
        return None
    limit = report.memcg.memory.limit_kb if report.memcg and report.memcg.memory else None
    if limit is None:
        cut = hist.cut((key, "cg_mem_max_kb"), s, e)
        limit = int(cut[1][-1]) if cut is not None else None
    parts = [
        _line(hist, (key, "cg_anon_kb"), "anon", "s1", s, e),
        _cache(hist, key, s, e, "s2"),
        _line(hist, (key, "cg_shmem_kb"), "shmem/tmpfs", "s3", s, e),
    ]
    scale = float(limit) if limit and limit < NO_LIMIT_KB else max(usage.values)
    lines = [usage, *moving(parts, "kB", notes, "in the cgroup", scale)]
    levels = [Level("limit", limit)] if limit is not None and 0 < limit < NO_LIMIT_KB else []
    high = hist.cut((key, "cg_mem_high_kb"), s, e)
    if high is not None and 0 < high[1][-1] < NO_LIMIT_KB:
        levels.append(Level("memory.high", high[1][-1], "limit high"))
    title = f"The cgroup's memory against its limit: {key[7:]}"
    return Chart("memcg", title, "kB", tuple(lines), tuple(levels))


def psi(
    hist: HistoryIndex, report: OomReport, s: datetime, e: datetime, notes: list[str]
) -> Chart | None:
    """The cgroup's PSI when the history has it, else the host's, only when it moved."""
    key = cgroup_key(report) if report.is_memcg else None
    if key is not None:
        lines = [
            _line(hist, (key, f"cg_psi_{kind}_avg10"), f"{kind} (avg10)", css, s, e)
            for kind, css in (("some", "s0"), ("full", "s1"))
        ]
        if any(ln.values for ln in lines):
            kept = moving(lines, "%", notes, "the cgroup's PSI")
            title = "Memory pressure stall information of the cgroup (PSI): share of time stalled"
            return Chart("psi", title, "%", tuple(kept)) if kept else None
    measures = [
        [
            _line(hist, (None, f"psi_mem_{kind}_{suffix}"), f"{kind} ({how})", css, s, e)
            for kind, css in (("some", "s0"), ("full", "s1"))
        ]
        for suffix, how in (("avg10", "avg10"), ("interval_pct", "per sample interval"))
    ]
    measures = [m for m in measures if any(ln.values for ln in m)]
    if not measures:
        return None
    # the measure that shows the most (avg10 smooths a stall of a few seconds away)
    lines = max(measures, key=lambda m: max(v for ln in m for v in ln.values))
    kept = moving(lines, "%", notes, "host-wide PSI")
    title = "Memory pressure stall information (PSI, host-wide): share of time stalled"
    return Chart("psi", title, "%", tuple(kept)) if kept else None


def host_memory(
    hist: HistoryIndex, report: OomReport, s: datetime, e: datetime, notes: list[str]
) -> Chart | None:
    lines = [
        _line(hist, (None, "mem_available_kb"), "available memory", "s0", s, e),
        _cache(hist, None, s, e, "s2"),
        _line(hist, (None, "shmem_kb"), "shmem/tmpfs", "s3", s, e),
    ]
    total = hist.cut((None, "mem_total_kb"), s, e)
    ram = report.meminfo.ram_kb if report.meminfo and report.meminfo.ram_kb else None
    scale = float(ram or (total[1][-1] if total else 0.0))
    kept = moving(lines, "kB", notes, "host memory", scale)
    title = "Available memory, page cache and shmem (host)"
    return Chart("memory", title, "kB", tuple(kept)) if kept else None


def swap(
    hist: HistoryIndex, report: OomReport, s: datetime, e: datetime, notes: list[str]
) -> Chart | None:
    total = hist.cut((None, "swap_total_kb"), s, e)
    swap_off = report.meminfo is not None and report.meminfo.total_swap_kb == 0
    if swap_off or (total is not None and max(total[1]) == 0):
        notes.append("swap is off on this host: no swap chart")
        return None
    used = _line(hist, (None, "swap_used_kb"), "swap used", "s0", s, e)
    kept = moving([used], "kB", notes, "swap", total[1][-1] if total else 0.0)
    if not kept:
        return None
    levels = (Level("swap size", total[1][-1]),) if total is not None else ()
    return Chart("swap", "Swap used (host)", "kB", tuple(kept), levels)
