"""Pieces of the JSON document: kernel report parts, incidents and history."""

from __future__ import annotations

from typing import Any

from oomsleuth.model.cascade import step_json
from oomsleuth.model.document_host import finding_json
from oomsleuth.model.incidents import Incident, Suspect
from oomsleuth.model.kernel import Counter, Kill, MemcgInfo, MemInfo, OomReport, Trigger, Victim
from oomsleuth.model.outcomes import gfp_text, iso_time
from oomsleuth.model.report import Report

JsonObj = dict[str, Any]


def _names(words: str) -> tuple[str, ...]:
    return tuple(words.split())


# Field names, in output order, of the objects copied one to one from the model.
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


def pick(obj: object, names: tuple[str, ...]) -> JsonObj:
    return {name: getattr(obj, name) for name in names}


def trigger_json(t: Trigger | None) -> JsonObj:
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


def counter_json(c: Counter | None) -> JsonObj | None:
    if c is None:
        return None
    return {
        "usage_kb": c.usage_kb,
        "limit_kb": c.limit_raw_kb if c.limit_raw_kb is not None else c.limit_kb,
        "failcnt": c.failcnt,
        "unlimited": c.limit_kb is None,
    }


def memcg_json(m: MemcgInfo | None) -> JsonObj | None:
    if m is None:
        return None
    memory = counter_json(m.memory) or dict.fromkeys(
        ("usage_kb", "limit_kb", "failcnt", "unlimited")
    )
    return {
        "version": m.version,
        **memory,
        "memsw": counter_json(m.memsw),
        "kmem": counter_json(m.kmem),
        "swap": counter_json(m.swap),
        "stats_path": m.stats_path,
        "stats_bytes": dict(m.stats_bytes),
        "min_protection_kb": m.min_protection_kb,
        "low_protection_kb": m.low_protection_kb,
    }


def meminfo_json(m: MemInfo | None) -> JsonObj | None:
    if m is None:
        return None
    return {
        "page_size_kb": m.page_size_kb,
        "counters_kb": dict(m.counters_kb),
        **pick(m, MEMINFO),
        "hugepages": [{"node": n, "total": t, "size_kb": s} for n, t, s in m.hugepages],
        "unreclaimable_slab": [
            {"name": n, "used_kb": u, "total_kb": t} for n, u, t in m.unreclaimable_slab
        ],
        "allocation_profiling": m.allocation_profiling,
        "allocation_sites": [
            {
                "size_kb": a.size_kb,
                "calls": a.calls,
                "site": a.site,
                "function": a.function,
                "module": a.module,
            }
            for a in m.allocation_sites
        ],
    }


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
        "pids": list(s.pids),
        "entity": s.entity,
        "name": s.name,
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
        "cascade_steps": [step_json(s) for s in inc.steps],
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
        "findings": [finding_json(f) for f in inc.findings],
        "reasons": [
            {"kind": r.kind, "title": r.title, "lines": list(r.lines)} for r in inc.reasons
        ],
    }


def history_json(result: Report) -> JsonObj | None:
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


def selection_json(report: OomReport) -> JsonObj | None:
    s = report.selection
    return None if s is None else {**pick(s, ("pid", "comm", "score")), "line": s.where.line}


def reap_json(kill: Kill) -> JsonObj | None:
    reap = kill.reap
    if reap is None:
        return None
    return {**pick(reap, REAP), "line": reap.where.line if reap.where else None}


def tasks_json(report: OomReport) -> list[JsonObj] | None:
    if report.tasks is None:
        return None
    return [{**pick(row, TASK), "extra": dict(row.extra)} for row in report.tasks]
