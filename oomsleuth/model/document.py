"""The one place that turns the model into the JSON document; its schema is
``oomsleuth/schema/oomsleuth.schema.json``, documented in ``docs/json-schema.md``.

Every key is always present (``null`` when unknown) and keys come in a fixed order, so the
output is stable enough to diff. Sizes are kB (1024 bytes) unless the key says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from oomsleuth._version import __version__
from oomsleuth.model import rendered
from oomsleuth.model.document_host import host_facts_json
from oomsleuth.model.document_parts import (
    CONSTRAINT,
    VICTIM,
    JsonObj,
    history_json,
    incident_json,
    memcg_json,
    meminfo_json,
    pick,
    reap_json,
    selection_json,
    tasks_json,
    trigger_json,
)
from oomsleuth.model.kernel import AllocFailure, Kill, OomReport, UserspaceKill
from oomsleuth.model.lines import Boot, Stamp, Warning_, Where
from oomsleuth.model.outcomes import (
    OUTCOME_REASONS,
    gfp_text,
    iso_time,
    report_kind,
    report_reason,
    source_rank,
    where_key,
)
from oomsleuth.model.report import Report

if TYPE_CHECKING:
    from oomsleuth.model.rendered import Elsewhere

SCHEMA_VERSION = 1
BOOT = ("boot_id", "reason")
T = TypeVar("T")


def to_document(result: Report) -> JsonObj:
    """The whole JSON document for one parse result."""
    return {
        key: list(value) if isinstance(value, Iterator) else value
        for key, value in document_items(result)
    }


def document_items(
    result: Report, *, cleaned: bool = True, elsewhere: Elsewhere | None = None
) -> Iterator[tuple[str, Any]]:
    """The document's top-level keys in order, each with its value cleaned (:func:`clean`);
    the lists that grow with the input (sources, boots, events, warnings, incidents, host facts)
    as iterators that build and clean one element at a time when asked, so that a writer
    (oomsleuth/renderers/json.py) never holds the whole document. ``cleaned=False``: values
    as built, for a writer that cleans what it must (:func:`clean`) itself."""
    tidy = clean if cleaned else _as_is
    rank = source_rank(result)  # log order; stable, so a report's own events keep their order
    events = sorted(_event_makers(result, elsewhere), key=lambda m: where_key(rank, m[0]))
    warnings = sorted(result.warnings, key=lambda w: where_key(rank, w.where))
    yield "schema_version", SCHEMA_VERSION
    yield "tool", tidy({"name": "oomsleuth", "version": __version__})
    yield "sources", _each(_as_is, result.sources, tidy)
    yield "lines_read", result.lines_read
    yield "framings", tidy(dict(result.framings))
    yield "boots", _each(_boot_json, result.boots, tidy)
    yield "events", _each(lambda m: m[1](), events, tidy)
    yield "warnings", _each(_warning_json, warnings, tidy)
    yield "summary", tidy(_summary(result, len(events)))
    incidents: Iterable[Any] = result.incidents
    if elsewhere is not None:  # (those written elsewhere: Rendered, kept as they are)
        incidents = rendered.incidents(result.incidents, elsewhere)
    yield "incidents", _each(rendered.or_built(incident_json), incidents, tidy)
    yield "history", tidy(history_json(result))
    yield "host_facts", _each(host_facts_json, result.host_facts, tidy)


def _each(
    build: Callable[[T], Any], items: Iterable[T], tidy: Callable[[Any], Any]
) -> Iterator[Any]:
    return (tidy(build(item)) for item in items)


def _as_is(value: Any) -> Any:
    return value


_Maker = tuple[Where, Callable[[], Any]]  # an event not built yet (or its text), its place


def _event_makers(result: Report, elsewhere: Elsewhere | None = None) -> list[_Maker]:
    """Every event, in model order (a report's kills, then its outcome; allocation failures;
    userspace kills), not built yet (those of ``elsewhere``'s reports: their texts)."""
    makers: list[_Maker] = []
    for i, report in enumerate(result.reports):
        own = _report_makers(report, i)
        if elsewhere is not None and i in elsewhere.ids:
            own = [(w, partial(rendered.event, elsewhere, i, j)) for j, (w, _) in enumerate(own)]
        makers += own
    makers += [(a.where, partial(_alloc_event, a)) for a in result.alloc_failures]
    makers += [(u.where, partial(_userspace_event, u)) for u in result.userspace]
    return makers


def _report_makers(report: OomReport, i: int) -> list[_Maker]:
    """Report ``i``'s events: its kills, then its outcome."""
    makers: list[_Maker] = [(k.where, partial(_report_event, report, i, k)) for k in report.kills]
    kind = report_kind(report)
    if kind is not None:
        makers.append((report.where, partial(_report_event, report, i, None, kind)))
    return makers


def report_events(report: OomReport, i: int) -> list[JsonObj]:
    """The events of report ``i`` (of the document's reports) as the document holds them."""
    return [make() for _, make in _report_makers(report, i)]


def _boot_json(b: Boot) -> JsonObj:
    return {"source": b.where.source, "line": b.where.line, **pick(b, BOOT)}


def _warning_json(w: Warning_) -> JsonObj:
    return {"source": w.where.source, "line": w.where.line, "code": w.code, "message": w.message}


def _summary(result: Report, events: int) -> JsonObj:
    outcomes = dict.fromkeys(OUTCOME_REASONS, 0)
    for report in result.reports:
        outcomes[report.outcome] = outcomes.get(report.outcome, 0) + 1
    return {
        "events": events,
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
        "time_uncertainty_s": when.time_uncertainty_s,
        "uptime_s": when.uptime_s,
        "host": stamp.host or fallback.host,
        "boot_id": stamp.boot_id or fallback.boot_id,
        "source": where.source,
        "line": where.line,
    }


def _report_event(
    report: OomReport, report_id: int, kill: Kill | None, kind: str = "oom_kill"
) -> JsonObj:
    if kill is not None:
        event = _head(kind, kill.stamp, kill.where, report.stamp)
    else:
        event = _head(kind, report.stamp, report.where)
    c = report.constraint
    event.update(
        report_id=report_id,
        report_line=report.where.line,
        report_end_line=report.end.line if report.end else None,
        copies=[{"source": w.source, "line": w.line} for w in report.copies],
        outcome=report.outcome,
        reason=None if kill else report_reason(report),
        kernel=report.kernel,
        hardware=report.hardware,
        message=kill.message if kill else None,
        trigger=trigger_json(report.trigger),
        victim=pick(kill.victim, VICTIM) if kill else None,
        selection=selection_json(report),
        reap=None if kill is None else reap_json(kill),
        from_summary=kill.from_summary if kill else False,
        oom_group=kill.oom_group if kill else False,
        oom_group_memcg=report.oom_group,
        constraint=c.constraint if c else None,
        oom_memcg=report.oom_memcg or (c.oom_memcg if c else None),
        task_memcg=report.task_memcg or (c.task_memcg if c else None),
        oom_kill_summary=None if c is None else pick(c, CONSTRAINT),
        memcg=memcg_json(report.memcg),
        meminfo=meminfo_json(report.meminfo),
        page_size_kb=report.page_size_kb,
        page_size_source=report.page_size_source,
        tasks=tasks_json(report),
        tasks_complete=report.tasks_complete,
        suppressed_before=report.suppressed_before,
        notes=list(report.notes),
        call_trace=list(report.call_trace),
    )
    return event


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
        killer_pid=u.killer_pid,
        victim={"pid": u.pid, "comm": u.comm, "cgroup": u.cgroup, "uid": u.uid, "rss_kb": u.rss_kb},
        signal=u.signal,
        score=u.score,
        reason=u.reason,
        raw=u.raw,
        candidates=[
            {
                "cgroup": c.cgroup,
                "memory_kb": c.memory_kb,
                "swap_kb": c.swap_kb,
                "pressure_avg10": c.pressure_avg10,
                "pressure_limit_pct": c.pressure_limit_pct,
                "pgscan": c.pgscan,
            }
            for c in u.candidates
        ],
    )
    return event


_PLAIN = frozenset({int, float, bool, type(None)})  # nothing to clean, no call to make


def clean(value: Any) -> Any:
    """Make every string writable as UTF-8 (input bytes that did not decode become ``\\xNN``)."""
    if isinstance(value, str):
        return value if value.isascii() else unencodable_escaped(value)
    if isinstance(value, dict):
        return {
            k if k.isascii() else unencodable_escaped(k): v if type(v) in _PLAIN else clean(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [v if type(v) in _PLAIN else clean(v) for v in value]
    return value


def unencodable_escaped(text: str) -> str:
    """Replace lone surrogates (undecodable input bytes) with ``\\xNN`` / ``\\uNNNN`` text, so
    the string can be written as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_escape_surrogates(text))
    return text


def _escape_surrogates(text: str) -> Iterator[str]:
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: one raw byte
            yield f"\\x{code - 0xDC00:02x}"
        elif 0xD800 <= code <= 0xDFFF:
            yield f"\\u{code:04x}"
        else:
            yield ch
