"""The one place that turns the model into JSON; its schema is
``oomsleuth/schema/oomsleuth.schema.json``, documented in ``docs/json-schema.md``.

Every key is always present (``null`` when unknown) and keys come in a fixed order, so the
output is stable enough to diff. Sizes are kB (1024 bytes) unless the key says otherwise.
"""

from __future__ import annotations

import json
import re
from typing import Any, TextIO

from oomsleuth import __version__
from oomsleuth.models import (
    AllocFailure,
    Counter,
    Kill,
    MemcgInfo,
    MemInfo,
    OomReport,
    ParseResult,
    Stamp,
    Trigger,
    UserspaceKill,
    Where,
)
from oomsleuth.render.base import (
    OUTCOME_REASONS,
    gfp_text,
    iso_time,
    report_kind,
    report_reason,
    source_rank,
    unencodable_escaped,
    where_key,
)
from oomsleuth.render.json_incidents import history_json, incident_json

SCHEMA_VERSION = 1
JsonObj = dict[str, Any]


def _names(words: str) -> tuple[str, ...]:
    return tuple(words.split())


# Field names, in output order, of the objects copied one to one from the model.
BOOT = _names("boot_id reason")
VICTIM = _names(
    "pid comm uid total_vm_kb anon_rss_kb file_rss_kb shmem_rss_kb pgtables_kb oom_score_adj rss_kb"
)
REAP = _names("pid comm reaped anon_rss_kb file_rss_kb shmem_rss_kb")
TASK = _names(
    "pid tgid uid total_vm_kb rss_kb rss_anon_kb rss_file_kb rss_shmem_kb pgtables_kb swap_kb"
    " oom_score_adj oom_adj comm"
)
CONSTRAINT = _names(
    "constraint nodemask cpuset mems_allowed global_oom oom_memcg task_memcg task pid uid"
)
MEMINFO = _names("free_swap_kb total_swap_kb pagecache_kb swapcache_kb ram_kb reserved_kb")


def to_document(result: ParseResult) -> JsonObj:
    """The whole JSON document for one parse result."""
    events = [e for i, report in enumerate(result.reports) for e in _report_events(report, i)]
    events += [_alloc_event(a) for a in result.alloc_failures]
    events += [_userspace_event(u) for u in result.userspace]
    rank = source_rank(result)  # log order; stable, so a report's own events keep their order
    events.sort(key=lambda e: where_key(rank, Where(e["source"], e["line"])))
    warnings = sorted(result.warnings, key=lambda w: where_key(rank, w.where))
    doc: JsonObj = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "oomsleuth", "version": __version__},
        "sources": list(result.sources),
        "lines_read": result.lines_read,
        "framings": dict(result.framings),
        "boots": [
            {"source": b.where.source, "line": b.where.line, **_pick(b, BOOT)} for b in result.boots
        ],
        "events": events,
        "warnings": [
            {"source": w.where.source, "line": w.where.line, "code": w.code, "message": w.message}
            for w in warnings
        ],
        "summary": _summary(result, events),
        "incidents": [incident_json(inc) for inc in result.incidents],
        "history": history_json(result),
    }
    return dict(_clean(doc))


class JsonRenderer:
    """Writes :func:`to_document` as JSON (UTF-8 text, not ASCII-escaped), then a newline."""

    def __init__(self, indent: int | None = 2) -> None:
        self.indent = indent

    def render(self, result: ParseResult, out: TextIO) -> None:
        out.write(dumps(to_document(result), self.indent) + "\n")


# json escapes C0 controls itself; these others are legal raw in JSON but unsafe on a terminal.
_TERMINAL_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def dumps(doc: JsonObj, indent: int | None = 2) -> str:
    """JSON text that is safe to print: non-ASCII kept, DEL/C1/bidi controls \\u-escaped."""
    text = json.dumps(doc, ensure_ascii=False, indent=indent)
    return _TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _summary(result: ParseResult, events: list[JsonObj]) -> JsonObj:
    outcomes = dict.fromkeys(OUTCOME_REASONS, 0)
    for report in result.reports:
        outcomes[report.outcome] = outcomes.get(report.outcome, 0) + 1
    return {
        "events": len(events),
        "reports": len(result.reports),
        "oom_kills": sum(len(r.kills) for r in result.reports),
        "outcomes": outcomes,
        "alloc_failures": len(result.alloc_failures),
        "userspace_kills": sum(1 for u in result.userspace if u.kind == "kill"),
        "userspace_notices": sum(1 for u in result.userspace if u.kind != "kill"),
        "boots": len(result.boots),
        "warnings": len(result.warnings),
    }


def _head(kind: str, stamp: Stamp, where: Where, fallback: Stamp | None = None) -> JsonObj:
    """The keys every event starts with. A kill without a time of its own takes its report's."""
    fallback = fallback or Stamp()
    when = fallback if stamp.wall is None and stamp.uptime_s is None else stamp
    return {
        "kind": kind,
        "time": iso_time(when.wall),
        "time_confidence": when.time_confidence,
        "time_source": when.time_source,
        "time_note": when.time_note,
        "uptime_s": when.uptime_s,
        "host": stamp.host or fallback.host,
        "boot_id": stamp.boot_id or fallback.boot_id,
        "source": where.source,
        "line": where.line,
    }


