"""The JSON document: schema-valid for every realistic result, contract paths exact, stable."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import modelfactory as mf
import pytest

from oomsleuth import __version__
from oomsleuth.model import Counter, MemcgInfo, OomReport, Report, Stamp, Victim
from oomsleuth.renderers.base import Renderer
from oomsleuth.renderers.json import JsonRenderer, dumps

SCHEMA: dict[str, Any] = json.loads(
    files("oomsleuth.schema").joinpath("oomsleuth.schema.json").read_text("utf-8")
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
RESULTS = mf.all_results()


def render(result: Report, indent: int | None = 2) -> str:
    out = io.StringIO()
    JsonRenderer(indent).render(result, out)
    return out.getvalue()


def document(result: Report) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render(result))
    VALIDATOR.validate(doc)
    return doc


def events(result: Report, kind: str | None = None) -> list[dict[str, Any]]:
    return [e for e in document(result)["events"] if kind is None or e["kind"] == kind]


def one_report(report: OomReport) -> Report:
    return Report(reports=(report,), sources=(report.where.source,), lines_read=10)


# -- the schema itself ----------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _properties(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{path}.{name}", sub
        for key, sub in node.items():
            yield from _properties(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _properties(sub, f"{path}[{i}]")


def test_every_schema_field_is_typed_and_described() -> None:
    fields = list(_properties(SCHEMA))
    assert len(fields) > 150
    for path, sub in fields:
        if "/allOf[" in path:
            continue  # the oom_kill conditional only narrows types declared elsewhere
        assert sub.get("description"), path
        assert {"type", "$ref", "anyOf", "const"} & sub.keys(), path


def test_size_fields_say_their_unit() -> None:
    for path, sub in _properties(SCHEMA):
        if path.endswith("_kb") and "description" in sub:
            assert "kB" in sub["description"], path


def test_schema_rejects_drift() -> None:
    doc = json.loads(render(mf.global_oom_result()))
    doc["events"][0]["victim_pid"] = 1  # an undeclared key
    assert not VALIDATOR.is_valid(doc)
    doc = json.loads(render(mf.global_oom_result()))
    doc["events"][0]["victim"] = None  # an oom_kill always names its victim
    assert not VALIDATOR.is_valid(doc)
    doc = json.loads(render(mf.global_oom_result()))
    doc["events"][0]["memcg"] = {"usage_kb": "512M"}
    assert not VALIDATOR.is_valid(doc)


# -- every factory result ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_every_result_validates_and_round_trips(name: str) -> None:
    result = RESULTS[name]
    text = render(result)
    assert text.endswith("}\n")
    doc = json.loads(text)
    VALIDATOR.validate(doc)
    assert doc == result.to_dict()  # the model's document is JSON-native already
    assert list(doc) == [
        "schema_version", "tool", "sources", "lines_read", "framings", "boots",
        "events", "warnings", "summary", "incidents", "history", "host_facts",
    ]  # fmt: skip
    assert doc["schema_version"] == 1
    assert doc["tool"] == {"name": "oomsleuth", "version": __version__}
    assert doc["summary"]["events"] == len(doc["events"])


def test_json_renderer_is_a_renderer() -> None:
    renderer: Renderer = JsonRenderer()
    out = io.StringIO()
    renderer.render(mf.empty_result(), out)
    doc = json.loads(out.getvalue())
    assert doc["events"] == [] and doc["summary"]["reports"] == 0
    assert render(mf.empty_result(), indent=None).count("\n") == 1


# -- contract paths ---------------------------------------------------------------------------


def test_global_oom_kill_contract() -> None:
    [e] = events(mf.global_oom_result())
    assert e["kind"] == "oom_kill"
    assert e["time"] == "2026-11-25T21:40:42.123456+00:00"
    assert e["uptime_s"] == 115.888003
    assert (e["source"], e["line"], e["report_line"], e["report_id"]) == ("kern.log", 160, 100, 0)
    assert e["host"] == "web1"  # the kill's stamp has none: the report's
    assert e["trigger"] == {
        "comm": "stress", "pid": 4242, "uid": 1000,
        "gfp_mask": "0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)",
        "gfp_flags": "GFP_HIGHUSER_MOVABLE|__GFP_COMP", "order": 0, "oom_score_adj": 200,
        "oom_adj": None, "nodemask": None, "cpuset": None, "mems_allowed": None,
    }  # fmt: skip
    assert e["victim"] == {
        "pid": 4242, "comm": "stress", "uid": 1000, "total_vm_kb": 30044644,
        "anon_rss_kb": 13553456, "file_rss_kb": 57484, "shmem_rss_kb": 2432,
        "pgtables_kb": 31820, "oom_score_adj": 200, "rss_kb": 13553456 + 57484 + 2432,
    }  # fmt: skip
    assert e["constraint"] == "CONSTRAINT_NONE"
    assert e["oom_memcg"] is None
    assert e["task_memcg"] == "/user.slice/user-1000.slice/session-2.scope"
    assert e["oom_kill_summary"]["global_oom"] is True
    assert e["memcg"] is None
    assert e["meminfo"]["total_swap_kb"] == 0 and e["meminfo"]["ram_kb"] == 16777216
    assert e["meminfo"]["counters_kb"]["active_anon"] == 14200000
    assert e["meminfo"]["hugepages"] == [{"node": 0, "total": 0, "size_kb": 2048}]
    assert e["page_size_kb"] == 4
    assert len(e["tasks"]) == 12
    assert list(e["tasks"][0]) == [
        "pid", "tgid", "uid", "total_vm_kb", "rss_kb", "rss_anon_kb", "rss_file_kb",
        "rss_shmem_kb", "pgtables_kb", "swap_kb", "oom_score_adj", "oom_adj", "comm", "extra",
    ]  # fmt: skip
    java = next(t for t in e["tasks"] if t["comm"] == "java")
    assert (java["pid"], java["rss_kb"], java["swap_kb"]) == (2210, 3145728, 262144)
    assert e["reap"]["reaped"] is True and e["reap"]["line"] == 161
    assert (e["from_summary"], e["oom_group"], e["reason"]) == (False, False, None)


def test_oom_kill_key_order_is_stable() -> None:
    [e] = events(mf.global_oom_result())
    assert list(e) == [
        "kind", "time", "time_confidence", "time_source", "time_note", "time_uncertainty_s",
        "uptime_s", "host",
        "boot_id", "source", "line",
        "report_id", "report_line", "report_end_line", "copies", "outcome", "reason", "kernel",
        "hardware",
        "message", "trigger", "victim", "selection", "reap", "from_summary", "oom_group",
        "oom_group_memcg", "constraint", "oom_memcg", "task_memcg", "oom_kill_summary", "memcg",
        "meminfo", "page_size_kb", "page_size_source", "tasks", "tasks_complete",
        "suppressed_before", "notes", "call_trace",
    ]  # fmt: skip
    assert render(mf.global_oom_result()) == render(mf.global_oom_result())


def test_memcg_v1_limits_as_printed() -> None:
    [e] = events(mf.memcg_v1_result())
    assert e["time"] == "2026-03-04T02:53:56"  # naive: no offset invented
    assert e["message"] == "Memory cgroup out of memory"
    assert (e["oom_memcg"], e["task_memcg"]) == ("/docker/34186d9e", "/docker/34186d9e")
    m = e["memcg"]
    assert (m["usage_kb"], m["limit_kb"], m["failcnt"]) == (524288, 524288, 1234)
    assert m["unlimited"] is False
    assert m["memsw"] == {
        "usage_kb": 524288, "limit_kb": mf.NO_LIMIT_KB, "failcnt": 0, "unlimited": True
    }  # fmt: skip
    assert m["kmem"]["limit_kb"] == 9007199254740988
    assert m["swap"] is None and m["version"] == "v1"
    assert m["stats_bytes"] == {"cache": 110592, "rss": 533934080, "mapped_file": 4096}
    assert e["selection"] == {"pid": 3120, "comm": "java", "score": 1012, "line": 40}
    assert e["reap"] is None and e["victim"]["pgtables_kb"] is None


@pytest.mark.parametrize(
    ("counter", "limit_kb", "unlimited"),
    [
        (Counter(900, None, 0, mf.NO_LIMIT_KB), 9007199254740988, True),
        (Counter(900, None, 0), None, True),
        (Counter(900, 1024, 5, 1024), 1024, False),
        (Counter(900, 1024, 5), 1024, False),
    ],
)
def test_memcg_limit_kb_is_the_printed_limit(
    counter: Counter, limit_kb: int | None, unlimited: bool
) -> None:
    report = replace(mf.memcg_v2_report(), memcg=MemcgInfo(memory=counter, version="v2"))
    [e] = events(one_report(report))
    assert (e["memcg"]["limit_kb"], e["memcg"]["unlimited"]) == (limit_kb, unlimited)


def test_memcg_v2_event() -> None:
    [e] = events(mf.memcg_v2_result())
    assert e["time"] == "2026-05-01T09:00:01+02:00"
    assert e["constraint"] == "CONSTRAINT_MEMCG"
    assert e["oom_memcg"] == e["task_memcg"] == "/system.slice/app.service"
    assert e["memcg"]["usage_kb"] == e["memcg"]["limit_kb"] == 1048576
    assert e["memcg"]["swap"]["limit_kb"] == 0 and e["memcg"]["memsw"] is None
    assert e["memcg"]["stats_bytes"]["pgfault"] == 912345
    assert e["trigger"]["gfp_mask"] == "0xcc0(GFP_KERNEL)"
    assert e["page_size_source"] == "kill-vs-table"


def test_oom_group_report_yields_one_event_per_kill_with_shared_context() -> None:
    kills = events(mf.oom_group_result(), "oom_kill")
    assert [k["victim"]["pid"] for k in kills] == [9101, 9102, 9100]
    assert [k["line"] for k in kills] == [740, 742, 744]
    assert {k["report_id"] for k in kills} == {0}
    assert all(k["oom_group"] for k in kills)
    pod = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b.slice"
    for k in kills:
        assert (k["oom_group_memcg"], k["oom_memcg"], k["task_memcg"]) == (pod, pod, pod)
        assert k["memcg"] == kills[0]["memcg"] and k["tasks"] == kills[0]["tasks"]
        assert k["trigger"]["pid"] == 9101
    assert document(mf.oom_group_result())["summary"]["oom_kills"] == 3


def test_unfinished_report_is_one_oom_unfinished_event() -> None:
    doc = document(mf.unfinished_result())
    [e] = doc["events"]
    assert e["kind"] == "oom_unfinished" and e["outcome"] == "unfinished"
    assert e["victim"] is None and e["reap"] is None and e["message"] is None
    assert e["reason"] == "cut off in the task table at line 340"
    assert (e["time"], e["uptime_s"], e["host"]) == (None, 2000.0, None)
    assert e["trigger"]["comm"] == "chrome" and e["trigger"]["oom_score_adj"] == 300
    assert e["tasks_complete"] is False and len(e["tasks"]) == 3
    assert e["meminfo"]["free_swap_kb"] == 1024
    assert doc["summary"]["outcomes"]["unfinished"] == 1 and doc["summary"]["oom_kills"] == 0
    assert doc["warnings"] == [
        {"source": "kern.log", "line": 340, "code": "report-truncated",
         "message": "report cut off in the task table"}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("outcome", "kind"),
    [
        ("panic", "oom_panic"),
        ("no-killable", "oom_no_killable"),
        ("deadlock", "oom_deadlock"),
        ("ignored", "oom_ignored"),
        ("unfinished", "oom_unfinished"),
        ("something-new", "oom_unfinished"),
    ],
)
def test_outcome_kinds(outcome: str, kind: str) -> None:
    report = replace(mf.unfinished_report(), outcome=outcome, notes=())
    [e] = events(one_report(report))
    assert (e["kind"], e["outcome"]) == (kind, outcome)
    assert isinstance(e["reason"], str) and e["reason"]


def test_panic_reason_is_the_panic_text() -> None:
    [e] = events(mf.panic_result())
    assert e["kind"] == "oom_panic"
    assert e["reason"] == "Out of memory: system-wide panic_on_oom is enabled"
    assert e["tasks"] is None and e["memcg"] is None and e["meminfo"] is None
    assert e["trigger"]["gfp_mask"] == "0x0" and e["trigger"]["order"] == -1


def test_killed_report_without_kill_is_not_lost() -> None:
    report = replace(mf.global_oom_report(), kills=())
    [e] = events(one_report(report))
    assert e["kind"] == "oom_unfinished" and e["outcome"] == "killed"
    assert "no kill line" in e["reason"]


def test_report_with_kills_and_another_outcome_yields_both() -> None:
    report = replace(mf.global_oom_report(), outcome="unfinished", notes=("no reaper",))
    kinds = [(e["kind"], e["line"]) for e in events(one_report(report))]
    assert kinds == [("oom_unfinished", 100), ("oom_kill", 160)]


def test_trigger_missing_gives_an_object_of_nulls() -> None:
    [e] = events(one_report(replace(mf.global_oom_report(), trigger=None)))
    assert e["trigger"]["pid"] is None and e["trigger"]["gfp_mask"] is None


def test_userspace_kills_and_notices() -> None:
    doc = document(mf.userspace_result())
    assert [(e["kind"], e["line"]) for e in doc["events"]] == [
        ("alloc_failure", 5), ("userspace_kill", 12), ("userspace_kill", 30),
        ("userspace_notice", 31),
    ]  # fmt: skip
    alloc, earlyoom, oomd, notice = doc["events"]
    assert alloc["gfp_mask"] == "0x40cc0(GFP_KERNEL|__GFP_COMP)" and alloc["order"] == 4
    assert alloc["time"] == "2026-06-02T11:59:56+00:00"
    assert earlyoom["killer"] == "earlyoom"
    assert earlyoom["victim"] == {
        "pid": 31337, "comm": "chrome", "cgroup": None, "uid": 1000, "rss_kb": 2500000
    }  # fmt: skip
    assert (earlyoom["signal"], earlyoom["score"]) == ("SIGTERM", 900)
    assert oomd["killer"] == "systemd-oomd" and oomd["victim"]["pid"] is None
    assert oomd["victim"]["cgroup"].endswith("/app-firefox.scope")
    assert notice["killer"] == "systemd" and notice["victim"]["comm"] == "app.service"
    summary = doc["summary"]
    assert (summary["userspace_kills"], summary["userspace_notices"]) == (2, 1)
    assert summary["alloc_failures"] == 1


def test_events_in_log_order_across_sources() -> None:
    doc = document(mf.everything_result())
    assert doc["sources"] == ["node2/kern.log", "node1/syslog"]
    order = [(e["source"], e["line"], e["kind"]) for e in doc["events"]]
    assert order == [
        ("node2/kern.log", 20, "oom_unfinished"),
        ("node2/kern.log", 160, "oom_kill"),
        ("node1/syslog", 5, "alloc_failure"),
        ("node1/syslog", 12, "userspace_kill"),
        ("node1/syslog", 30, "userspace_kill"),
        ("node1/syslog", 31, "userspace_notice"),
        ("node1/syslog", 35, "oom_kill"),
        ("node1/syslog", 90, "oom_kill"),
        ("node1/syslog", 92, "oom_kill"),
        ("node1/syslog", 94, "oom_kill"),
    ]
    # report_id is the index in Report.reports, whatever the order of events
    ids = {(e["source"], e["report_line"]): e["report_id"] for e in doc["events"][:2]}
    ids |= {(e["source"], e["report_line"]): e["report_id"] for e in doc["events"][6:]}
    assert ids == {
        ("node1/syslog", 50): 0, ("node2/kern.log", 100): 1,
        ("node2/kern.log", 20): 2, ("node1/syslog", 10): 3,
    }  # fmt: skip
    assert [(w["source"], w["line"]) for w in doc["warnings"]] == [
        ("node2/kern.log", 340), ("node1/syslog", 55),
    ]  # fmt: skip
    assert doc["framings"] == {"syslog": 900, "dmesg": 600}
    assert doc["boots"] == [
        {"source": "node2/kern.log", "line": 1, "boot_id": "0f3c9e", "reason": "-- Boot 0f3c9e --"}
    ]
    summary = doc["summary"]
    assert (summary["reports"], summary["oom_kills"], summary["boots"]) == (4, 5, 1)
    assert summary["outcomes"]["killed"] == 3 and summary["outcomes"]["unfinished"] == 1


# -- hostile text -----------------------------------------------------------------------------


def test_hostile_strings_round_trip_exactly_and_print_safely() -> None:
    text = render(mf.hostile_result())
    doc = json.loads(text)
    VALIDATOR.validate(doc)
    kill = doc["events"][0]
    assert kill["victim"]["comm"] == mf.HOSTILE_COMM
    assert kill["oom_memcg"] == mf.HOSTILE_CGROUP
    assert kill["memcg"]["stats_bytes"] == {"a\x1bb": 1}
    assert doc["warnings"][0]["message"] == "saw \x1b[31m in [i]text[/i]"
    unsafe = [c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F]
    assert unsafe == [] and "\u202e" not in text
    assert "\\u001b" in text and "\\u009b" in text and "\\u202e" in text
    assert "пример-🙂" in text and "ü💥" in text  # ensure_ascii=False


def test_undecodable_bytes_become_visible_escapes() -> None:
    victim = Victim(1, "bad\udcff\udc80name")  # surrogateescape-decoded input
    report = replace(mf.global_oom_report(), kills=(mf.kill(victim, 150, 1.0),))
    text = render(one_report(report))
    text.encode("utf-8")  # writable as UTF-8
    [e] = json.loads(text)["events"]
    assert e["victim"]["comm"] == "bad\\xff\\x80name"


def test_dumps_escapes_only_inside_strings() -> None:
    assert dumps({"a": "x\u0085y"}, None) == '{"a": "x\\u0085y"}'
    assert json.loads(dumps({"a": "\u2028"})) == {"a": "\u2028"}


def test_dumps_finds_the_set_among_other_non_ascii() -> None:
    # DEL, C1, zero-width, bidi, BOM, a tag character and an undecodable byte, each beside
    # harmless non-ASCII: escaped, and read back as they were
    for c in ("\x7f", "\x85", "\u200b", "\u202e", "\ufeff", "\U000e0041", "\udcff"):
        for indent in (2, None):
            text = dumps({"a": f"é{c}語"}, indent)
            assert c not in text and json.loads(text) == {"a": f"é{c}語"}
    plain = {"a": "naïve λ, 日本語 🙂"}
    assert dumps(plain) == json.dumps(plain, ensure_ascii=False, indent=2)


def test_docs_describe_every_field_and_kind() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "json-schema.md").read_text("utf-8")
    for path, _ in _properties(SCHEMA):
        if "/allOf[" not in path:
            assert f"`{path.rsplit('.', 1)[1]}`" in docs, path
    for kind in SCHEMA["$defs"]["report_event"]["properties"]["kind"]["enum"]:
        assert f"| `{kind}` |" in docs
    for kind in ("alloc_failure", "userspace_kill", "userspace_notice"):
        assert f"| `{kind}` |" in docs


def test_docs_examples_are_valid_events() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "json-schema.md").read_text("utf-8")
    blocks = re.findall(r"```json\n(.*?)```", docs, re.S)
    kill, memcg, userspace = (json.loads(b if b.startswith("{") else "{" + b + "}") for b in blocks)
    [actual] = events(mf.global_oom_result())
    assert list(kill) == list(actual)
    for key in ("trigger", "victim", "reap", "oom_kill_summary"):
        assert kill[key] == actual[key], key
    for example, ref in ((kill, "report_event"), (userspace, "userspace_event")):
        sub = {"$schema": SCHEMA["$schema"], "$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{ref}"}
        jsonschema.Draft202012Validator(sub).validate(example)
    assert memcg["memcg"] == events(mf.memcg_v1_result())[0]["memcg"]


def test_kill_without_a_stamp_takes_the_report_time() -> None:
    report = mf.global_oom_report()
    bare = replace(report.kills[0], stamp=Stamp())
    [e] = events(one_report(replace(report, kills=(bare,))))
    assert (e["time"], e["uptime_s"]) == ("2026-11-25T21:40:42.123456+00:00", 115.887001)
    assert e["host"] == "web1"
