"""The terminal's trend lines: small charts of the window before the kill, of the OOM's own
scope. For a memcg OOM the cgroup's usage drawn against its limit (and its shmem/tmpfs when
that moved); for a global OOM the host's MemAvailable drawn against RAM; then the culprit's
memory. Bars start at zero (or at the scale given), so a 5% dip is a 5% dip, not the full
height. Log text goes through ``safe_text``."""

from __future__ import annotations

from datetime import timedelta

from rich.text import Text

from oomsleuth.model import Incident
from oomsleuth.model.series import Series
from oomsleuth.model.units import human_kb
from oomsleuth.renderers.base import safe_text

Row = tuple[str, Text]
BARS = "▁▂▃▄▅▆▇█"
Index = dict[tuple[str | None, str], Series]


def sparkline(values: list[float], width: int = 32, top: float | None = None) -> str:
    """Values as a row of block characters from 0 to ``top`` (default: their high), resampled
    to at most ``width`` (max per bucket)."""
    if not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [
            max(values[int(i * step) : max(int((i + 1) * step), int(i * step) + 1)])
            for i in range(width)
        ]
    high = max(top or 0.0, max(values)) or 1.0
    return "".join(
        BARS[min(max(int(v / high * (len(BARS) - 1) + 0.5), 0), len(BARS) - 1)] for v in values
    )


def _wanted(
    inc: Incident, index: Index, cgroup: str | None
) -> list[tuple[str, tuple[str | None, str], float | None]]:
    limit = next((s.reference for s in inc.steps if s.kind == "limit_reached"), None)
    out: list[tuple[str, tuple[str | None, str], float | None]] = []
    if cgroup and inc.scope == "memcg":
        entity = f"cgroup:{cgroup.rstrip('/') or '/'}"
        out.append(("cgroup usage", (entity, "cg_mem_current_kb"), limit))
        if any(s.kind == "shmem_grew" for s in inc.steps):
            out.append(("cgroup shmem/tmpfs", (entity, "cg_shmem_kb"), limit))
    else:
        total = index.get((None, "mem_total_kb"))
        out.append(
            ("MemAvailable", (None, "mem_available_kb"), total.values[-1] if total else None)
        )
    c = inc.culprit
    if c.kind == "process" and (c.pid is not None or c.entity):
        who = f"pid:{c.pid}" if c.pid is not None else c.entity
        out.append((f"{c.comm or c.name or who} rss", (who, "proc_rss_kb"), None))
    return out


def spark_rows(inc: Incident, index: Index, cgroup: str | None) -> list[Row]:
    """Trend rows of the window before the kill: the OOM scope's memory and the culprit."""
    if inc.end is None or not index:
        return []
    start = inc.start if inc.start and inc.start < inc.end else inc.end - timedelta(minutes=30)
    start = min(start, inc.end - timedelta(minutes=5))
    rows: list[Row] = []
    for label, key, top in _wanted(inc, index, cgroup):
        series = index.get(key)
        if series is None:
            continue
        _, values = series.window(start, inc.end)
        if len(values) < 3:
            continue
        of = f" (of {human_kb(int(top))})" if top else ""
        text = Text.assemble(
            (sparkline(values, top=top), "cyan"),
            f"  {safe_text(label)} {human_kb(int(values[0]))} → {human_kb(int(values[-1]))}{of}",
        )
        rows.append(("Trend" if not rows else "", text))
    return rows
