"""The verdict rows that lead each OOM panel in the terminal: culprit, evidence, the kernel's
choice, the cascade, and what data was missing. Log text goes through ``safe_text``."""

from __future__ import annotations

from datetime import timedelta

from rich.text import Text

from oomsleuth.model import Incident, Suspect
from oomsleuth.model.series import Series
from oomsleuth.model.units import human_kb
from oomsleuth.renderers.base import (
    safe_text,
)

Row = tuple[str, Text]
MAX_EVIDENCE = 6


def culprit_text(s: Suspect) -> str:
    """``leaky-sidecar (4321)``, ``nginx (12, 13)`` (a process group), ``container app of pod
    web-1``, ``shmem/tmpfs in /x``, ``kernel memory``, ``not enough data``: never "None"."""
    if s.kind == "process":
        if s.pid is not None:
            return f"{s.comm or '?'} ({s.pid})"
        if s.pids:
            more = ", ..." if len(s.pids) > 4 else ""
            return f"{s.comm or s.name or '?'} ({', '.join(map(str, s.pids[:4]))}{more})"
        return s.name or s.comm or "?"
    if s.kind == "cgroup":
        return s.name or f"cgroup {s.cgroup or '?'}"
    if s.kind == "shmem":
        return "shmem/tmpfs" + (f" in {s.cgroup}" if s.cgroup else "")
    if s.kind == "kernel":
        return s.name or "kernel memory (unreclaimable slab)"
    return "not enough data"


def verdict_rows(inc: Incident) -> list[Row]:
    c = inc.culprit
    style = (
        "bold green" if c.confidence >= 0.7 else "bold yellow" if c.kind != "unknown" else "bold"
    )
    head = Text.assemble(
        ("Culprit ", "bold"),
        (safe_text(culprit_text(c)), style),
        (f"  confidence {c.confidence:.2f}" if c.kind != "unknown" else "", "dim"),
    )
    victims = ", ".join(f"{v.comm} ({v.pid})" for v in inc.victims) or "none"
    who = Text.assemble(
        ("Trigger ", "bold"),
        safe_text(f"{inc.trigger_comm or '?'} ({inc.trigger_pid if inc.trigger_pid else '?'})"),
        ("  Victim ", "bold"),
        safe_text(victims),
    )
    rows: list[Row] = [("Verdict", head), ("", who)]
    if inc.cgroup_label:
        rows.append(("", Text.assemble(("Cgroup ", "bold"), safe_text(inc.cgroup_label))))
    for line in c.evidence[:MAX_EVIDENCE]:
        rows.append(("", Text("• " + safe_text(line))))
    others = [s for s in inc.suspects if s is not c and culprit_text(s) != culprit_text(c)]
    if others:
        text = ", ".join(f"{culprit_text(s)} {s.confidence:.2f}" for s in others[:3])
        rows.append(("Suspects", Text(safe_text(text), style="dim")))
    if inc.badness_note:
        rows.append(("Choice", Text(safe_text(inc.badness_note))))
    if inc.cascade:
        rows.append(("Cascade", Text(safe_text("; ".join(inc.cascade)))))
    for gap in inc.data_gaps if c.kind == "unknown" or c.confidence < 0.5 else ():
        rows.append(("Missing", Text(safe_text(gap), style="dim")))
    for i, f in enumerate(inc.findings):
        rows.append(("Settings" if i == 0 else "", Text("• " + safe_text(f.text))))
    if inc.findings:
        rows.append(("", Text(safe_text(inc.findings[0].read_from), style="dim")))
    return rows


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 32) -> str:
    """Values as a row of block characters, resampled to at most ``width`` (max per bucket)."""
    if not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [
            max(values[int(i * step) : max(int((i + 1) * step), int(i * step) + 1)])
            for i in range(width)
        ]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(
        BARS[min(int((v - low) / span * (len(BARS) - 1) + 0.5), len(BARS) - 1)] for v in values
    )


def spark_rows(
    inc: Incident, index: dict[tuple[str | None, str], Series], cgroup: str | None
) -> list[Row]:
    """Small charts of the window before the kill: the OOM scope's memory and the culprit."""
    if inc.end is None or not index:
        return []
    start = inc.start if inc.start and inc.start < inc.end else inc.end - timedelta(minutes=30)
    start = min(start, inc.end - timedelta(minutes=5))
    wanted: list[tuple[str, tuple[str | None, str]]] = []
    if cgroup:
        wanted.append(("cgroup usage", (f"cgroup:{cgroup}", "cg_mem_current_kb")))
    wanted.append(("MemAvailable", (None, "mem_available_kb")))
    c = inc.culprit
    if c.kind == "process" and (c.pid is not None or c.entity):
        entity = f"pid:{c.pid}" if c.pid is not None else c.entity
        wanted.append((f"{c.comm or c.name or entity} rss", (entity, "proc_rss_kb")))
    rows: list[Row] = []
    for label, key in wanted:
        series = index.get(key)
        if series is None:
            continue
        _, values = series.window(start, inc.end)
        if len(values) < 3:
            continue
        text = Text.assemble(
            (sparkline(values), "cyan"),
            f"  {safe_text(label)} {human_kb(int(values[0]))} → {human_kb(int(values[-1]))}",
        )
        rows.append(("Trend" if not rows else "", text))
    return rows
