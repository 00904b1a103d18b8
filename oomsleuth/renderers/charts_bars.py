"""Charts from the report alone (no history needed), as inline SVG like the time charts: the
memory at the kill split the way the kernel counted it (the memcg's stats block against its
limit, or the Mem-Info block for a global OOM), and the top tasks by badness with the victim
and the trigger marked. Every HTML report with a kill has a picture.

Names in labels are log text: they go through ``safe_text`` and are escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from oomsleuth.model import Incident, OomReport
from oomsleuth.model.record import record
from oomsleuth.model.units import human_kb
from oomsleuth.renderers.base import safe_text

WIDTH, LEFT, RIGHT = 760, 14, 14
# room for text of 24 units: what a phone's 11 px and more are at about half scale
BAR_H, ROW_H, TOP = 34, 30, 12
TOP_TASKS = 8
TASK_H = 56  # a task: its name and value on one line, its bar under it
NAME_MOST = 40  # characters of a task's name shown (all of it in the chart's description)
AXIS = 40  # the share ticks under the bar
MIN_H = 130  # at a phone's width (about half) still over 60 px tall


@record(frozen=True)
class Part:
    label: str
    kb: int
    css: str  # s0..s5, or "free"


@record(frozen=True)
class BarChart:
    """A chart drawn once, at the kill: ``lines`` is empty (no history source to name)."""

    key: str  # breakdown | badness
    title: str
    svg: Markup
    lines: tuple[()] = ()
    summary: str = ""


def _t(text: str) -> Markup:
    return escape(safe_text(text))


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "?"


def memcg_parts(report: OomReport) -> tuple[list[Part], int | None, str] | None:
    """The memcg's usage by kind from its stats block (v1 or v2), and its limit."""
    mc = report.memcg
    if mc is None or mc.memory is None:
        return None
    stats = dict(mc.stats_bytes)

    def kb(*names: str) -> int | None:
        got = [stats[n] for n in names if n in stats]
        return sum(got) // 1024 if got else None

    anon = kb("total_rss") or kb("rss") if "anon" not in stats else kb("anon")
    shmem = kb("total_shmem") if "total_shmem" in stats else kb("shmem")
    file = kb("total_cache") if "total_cache" in stats else kb("cache") or kb("file")
    kernel = kb("kernel") if "kernel" in stats else kb("slab", "kernel_stack", "pagetables")
    if kernel is None and mc.kmem is not None:
        kernel = mc.kmem.usage_kb
    parts = [
        Part("anon", anon or 0, "s1"),
        Part("page cache", max((file or 0) - (shmem or 0), 0), "s2"),
        Part("shmem/tmpfs", shmem or 0, "s3"),
        Part("kernel", kernel or 0, "s4"),
    ]
    usage, limit = mc.memory.usage_kb, mc.memory.limit_kb
    counted = sum(p.kb for p in parts)
    if not stats:
        parts = [Part("usage", usage, "s0")]
    elif usage > counted:
        parts.append(Part("other", usage - counted, "s5"))
    if limit and limit > usage:
        parts.append(Part("free below the limit", limit - usage, "free"))
    title = "Memory of the cgroup at the kill, as its stats block counted it"
    return [p for p in parts if p.kb > 0], limit, title


def global_parts(report: OomReport) -> tuple[list[Part], int | None, str] | None:
    """RAM at the kill by kind, from the Mem-Info block."""
    mi = report.meminfo
    if mi is None or not mi.counters_kb:
        return None
    c = dict(mi.counters_kb)
    shmem = c.get("shmem", 0)
    anon = c.get("active_anon", 0) + c.get("inactive_anon", 0)
    parts = [
        Part("anon", max(anon - shmem, 0), "s1"),
        Part("page cache", c.get("active_file", 0) + c.get("inactive_file", 0), "s2"),
        Part("shmem/tmpfs", shmem, "s3"),
        Part("slab", c.get("slab_reclaimable", 0) + c.get("slab_unreclaimable", 0), "s4"),
        Part("page tables", c.get("pagetables", 0), "s5"),
    ]
    counted = sum(p.kb for p in parts) + c.get("free", 0)
    if mi.ram_kb and mi.ram_kb > counted:
        parts.append(Part("other (kernel, hugepages, reserved)", mi.ram_kb - counted, "s0"))
    parts.append(Part("free", c.get("free", 0), "free"))
    title = "Memory at the kill, as the kernel's Mem-Info counted it"
    return [p for p in parts if p.kb > 0], mi.ram_kb, title


def victim_parts(report: OomReport) -> tuple[list[Part], int | None, str] | None:
    """The victim's memory as its kill line counted it, when the report has nothing more."""
    if not report.kills:
        return None
    v = report.kills[0].victim
    parts = [
        Part("anon", v.anon_rss_kb or 0, "s1"),
        Part("file", v.file_rss_kb or 0, "s2"),
        Part("shmem", v.shmem_rss_kb or 0, "s3"),
        Part("page tables", v.pgtables_kb or 0, "s5"),
    ]
    title = f"Memory of the victim {v.comm} ({v.pid}) at the kill, as its kill line counted it"
    return parts, None, title