def _report_events(report: OomReport, report_id: int) -> list[JsonObj]:
    events = [_report_event(report, report_id, kill) for kill in report.kills]
    kind = report_kind(report)
    if kind is not None:
        events.append(_report_event(report, report_id, None, kind))
    return events


def _report_event(
    report: OomReport, report_id: int, kill: Kill | None, kind: str = "oom_kill"
) -> JsonObj:
    if kill is not None:
        event = _head(kind, kill.stamp, kill.where, report.stamp)
    else:
        event = _head(kind, report.stamp, report.where)
    c = report.constraint
    reap = kill.reap if kill else None
    event.update(
        report_id=report_id,
        report_line=report.where.line,
        report_end_line=report.end.line if report.end else None,
        outcome=report.outcome,
        reason=None if kill else report_reason(report),
        kernel=report.kernel,
        hardware=report.hardware,
        message=kill.message if kill else None,
        trigger=_trigger(report.trigger),
        victim=_pick(kill.victim, VICTIM) if kill else None,
        selection=None
        if report.selection is None
        else {
            **_pick(report.selection, ("pid", "comm", "score")),
            "line": report.selection.where.line,
        },
        reap=None
        if reap is None
        else {**_pick(reap, REAP), "line": reap.where.line if reap.where else None},
        from_summary=kill.from_summary if kill else False,
        oom_group=kill.oom_group if kill else False,
        oom_group_memcg=report.oom_group,
        constraint=c.constraint if c else None,
        oom_memcg=report.oom_memcg or (c.oom_memcg if c else None),
        task_memcg=report.task_memcg or (c.task_memcg if c else None),
        oom_kill_summary=None if c is None else _pick(c, CONSTRAINT),
        memcg=_memcg(report.memcg),
        meminfo=_meminfo(report.meminfo),
        page_size_kb=report.page_size_kb,
        page_size_source=report.page_size_source,
        tasks=None
        if report.tasks is None
        else [{**_pick(row, TASK), "extra": dict(row.extra)} for row in report.tasks],
        tasks_complete=report.tasks_complete,
        suppressed_before=report.suppressed_before,
        notes=list(report.notes),
        call_trace=list(report.call_trace),
    )
    return event


def _trigger(t: Trigger | None) -> JsonObj:
    t = t or Trigger()
    return {
        "comm": t.comm,
        "pid": t.pid,
        "uid": t.uid,
        "gfp_mask": gfp_text(t.gfp_mask, t.gfp_flags),
        "gfp_flags": t.gfp_flags,
        "order": t.order,
        "oom_score_adj": t.oom_score_adj,
        "oom_adj": t.oom_adj,
        "nodemask": t.nodemask,
        "cpuset": t.cpuset,
        "mems_allowed": t.mems_allowed,
    }


def _counter(c: Counter | None) -> JsonObj | None:
    if c is None:
        return None
    return {
        "usage_kb": c.usage_kb,
        "limit_kb": c.limit_raw_kb if c.limit_raw_kb is not None else c.limit_kb,
        "failcnt": c.failcnt,
        "unlimited": c.limit_kb is None,
    }


def _memcg(m: MemcgInfo | None) -> JsonObj | None:
    if m is None:
        return None
    memory = _counter(m.memory) or dict.fromkeys(("usage_kb", "limit_kb", "failcnt", "unlimited"))
    return {
        "version": m.version,
        **memory,
        "memsw": _counter(m.memsw),
        "kmem": _counter(m.kmem),
        "swap": _counter(m.swap),
        "stats_path": m.stats_path,
        "stats_bytes": dict(m.stats_bytes),
        "min_protection_kb": m.min_protection_kb,
        "low_protection_kb": m.low_protection_kb,
    }


def _meminfo(m: MemInfo | None) -> JsonObj | None:
    if m is None:
        return None
    return {
        "page_size_kb": m.page_size_kb,
        "counters_kb": dict(m.counters_kb),
        **_pick(m, MEMINFO),
        "hugepages": [{"node": n, "total": t, "size_kb": s} for n, t, s in m.hugepages],
        "unreclaimable_slab": [
            {"name": n, "used_kb": u, "total_kb": t} for n, u, t in m.unreclaimable_slab
        ],
    }


def _alloc_event(a: AllocFailure) -> JsonObj:
    event = _head("alloc_failure", a.stamp, a.where)
    event.update(
        comm=a.comm,
        order=a.order,
        gfp_mask=gfp_text(a.gfp_mask, a.gfp_flags),
        gfp_flags=a.gfp_flags,
        message=a.kind,
    )
    return event


def _userspace_event(u: UserspaceKill) -> JsonObj:
    event = _head("userspace_kill" if u.kind == "kill" else "userspace_notice", u.stamp, u.where)
    event.update(
        killer=u.killer,
        victim={"pid": u.pid, "comm": u.comm, "cgroup": u.cgroup, "uid": u.uid, "rss_kb": u.rss_kb},
        signal=u.signal,
        score=u.score,
        reason=u.reason,
        raw=u.raw,
    )
    return event


def _pick(obj: object, names: tuple[str, ...]) -> JsonObj:
    return {name: getattr(obj, name) for name in names}


def _clean(value: Any) -> Any:
    """Make every string writable as UTF-8 (input bytes that did not decode become ``\\xNN``)."""
    if isinstance(value, str):
        return unencodable_escaped(value)
    if isinstance(value, dict):
        return {unencodable_escaped(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value
