"""Levels that moved before a kill: usage, anon, shmem/tmpfs, page cache, MemAvailable, swap,
memory.high, each told as it really moved, in time order.

Each run of a series in one direction (until it turns back or pauses for two samples) is one
step, told only when the change is large for the scope (5% of the limit or of RAM; for the
page cache also a quarter of its own high): a cache that grew, then was drained, is two steps
with their own start and end; a warm-up and a leak after a pause are two rises.

The page cache is file pages without shmem: v1 ``cache``, v2 ``file`` and meminfo ``Cached``
all count tmpfs in, so tmpfs filling a cgroup is told as shmem that grew, never as a page
cache that did anything.
"""

from __future__ import annotations

from oomsleuth.correlate.cascade_window import Cut, Window
from oomsleuth.model import OomReport
from oomsleuth.model.cascade import CascadeStep

NEAR_LIMIT = 0.95  # usage at 95% of the limit: the limit is being hit
MEASURED = 0.9  # a level read from the scope's own history
NO_LIMIT_KB = 2**50


def scope_size(w: Window, report: OomReport, entity: str | None) -> float | None:
    """The limit (memcg) or RAM (global), kB."""
    if entity is not None:
        mc = report.memcg
        if mc is not None and mc.memory is not None and mc.memory.limit_kb:
            return float(mc.memory.limit_kb)
        cut = w.cut((entity, "cg_mem_max_kb"))
        return cut.values[-1] if cut and 0 < cut.values[-1] < NO_LIMIT_KB else None
    if report.meminfo is not None and report.meminfo.ram_kb:
        return float(report.meminfo.ram_kb)
    cut = w.cut((None, "mem_total_kb"))
    return cut.values[-1] if cut else None


def levels(w: Window, report: OomReport, entity: str | None) -> list[CascadeStep]:
    size = scope_size(w, report, entity)
    scope = "host" if entity is None else "cgroup"
    out: list[CascadeStep] = []
    for kind, metric in _GROWTH[scope]:
        cut = w.cut((entity, metric))
        if cut is not None:
            out += _moves(cut, kind, None, scope, size, metric)
    cache = page_cache(w, entity)
    if cache is not None:
        metric = "cg_file_kb" if entity else "cached_kb"
        out += _moves(cache, "cache_grew", "cache_drained", scope, size, metric, relative=True)
    if entity is None:
        cut = w.cut((None, "mem_available_kb"))
        if cut is not None:
            out += _moves(cut, None, "available_fell", scope, size, "mem_available_kb")
    out += _swap(w, entity, scope)
    out += _high(w, entity)
    return [s for s in out if not _explained(s, out)]


_PARTS = ("anon_grew", "shmem_grew", "cache_grew")


def _explained(step: CascadeStep, found: list[CascadeStep]) -> bool:
    """A rise of the cgroup's usage told already by what rose in it (anon, shmem, cache)."""
    if step.kind != "usage_grew" or step.start is None or step.end is None:
        return False
    parts = [
        (s.after or 0) - (s.before or 0)
        for s in found
        if s.kind in _PARTS and s.start and s.end and s.start < step.end and step.start < s.end
    ]
    return sum(parts) >= 0.8 * ((step.after or 0) - (step.before or 0))


_GROWTH = {
    "cgroup": (
        ("usage_grew", "cg_mem_current_kb"),
        ("anon_grew", "cg_anon_kb"),
        ("shmem_grew", "cg_shmem_kb"),
    ),
    "host": (("anon_grew", "anon_kb"), ("shmem_grew", "shmem_kb")),
}


def page_cache(w: Window, entity: str | None) -> Cut | None:
    """File pages without shmem, from one source: ``cg_file_kb`` (``cached_kb`` for the host)
    minus the same source's shmem at the same sample when it has it."""
    metric, shmem = ("cg_file_kb", "cg_shmem_kb") if entity else ("cached_kb", "shmem_kb")
    cut = w.cut((entity, metric))
    if cut is None:
        return None
    sh = w.cut_from((entity, shmem), cut.source)
    if sh is None:
        return cut
    at = dict(zip(sh.times, sh.values, strict=True))
    pairs = [(t, v - at[t]) for t, v in zip(cut.times, cut.values, strict=True) if t in at]
    return Cut([t for t, _ in pairs], [v for _, v in pairs], cut.source) if pairs else None


