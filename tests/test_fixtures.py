"""Every fixture we captured or wrote, in every framing, against its independent ground truth.

``NAME.facts.json`` was written by the capture script (from what it started and read back from
the kernel) or by hand with the report; it was not produced by oomsleuth. Here the JSON document of
``oomsleuth.analyze`` (time resolution and correlation included) is checked field by field
against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pipeline import document

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def _captures() -> list[tuple[Path, Path]]:
    pairs = []
    for facts in sorted(FIXTURES.glob("*/*.facts.json")):
        data = json.loads(facts.read_text())
        if "fixture" in data:  # hand-written: one file
            pairs.append((facts, facts.with_name(data["fixture"])))
        else:  # real capture: one file per framing
            stem = facts.name[: -len(".facts.json")]
            for log in sorted(facts.parent.glob(f"{stem}.*.txt")):
                pairs.append((facts, log))
    return pairs


CAPTURES = _captures()


SCHEMA = json.loads((ROOT / "oomsleuth" / "schema" / "oomsleuth.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def _document(log: Path) -> dict[str, Any]:
    doc = document(log)
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in VALIDATOR.iter_errors(doc)]
    assert not errors, f"{log.name}: output does not match the JSON Schema: {errors[:3]}"
    return doc


def _same(got: Any, want: Any, what: str, log: Path) -> None:
    if what.endswith("gfp_mask") and isinstance(got, str):
        got = got.split("(")[0]
    assert got == want, f"{log.name}: {what}: expected {want!r}, got {got!r}"


def _comm_ok(log: Path, comm: str) -> bool:
    # LC_ALL=C dmesg prints every non-ASCII byte as \xNN: only ASCII names compare there
    return ".dmesg-C." not in log.name or comm.isascii()


def test_fixture_list_is_not_empty() -> None:
    assert len(CAPTURES) >= 20


@pytest.mark.parametrize(("facts", "log"), CAPTURES, ids=[p[1].name for p in CAPTURES])
def test_fixture_matches_its_facts(facts: Path, log: Path) -> None:
    want = json.loads(facts.read_text())
    doc = _document(log)
    kills = [e for e in doc["events"] if e["kind"] == "oom_kill"]
    assert len(kills) == want["kill_count"], f"{log.name}: kill count"
    if "kills_in_log_order" in want:
        assert [k["victim"]["pid"] for k in kills] == want["kills_in_log_order"]
    groups: dict[int, list[dict[str, Any]]] = {}
    for event in doc["events"]:
        if event.get("report_id") is not None:
            groups.setdefault(event["report_id"], []).append(event)
    headed = [g for g in groups.values() if g[0]["trigger"]["comm"] is not None]
    assert len(headed) == want["report_count"], f"{log.name}: reports with a header"
    for rep, group in zip(want["reports"], headed, strict=True):
        _check_report(rep, group, log)
        if "culprit" in rep:
            _check_culprit(rep["culprit"], group[0]["report_id"], doc, log)


def _check_culprit(want: dict[str, Any], report_id: int, doc: dict[str, Any], log: Path) -> None:
    [incident] = [i for i in doc["incidents"] if i["report_id"] == report_id]
    _same(incident["culprit"]["kind"], want["kind"], "culprit.kind", log)
    if "names" in want:
        assert want["names"] in (incident["culprit"]["name"] or ""), log.name


def _check_report(rep: dict[str, Any], group: list[dict[str, Any]], log: Path) -> None:
    first = group[0]
    if "outcome" in rep:
        _same(first["outcome"], rep["outcome"], "outcome", log)
    for key, value in (rep.get("trigger") or {}).items():
        if key in first["trigger"] and not (key == "comm" and not _comm_ok(log, value)):
            _same(first["trigger"][key], value, f"trigger.{key}", log)
    for key in ("constraint", "oom_memcg", "task_memcg", "suppressed_before"):
        if key in rep:
            _same(first[key], rep[key], key, log)
    if rep.get("memcg"):
        for key in ("usage_kb", "limit_kb", "failcnt", "version"):
            if key in rep["memcg"]:
                _same(first["memcg"][key], rep["memcg"][key], f"memcg.{key}", log)
    for key in ("allocation_profiling", "allocation_sites"):
        if key in (rep.get("meminfo") or {}):
            _same(first["meminfo"][key], rep["meminfo"][key], f"meminfo.{key}", log)
    if "table_rows" in rep:
        got_rows = None if first["tasks"] is None else len(first["tasks"])
        _same(got_rows, rep["table_rows"], "table_rows", log)
    by_pid = {t["pid"]: t for t in first["tasks"] or []}
    for task in rep.get("tasks") or []:
        row = by_pid[task["pid"]]
        for key, value in task.items():
            if key == "pgtables_kb" and value is None and "nr_ptes_pages" in task:
                pages = task["nr_ptes_pages"] + task.get("nr_pmds_pages", 0)
                _same(row[key], pages * 4, f"task {task['pid']} pgtables from nr_ptes", log)
            elif key in row and not (key == "comm" and not _comm_ok(log, value)):
                _same(row[key], value, f"task {task['pid']}.{key}", log)
    victims = [e["victim"] for e in group if e["kind"] == "oom_kill"]
    assert [v["pid"] for v in victims] == [k["pid"] for k in rep.get("kills", [])], log.name
    for victim, kill in zip(victims, rep.get("kills", []), strict=True):
        for key, value in kill.items():
            if value is None and key in ("uid", "oom_score_adj") and kill["pid"] in by_pid:
                # not on the Killed line: the contract takes it from the victim's table row
                value = by_pid[kill["pid"]][key]
            if key in victim and not (key == "comm" and not _comm_ok(log, value)):
                _same(victim[key], value, f"victim {kill['pid']}.{key}", log)