def breakdown(report: OomReport, chart_id: str) -> BarChart | None:
    found = memcg_parts(report) if report.is_memcg else None
    found = found or global_parts(report) or victim_parts(report)
    if found is None or not found[0]:
        return None
    parts, whole, title = found
    total = max(sum(p.kb for p in parts), 1)
    parts = [p for p in parts if p.kb >= 0.005 * total]  # a sliver is not drawn
    what = "limit" if report.is_memcg and whole else "RAM" if whole else "the total"
    height = max(TOP + BAR_H + AXIS + len(parts) * ROW_H + 8, MIN_H)
    cid = escape(chart_id)
    said = "; ".join(f"{p.label} {human_kb(p.kb)} ({_pct(p.kb, total)})" for p in parts)
    out = [_head(cid, height, title, said, "breakdown")]
    x, span = float(LEFT), WIDTH - LEFT - RIGHT
    for p in parts:
        w = span * p.kb / total
        out.append(
            f'<rect class="seg {p.css}" x="{x:.1f}" y="{TOP}" width="{max(w, 0.5):.1f}" '
            f'height="{BAR_H}"><title>{_t(p.label)}: {human_kb(p.kb)}</title></rect>'
        )
        x += w
    out.append(f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{span}" height="{BAR_H}"/>')
    for k in range(3):  # 0, half and the whole (the limit, RAM)
        tx = LEFT + span * k / 2
        anchor = "start" if k == 0 else "end" if k == 2 else "middle"
        out += [
            f'<line class="grid" x1="{tx:.0f}" x2="{tx:.0f}" y1="{TOP + BAR_H}" '
            f'y2="{TOP + BAR_H + 5}"/>',
            f'<text class="tick" x="{tx:.0f}" y="{TOP + BAR_H + 28}" text-anchor="{anchor}">'
            f"{human_kb(total * k // 2)}</text>",
        ]
    for i, p in enumerate(parts):
        lx, ly = LEFT, TOP + BAR_H + AXIS + i * ROW_H + 18
        out.append(f'<rect class="seg {p.css}" x="{lx:.0f}" y="{ly - 14}" width="16" height="16"/>')
        label = f"{p.label}: {human_kb(p.kb)} ({_pct(p.kb, total)} of {what})"
        out.append(f'<text class="legend" x="{lx + 24:.0f}" y="{ly}">{_t(label)}</text>')
    out.append("</svg>")
    return BarChart("breakdown", title, Markup("\n".join(out)), summary=said)


def _head(cid: Markup, height: int, title: str, said: str, key: str) -> str:
    return (
        f'<svg class="chart bars" id="{cid}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{cid}-t {cid}-d" data-chart="{key}">'
        f'<title id="{cid}-t">{_t(title)}</title><desc id="{cid}-d">{_t(said)}</desc>'
    )


def contenders(inc: Incident | None, report: OomReport) -> list[tuple[str, int, str, str]]:
    """(name, kB, css, marks) of the top tasks: badness when correlated, else rss; marks say
    which is the victim and which the trigger."""
    victims = {k.victim.pid for k in report.kills}
    trig = report.trigger.pid if report.trigger else None
    rows: list[tuple[int, str, int]] = []
    unkillable: set[int] = set()
    if inc is not None and inc.badness:
        rows = [(b.pid, b.comm, max(b.points_kb, 0)) for b in inc.badness]
        unkillable = {b.pid for b in inc.badness if b.points_kb < 0}
    elif report.tasks:
        rows = [(t.pid, t.comm, t.rss_kb or 0) for t in report.tasks]
    rows.sort(key=lambda r: -r[2])
    top = rows[:TOP_TASKS] + [r for r in rows[TOP_TASKS:] if r[0] in victims]
    out = []
    for pid, comm, kb in top:
        marks = ["victim"] * (pid in victims) + ["trigger"] * (pid == trig)
        marks += ["unkillable (oom_score_adj -1000)"] * (pid in unkillable)
        css = ("victim" if pid in victims else "s0") + (" trigger" if pid == trig else "")
        out.append((f"{comm} ({pid})", kb, css, ", ".join(marks)))
    return out


def badness(inc: Incident | None, report: OomReport, chart_id: str) -> BarChart | None:
    rows = contenders(inc, report)
    if len(rows) < 1 or not any(kb for _, kb, _, _ in rows):
        return None
    by_badness = inc is not None and bool(inc.badness)
    title = (
        "The kernel's choice: badness of the top tasks (rss + swap + page tables, adjusted)"
        if by_badness
        else "The largest tasks at the kill (rss)"
    )
    peak = max(kb for _, kb, _, _ in rows) or 1
    height = max(TOP + len(rows) * TASK_H, MIN_H)
    cid = escape(chart_id)
    said = "; ".join(
        f"{name}: {human_kb(kb)}" + (f" ({marks})" if marks else "") for name, kb, _, marks in rows
    )
    out = [_head(cid, height, title, said, "badness")]
    span = WIDTH - LEFT - RIGHT
    bottom = TOP + len(rows) * TASK_H
    out.append(f'<line class="frame" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{bottom}"/>')
    for i, (name, kb, css, marks) in enumerate(rows):
        y = TOP + i * TASK_H
        w = max(span * kb / peak, 1.0)
        clipped = name if len(name) <= NAME_MOST else name[: NAME_MOST - 1] + "…"
        value = human_kb(kb) + (f" · {marks}" if marks else "")
        out += [
            f'<text class="legend" x="{LEFT + 6}" y="{y + 22}">{_t(clipped)}'
            f'<tspan class="tick" dx="12">{_t(value)}</tspan></text>',
            f'<rect class="bar {css}" x="{LEFT}" y="{y + 30}" width="{w:.1f}" height="18"/>',
        ]
    out.append("</svg>")
    return BarChart("badness", title, Markup("\n".join(out)), summary=said)


def report_charts(report: OomReport, inc: Incident | None, prefix: str) -> Sequence[BarChart]:
    """The charts the report alone can draw."""
    found = [breakdown(report, f"{prefix}-breakdown"), badness(inc, report, f"{prefix}-badness")]
    return [c for c in found if c is not None]