def _moves(
    cut: Cut,
    up: str | None,
    down: str | None,
    scope: str,
    size: float | None,
    metric: str,
    *,
    relative: bool = False,
) -> list[CascadeStep]:
    """One step per run of the series that rose (``up``) or fell (``down``) by ``least`` or
    more: 5% of the scope's size (for the page cache: a quarter of its own high too)."""
    v = cut.values
    if len(v) < 2:
        return []
    least = max(0.05 * size, 1024.0) if size else max(0.25 * max(v), 1024.0)
    if relative:
        least = max(0.25 * max(v), 0.01 * size if size else 0.0, 1024.0)
    out = []
    basis = f"{len(v)} samples of {metric} in {cut.source}"
    for i, j in runs(v, least / 10):
        kind = up if v[j] > v[i] else down
        if kind is not None and abs(v[j] - v[i]) >= least:
            step = CascadeStep(
                kind, scope, cut.times[i], cut.times[j], v[i], v[j], "kB", cut.source,
                MEASURED, basis, size,
            )  # fmt: skip
            out.append(step)
    return out


def runs(v: list[float], slack: float) -> list[tuple[int, int]]:
    """(first, last) sample of each run of the series in one direction. A run ends where the
    series turns (a step back larger than ``slack``) or pauses (two steps in a row within
    ``slack``); it starts at its last sample still at the bottom (or top)."""
    out: list[tuple[int, int]] = []
    start, sign, flat, last = 0, 0, 0, 0
    for k in range(1, len(v)):
        d = v[k] - v[k - 1]
        if abs(d) <= slack:
            flat += 1
            if sign != 0 and flat >= 2:
                out.append((start, last))
                sign = 0
            continue
        s = 1 if d > 0 else -1
        if sign not in (0, s):
            out.append((start, last))
        if sign != s:
            start = k - 1
        sign, flat, last = s, 0, k
    if sign != 0:
        out.append((start, last))
    return out


def _swap(w: Window, entity: str | None, scope: str) -> list[CascadeStep]:
    metric = "cg_swap_current_kb" if entity else "swap_used_kb"
    cut = w.cut((entity, metric))
    if cut is None:
        return []
    total = None if entity else w.cut_from((None, "swap_total_kb"), cut.source)
    size = total.values[-1] if total and total.values[-1] > 0 else None
    return _moves(cut, "swap_filled", None, scope, size, metric)


def _high(w: Window, entity: str | None) -> list[CascadeStep]:
    """Usage passing memory.high (v2): the cgroup was throttled and reclaimed."""
    if entity is None:
        return []
    high = w.cut((entity, "cg_mem_high_kb"))
    usage = w.cut((entity, "cg_mem_current_kb"))
    if high is None or usage is None or not 0 < high.values[-1] < NO_LIMIT_KB:
        return []
    level = high.values[-1]
    for k, (t, v) in enumerate(zip(usage.times, usage.values, strict=True)):
        if v >= level:
            before = usage.values[k - 1] if k else None
            basis = f"cg_mem_current_kb against cg_mem_high_kb in {usage.source}"
            return [
                CascadeStep(
                    "high_throttled",
                    "cgroup",
                    t,
                    t,
                    before,
                    v,
                    "kB",
                    usage.source,
                    MEASURED,
                    basis,
                    level,
                )
            ]
    return []


def near_limit(w: Window, report: OomReport, entity: str | None) -> CascadeStep | None:
    """The first sample of the last stretch at 95% of the limit or more that lasts to the kill
    (a stretch that ended before it was the previous kill's)."""
    size = scope_size(w, report, entity) if entity else None
    usage = w.cut((entity, "cg_mem_current_kb")) if entity else None
    if size is None or usage is None or usage.values[-1] < NEAR_LIMIT * size:
        return None
    k = len(usage.values) - 1
    while k > 0 and usage.values[k - 1] >= NEAR_LIMIT * size:
        k -= 1
    t, v = usage.times[k], usage.values[k]
    basis = (
        f"from {t:%H:%M:%S} every sample at {NEAR_LIMIT:.0%} of the limit or more in {usage.source}"
    )
    return CascadeStep(
        "limit_reached", "cgroup", t, t, v, v, "kB", usage.source, MEASURED, basis, size
    )
