"""The memory-pressure cascade before a kill, as data: one :class:`CascadeStep` per thing that
happened, measured in the OOM's own scope (the cgroup for a memcg OOM, the host for a global
one), and :func:`step_text`, the one sentence every format prints for a step.

A step that did not happen is not a step: a page cache that rose is ``cache_grew``, never a
drain; major faults while the cache grows (start-up) are not thrashing.
"""

from __future__ import annotations

from datetime import datetime

from oomsleuth.model.record import record
from oomsleuth.model.units import human_kb

# kind -> what it means (the JSON schema and docs/json-schema.md list the same kinds)
KINDS = {
    "usage_grew": "the scope's memory use rose (cgroup usage, or the host's used memory)",
    "anon_grew": "anonymous memory (heap, stacks) rose",
    "shmem_grew": "shmem/tmpfs rose (files in tmpfs or /dev/shm, shared memory)",
    "cache_grew": "the page cache rose (files read or written; services warming up)",
    "cache_drained": "the page cache fell: reclaim dropped file pages to make room",
    "available_fell": "the host's MemAvailable fell",
    "swap_filled": "swap use rose",
    "high_throttled": "usage passed memory.high: the cgroup was throttled and reclaimed",
    "limit_reached": "usage reached the limit (from the history, then the kernel's report)",
    "swapping_out": "pages were written to swap",
    "reclaim_kswapd": "kswapd reclaimed in the background",
    "reclaim_direct": "allocating tasks reclaimed themselves (direct reclaim: they stalled)",
    "reclaim_stalls": "direct-reclaim stalls were counted",
    "psi_some": "PSI memory some: some tasks stalled on memory",
    "psi_full": "PSI memory full: all non-idle tasks stalled on memory at once",
    "thrashing": "major faults (refaults) while the page cache was low and falling",
    "swap_off": "swap was off: anonymous memory could not be reclaimed",
    "swap_exhausted": "swap was full at the kill",
    "swap_not_allowed": "the cgroup could not swap (its swap limit is 0)",
}


@record(frozen=True, slots=True)
class CascadeStep:
    """One step of the cascade. ``before``/``after`` are the values at ``start`` and ``end``
    (for PSI, reclaim and fault rates: the last quiet value and the peak), in ``unit``:
    ``kB``, ``%`` or ``/s``. ``reference`` is what they are measured against (the limit, RAM,
    swap size), same unit. ``confidence`` 0..1 and ``basis`` say how sure and from what."""

    kind: str
    scope: str  # "cgroup" | "host"
    start: datetime | None
    end: datetime | None
    before: float | None
    after: float | None
    unit: str
    source: str  # the history file, or "kernel report"
    confidence: float
    basis: str
    reference: float | None = None
    uptime_s: float | None = None  # for steps of the report itself when it has no wall clock


def _v(value: float | None, unit: str) -> str:
    if value is None:
        return "?"
    if unit == "kB":
        return human_kb(int(value))
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:.0f}/s"


def _at(t: datetime | None) -> str:
    """``f"{t:%H:%M:%S}"``, without strftime (a cascade step's text is made several times)."""
    return f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}" if t is not None else "?"


def _span(s: CascadeStep) -> str:
    start, end = s.start, s.end
    if start is None:
        return ""
    at = _at(start)
    if end is None or _at(end) == at:
        return f" at {at}"
    return f" from {at} to {_at(end)}"


def _of(s: CascadeStep, what: str) -> str:
    if s.reference is None or not s.reference or s.after is None:
        return ""
    return f" ({s.after / s.reference:.0%} of {what} {_v(s.reference, s.unit)})"


def _who(s: CascadeStep) -> str:
    return "the cgroup's" if s.scope == "cgroup" else "the host's"


def step_text(s: CascadeStep) -> str:
    """The sentence for one step, the same in every format."""
    b, a, span = _v(s.before, s.unit), _v(s.after, s.unit), _span(s)
    limit = "its limit" if s.scope == "cgroup" else "RAM"
    if s.kind in ("usage_grew", "anon_grew", "shmem_grew", "cache_grew", "swap_filled"):
        what = {
            "usage_grew": "memory usage",
            "anon_grew": "anonymous memory",
            "shmem_grew": "shmem/tmpfs",
            "cache_grew": "page cache",
            "swap_filled": "swap use",
        }[s.kind]
        ref = "swap" if s.kind == "swap_filled" else limit
        return f"{_who(s)} {what} rose from {b} to {a}{span}{_of(s, ref)}"
    if s.kind == "cache_drained":
        return f"{_who(s)} page cache was drained from {b} to {a}{span}"
    if s.kind == "available_fell":
        return f"MemAvailable fell from {b} to {a}{span}{_of(s, 'RAM')}"
    if s.kind == "high_throttled":
        return f"usage passed memory.high ({_v(s.reference, s.unit)}){span}: throttled"
    if s.kind == "limit_reached":
        return f"the cgroup reached its limit: {a} of {_v(s.reference, s.unit)}{span}"
    if s.kind in ("psi_some", "psi_full"):
        which = "some" if s.kind == "psi_some" else "full"
        where = "the cgroup's" if s.scope == "cgroup" else "host-wide"
        return f"{where} PSI memory {which} rose from {b} to {a}{span}"
    if s.kind == "thrashing":
        return (
            f"thrashing: major faults rose from {b} to {a}{span} while the page cache was low "
            "and falling (pages read back soon after being dropped)"
        )
    if s.kind in ("swapping_out", "reclaim_kswapd", "reclaim_direct", "reclaim_stalls"):
        what = {
            "swapping_out": "swapping out (pages/s)",
            "reclaim_kswapd": "kswapd reclaiming in the background (pages scanned/s)",
            "reclaim_direct": "direct reclaim: allocating tasks stalled to reclaim (pages/s)",
            "reclaim_stalls": "direct-reclaim stalls",
        }[s.kind]
        return f"{what}{span}, peak {a}" + (" (host-wide)" if s.scope == "host" else "")
    if s.kind == "swap_off":
        return "swap is off (Total swap = 0kB): anonymous memory could not be reclaimed"
    if s.kind == "swap_exhausted":
        return f"swap was exhausted: {a} free of {_v(s.reference, s.unit)}"
    if s.kind == "swap_not_allowed":
        return "the cgroup may not swap (swap limit 0)"
    return f"{s.kind}{span}: {b} -> {a}"


def lead_text(steps: tuple[CascadeStep, ...] | list[CascadeStep], kill: datetime) -> str | None:
    """How long from the first step found in the history to the kill."""
    first = min((s.start for s in steps if s.start is not None and s.start < kill), default=None)
    if first is None:
        return None
    return f"{(kill - first).total_seconds():.0f} s from the first step to the kill"


def step_json(s: CascadeStep) -> dict[str, object]:
    """A step in the JSON document (``incidents[].cascade_steps``), its sentence included."""
    return {
        "kind": s.kind,
        "scope": s.scope,
        "start": s.start.isoformat() if s.start is not None else None,
        "end": s.end.isoformat() if s.end is not None else None,
        "uptime_s": s.uptime_s,
        "before": _round(s.before),
        "after": _round(s.after),
        "reference": _round(s.reference),
        "unit": s.unit,
        "source": s.source,
        "confidence": round(s.confidence, 2),
        "basis": s.basis,
        "text": step_text(s),
    }


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 2)
