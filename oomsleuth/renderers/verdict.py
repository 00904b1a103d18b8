"""The verdict rows that lead each OOM panel in the terminal: culprit, evidence, the kernel's
choice, the cascade, and what data was missing. Log text goes through ``safe_text``."""

from __future__ import annotations

from rich.text import Text

from oomsleuth.model import Incident, Suspect
from oomsleuth.renderers import facts
from oomsleuth.renderers.base import (
    safe_text,
)
from oomsleuth.renderers.terminal_story import advice_rows, others_rows, reason_rows
from oomsleuth.renderers.trend import spark_rows, sparkline

__all__ = ["culprit_text", "spark_rows", "sparkline", "verdict_rows"]

Row = tuple[str, Text]
MAX_EVIDENCE = 6


def culprit_text(s: Suspect) -> str:
    """``leaky-sidecar (4321)``, ``nginx (12, 13)`` (a process group), ``container app of pod
    web-1``, ``shmem/tmpfs in /x``, ``kernel memory``, ``not enough data``: never "None"."""
    return facts.suspect_name(s)


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
        safe_text(facts.trigger_text(inc.trigger_comm, inc.trigger_pid)),
        ("  Victim ", "bold"),
        safe_text(victims),
    )
    rows: list[Row] = [("Verdict", head), ("", who)]
    if inc.cgroup_label:
        rows.append(("", Text.assemble(("Cgroup ", "bold"), safe_text(inc.cgroup_label))))
    for line in c.evidence[:MAX_EVIDENCE]:
        rows.append(("", Text("• " + safe_text(line))))
    rows += others_rows(inc) + advice_rows(inc)
    if inc.badness_note:
        rows.append(("Choice", Text(safe_text(inc.badness_note))))
    for i, step in enumerate(inc.cascade):  # one step a line, in time order
        rows.append(("Cascade" if i == 0 else "", Text("• " + safe_text(step))))
    rows += reason_rows(inc)
    for gap in inc.data_gaps if c.kind == "unknown" or c.confidence < 0.5 else ():
        rows.append(("Missing", Text(safe_text(gap), style="dim")))
    for i, f in enumerate(inc.findings):
        rows.append(("Settings" if i == 0 else "", Text("• " + safe_text(f.text))))
    if inc.findings:
        rows.append(("", Text(safe_text(inc.findings[0].read_from), style="dim")))
    return rows
