"""Explain the kernel's choice: recompute the approximate badness of every task in the table.

The kernel (``oom_badness()``, 2.6.36+) scores a task by its resident pages, swap entries and
page-table pages, then adds ``oom_score_adj * total_pages / 1000``; ``oom_score_adj = -1000``
makes a task unkillable. ``total_pages`` is RAM + swap for a global OOM and the memcg limit
(+ swap) for a memcg OOM. The table gives rss, swap and page tables, so the score can be redone
well enough to show why the victim beat the others.
"""

from __future__ import annotations

from oomsleuth.model import BadnessRow, OomReport, TaskRow

UNKILLABLE = -1000


def total_kb(report: OomReport) -> tuple[int | None, str]:
    """The kernel's ``total_pages`` in kB, and where it came from."""
    memcg = report.memcg
    if report.is_memcg and memcg is not None and memcg.memory is not None:
        limit = memcg.memory.limit_kb
        if limit is not None:
            extra = 0
            if memcg.swap is not None and memcg.swap.limit_kb is not None:
                extra = memcg.swap.limit_kb
            elif memcg.memsw is not None and memcg.memsw.limit_kb is not None:
                extra = max(0, memcg.memsw.limit_kb - limit)
            return limit + extra, "the memcg limit"
    mi = report.meminfo
    if mi is not None and mi.ram_kb:
        return mi.ram_kb + (mi.total_swap_kb or 0), "RAM + swap"
    return None, "unknown (no limit or RAM size in the report)"


def kubernetes_qos(adj: int, report: OomReport) -> str | None:
    """The QoS class kubelet's oom_score_adj stands for, on a Kubernetes node."""
    paths = " ".join(p for p in (report.oom_memcg, report.task_memcg) if p)
    if "kubepods" not in paths:
        return None
    if adj == 1000:
        return "BestEffort"
    if adj == -997:
        return "Guaranteed"
    return "Burstable" if 2 <= adj <= 999 else None


def _points(row: TaskRow, total: int | None) -> int:
    adj = row.oom_score_adj or 0
    if adj <= UNKILLABLE:
        return -1
    base = (row.rss_kb or 0) + (row.swap_kb or 0) + (row.pgtables_kb or 0)
    if total is not None:
        base += adj * total // 1000
    return max(base, 1)


def explain(report: OomReport) -> tuple[tuple[BadnessRow, ...], str | None]:
    """Rows sorted by recomputed badness, and a sentence on how the choice compares."""
    if not report.tasks:
        return (), None
    total, basis = total_kb(report)
    victims = {k.victim.pid for k in report.kills}
    rows = []
    # the share of the total, or without one of all the tasks' points (summed once, not a row)
    denominator = total or sum(max(_points(r, None), 0) for r in report.tasks) or 1
    for t in report.tasks:
        points = _points(t, total)
        rows.append(
            BadnessRow(
                pid=t.pid,
                comm=t.comm,
                rss_kb=t.rss_kb or 0,
                swap_kb=t.swap_kb or 0,
                pgtables_kb=t.pgtables_kb or 0,
                oom_score_adj=t.oom_score_adj or 0,
                points_kb=points,
                share=max(points, 0) / denominator,
                victim=t.pid in victims,
            )
        )
    rows.sort(key=lambda r: r.points_kb, reverse=True)
    return tuple(rows), _note(rows, report, basis)


def _note(rows: list[BadnessRow], report: OomReport, basis: str) -> str | None:
    victims = [r for r in rows if r.victim]
    if not victims or not report.kills:
        return f"badness relative to {basis}; the report names no victim in the table"
    top = rows[0]
    v = victims[0]
    if v.pid == top.pid:
        runner = rows[1] if len(rows) > 1 else None
        why = (
            f"{v.comm} ({v.pid}) had the highest badness: score {v.share * 1000:.0f} "
            f"(1000 = {basis})"
        )
        if runner is not None and runner.points_kb > 0:
            why += f", ahead of {runner.comm} ({runner.pid}, {runner.share * 1000:.0f})"
        if v.oom_score_adj > 0:
            why += f"; its oom_score_adj +{v.oom_score_adj} added to its score"
            qos = kubernetes_qos(v.oom_score_adj, report)
            if qos:
                why += f" (the value Kubernetes gives {qos} pods)"
        protected = [r for r in rows if r.oom_score_adj <= -998 and r.rss_kb > v.rss_kb]
        if protected:
            p = protected[0]
            why += f"; {p.comm} ({p.pid}) is bigger but protected (oom_score_adj {p.oom_score_adj})"
        return why
    sel = report.selection
    if sel is not None and sel.pid == top.pid:
        return (
            f"the kernel selected {sel.comm} ({sel.pid}) and sacrificed its child "
            f"{v.comm} ({v.pid}) instead (kernels before 5.1 prefer children)"
        )
    return (
        f"by this estimate {top.comm} ({top.pid}) scores higher than the victim "
        f"{v.comm} ({v.pid}); the kernel skips tasks already exiting or being reaped, and the "
        "table is a snapshot taken while memory kept moving"
    )
