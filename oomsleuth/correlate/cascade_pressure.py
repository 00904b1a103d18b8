"""Pressure before a kill: PSI some/full, reclaim (kswapd, direct, stalls), swapping out, and
thrashing, each from its first sample that shows it to its peak.

PSI comes from the cgroup when the history has the cgroup's own (v2 ``memory.pressure``);
otherwise host-wide PSI and the host's reclaim counters are told for a memcg OOM only when
they moved, as host-wide and less sure (other work on the host counts in them too).

Thrashing is refaults while the page cache is low and falling: major faults (of the cgroup's
tasks for a memcg OOM, else the host's) at 5/s or more in samples where the page cache is
below half its high so far and lower than the sample before. Major faults while the cache
grows are start-up reads (binaries, data files warming up), not thrashing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from oomsleuth.correlate.cascade_levels import MEASURED, page_cache
from oomsleuth.correlate.cascade_window import Cut, Window
from oomsleuth.model import OomReport
from oomsleuth.model.cascade import CascadeStep
from oomsleuth.model.record import replace

HOST_WIDE = 0.4  # a host-wide signal told for a cgroup's OOM
NEAR_KILL_S = 180.0  # ... when it peaked this close to the kill
PSI_FROM = 1.0  # % of time stalled: below this PSI did not move
FAULTS_FROM = 5.0  # major faults per second
THRASHING_SURE = 100.0  # major faults per second that leave no doubt

_PSI = (
    ("psi_some", ("cg_psi_some_avg10",), ("psi_mem_some_avg10", "psi_mem_some_interval_pct")),
    ("psi_full", ("cg_psi_full_avg10",), ("psi_mem_full_avg10", "psi_mem_full_interval_pct")),
)
_RECLAIM = (
    ("swapping_out", "pswpout_s", 1.0),
    ("reclaim_kswapd", "pgscank_s", 1.0),
    ("reclaim_direct", "pgscand_s", 1.0),
    ("reclaim_stalls", "allocstall_s", 1.0),
)


def pressure(w: Window, report: OomReport, entity: str | None) -> list[CascadeStep]:
    """PSI, reclaim and thrashing steps. For a cgroup's OOM (``entity``) host-wide signals
    are told only when they moved near the kill, and less sure."""
    near = w.end if entity else None
    out: list[CascadeStep] = []
    for kind, own, host in _PSI:
        found = _first_of(w, entity, own, kind, "cgroup", None) if entity else None
        found = found or _first_of(w, None, host, kind, "host", near)
        out += [found] if found else []
    for kind, metric, least in _RECLAIM:
        cut = w.cut((None, metric))
        step = _rate(cut, kind, least, "/s", "host", near) if cut else None
        out += [step] if step else []
    thrash = _thrashing(w, report, entity)
    out += [thrash] if thrash else []
    if entity is None:
        return out
    return [replace(s, confidence=HOST_WIDE) if s.scope == "host" else s for s in out]


def _first_of(
    w: Window,
    entity: str | None,
    metrics: tuple[str, ...],
    kind: str,
    scope: str,
    near: datetime | None,
) -> CascadeStep | None:
    for metric in metrics:
        cut = w.cut((entity, metric))
        step = _rate(cut, kind, PSI_FROM, "%", scope, near) if cut is not None else None
        if step is not None:
            return step
    return None


def _rate(
    cut: Cut, kind: str, least: float, unit: str, scope: str, near: datetime | None = None
) -> CascadeStep | None:
    """From the first sample at ``least`` or more to the peak after it. With ``near`` (the
    kill, for a host-wide signal of a cgroup's OOM): only when it peaked in the last minutes
    before it at twice its median in the window or more (it moved, it was not the usual)."""
    v = cut.values
    k = next((i for i, x in enumerate(v) if x >= least), None)
    if k is None:
        return None
    peak = max(range(k, len(v)), key=lambda i: (v[i], -i))
    if near is not None:
        usual = sorted(v)[len(v) // 2]
        if (near - cut.times[peak]).total_seconds() > NEAR_KILL_S or v[peak] < 2 * usual:
            return None
        k = peak  # from where this last rise began
        while k > 0 and v[k - 1] >= least:
            k -= 1
    before = v[k - 1] if k else 0.0
    basis = f"{len(v)} samples in {cut.source}, peak {v[peak]:g} at {cut.times[peak]:%H:%M:%S}"
    if scope == "host":
        basis += " (host-wide: other work on the host counts in it too)"
    return CascadeStep(
        kind,
        scope,
        cut.times[k],
        cut.times[peak],
        before,
        v[peak],
        unit,
        cut.source,
        MEASURED,
        basis,
    )


def _faults(w: Window, report: OomReport, entity: str | None) -> tuple[Cut, str] | None:
    """Major faults per second: of the cgroup's tasks (one source, summed per sample) for a
    memcg OOM, else of the host."""
    if entity is not None and report.tasks:
        pids = {f"pid:{t.pid}" for t in report.tasks}
        best: dict[datetime, float] | None = None
        source = ""
        for src, series in sorted(w.sources.items()):
            total: dict[datetime, float] = defaultdict(float)
            for (ent, metric), s in series.items():
                if ent in pids and metric == "proc_majflt_s":
                    for t, v in zip(*s.window(w.start, w.end), strict=True):
                        total[t] += v
            if total and (best is None or len(total) > len(best)):
                best, source = total, src
        if best:
            times = sorted(best)
            return Cut(times, [best[t] for t in times], source), "the cgroup's tasks"
    cut = w.cut((None, "majflt_s"))
    return (cut, "the host") if cut else None


def _thrashing(w: Window, report: OomReport, entity: str | None) -> CascadeStep | None:
    faults, cache = _faults(w, report, entity), page_cache(w, entity)
    if faults is None or cache is None:
        return None
    cut, whose = faults
    hits = []
    high = 0.0
    for k, (t, c) in enumerate(zip(cache.times, cache.values, strict=True)):
        high = max(high, c)
        if k == 0 or not (c < cache.values[k - 1] and c <= 0.5 * high):
            continue
        rate = _at(cut, t)
        if rate is not None and rate >= FAULTS_FROM:
            hits.append((t, rate, c))
    if not hits:
        return None
    peak = max(hits, key=lambda h: h[1])
    start = hits[0][0]
    before = _at(cut, cache.times[cache.times.index(start) - 1]) or 0.0
    basis = (
        f"major faults of {whose} in {cut.source} at {FAULTS_FROM:g}/s or more while the page "
        f"cache ({cache.source}) was below half its high and falling: {len(hits)} sample(s), "
        f"cache {hits[0][2]:.0f} kB to {hits[-1][2]:.0f} kB"
    )
    sure = MEASURED if peak[1] >= THRASHING_SURE else 0.5
    scope = "cgroup" if whose != "the host" else "host"
    return CascadeStep(
        "thrashing", scope, start, peak[0], before, peak[1], "/s", cut.source, sure, basis
    )


def _at(cut: Cut, t: datetime) -> float | None:
    """The value of the sample at ``t`` or the last one before it (within 2 s)."""
    best = None
    for ct, v in zip(cut.times, cut.values, strict=True):
        if ct <= t and (t - ct).total_seconds() <= 2:
            best = v
    return best
