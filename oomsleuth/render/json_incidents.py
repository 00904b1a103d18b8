"""The ``incidents`` and ``history`` parts of the JSON document (see docs/json-schema.md)."""

from __future__ import annotations

from typing import Any

from oomsleuth.models import Incident, ParseResult, Suspect, Victim
from oomsleuth.render.base import iso_time

JsonObj = dict[str, Any]


def suspect_json(s: Suspect) -> JsonObj:
    return {
        "kind": s.kind,
        "pid": s.pid,
        "comm": s.comm,
        "cgroup": s.cgroup,
        "confidence": round(s.confidence, 2),
        "growth_kb": s.growth_kb,
        "rate_kb_s": s.rate_kb_s,
        "evidence": list(s.evidence),
    }


def _victim(v: Victim) -> JsonObj:
    return {"pid": v.pid, "comm": v.comm, "rss_kb": v.rss_kb, "oom_score_adj": v.oom_score_adj}


def incident_json(inc: Incident) -> JsonObj:
    return {
        "id": inc.id,
        "report_id": inc.report_id,
        "start": iso_time(inc.start),
        "end": iso_time(inc.end),
        "scope": inc.scope,
        "cgroup": inc.cgroup_label,
        "trigger": {"pid": inc.trigger_pid, "comm": inc.trigger_comm},
        "victims": [_victim(v) for v in inc.victims],
        "culprit": suspect_json(inc.culprit),
        "suspects": [suspect_json(s) for s in inc.suspects],
        "timeline": [
            {"time": iso_time(t.time), "uptime_s": t.uptime_s, "kind": t.kind, "what": t.what}
            for t in inc.timeline
        ],
        "cascade": list(inc.cascade),
        "badness": [
            {
                "pid": b.pid,
                "comm": b.comm,
                "rss_kb": b.rss_kb,
                "swap_kb": b.swap_kb,
                "pgtables_kb": b.pgtables_kb,
                "oom_score_adj": b.oom_score_adj,
                "points_kb": b.points_kb,
                "share": round(b.share, 4),
                "victim": b.victim,
            }
            for b in inc.badness
        ],
        "badness_note": inc.badness_note,
        "accounting_kb": dict(inc.accounting),
        "history_used": list(inc.history_used),
        "data_gaps": list(inc.data_gaps),
    }


def history_json(result: ParseResult) -> JsonObj | None:
    h = result.history
    if h is None:
        return None
    return {
        "sources": [{"source": name, "format": fmt} for name, fmt in h.sources],
        "samples_kept": len(h.samples),
        "restarts": [{"time": iso_time(t), "source": src} for t, src in h.restarts],
        "warnings": [
            {"source": w.where.source, "line": w.where.line, "code": w.code, "message": w.message}
            for w in h.warnings
        ],
    }
