"""below history (``below dump ... -O json|csv``): oomsleuth.history.below.

The fixtures under fixtures/history/below are HAND-WRITTEN from below's source (make_fixtures.py
there; below cannot be installed here), each with ``NAME.expect.json`` beside it. Set
``OOMSLEUTH_REGEN=1`` to rewrite them from the parser (then read the diff line by line).
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import history_expect as he
import pytest
from pipeline import inside

import oomsleuth
from oomsleuth.history import below, metrics, registry
from oomsleuth.model import Sample, Warning_

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "fixtures" / "history" / "below"
EXPECTS = sorted(HERE.glob("*.expect.json"))
UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")


def run(name: str, tz: Any = UTC, **kw: Any) -> tuple[list[Sample], list[Warning_]]:
    with (HERE / name).open() as f:
        return he.run(below.parse, f, tz=tz, **kw)


def series(samples: list[Sample], metric: str, entity: str | None = None) -> list[float]:
    return [s.value for s in samples if s.metric == metric and s.entity == entity]


def t(hms: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-25T{hms}+00:00")


# --- the hand-written fixtures -----------------------------------------------------------------


@pytest.mark.parametrize("expect", EXPECTS, ids=[p.name for p in EXPECTS])
def test_fixture(expect: Path) -> None:
    want = json.loads(expect.read_text())
    samples, warnings = run(want["input"], tz=ZoneInfo(want["tz"]))
    he.check_expect(expect, want, he.as_json(samples, warnings))
    assert {s.metric for s in samples} <= metrics.ALL | {"restart"}


def test_every_input_has_an_expectation_and_a_readme_entry() -> None:
    inputs = {p.name for p in HERE.iterdir() if p.suffix in (".json", ".csv")}
    inputs -= {p.name for p in EXPECTS}
    assert inputs == {json.loads(p.read_text())["input"] for p in EXPECTS}
    readme = (HERE / "README.md").read_text()
    assert "hand-written" in readme.lower() and "bb8a4873389c30fc2c5371509baba3b593e641bf" in readme
    assert all(name in readme for name in inputs)


def test_system_human_sizes_rates_and_the_oom_kill_counter() -> None:
    samples, warnings = run("system.json")
    assert warnings == []
    first = {s.metric: s.value for s in samples if s.time == t("23:30:00")}
    assert first["mem_total_kb"] == 16 * 1024 * 1024  # "16 GB"
    assert first["mem_free_kb"] == pytest.approx(5.4 * 1024 * 1024)  # "5.4 GB": 2 digits only
    assert first["pgpgin_kb_s"] == 150.0  # "75 KB/s": below shows /proc/vmstat kB as sectors
    assert first["pgsteal_s"] == 900.0 and first["pgscank_s"] == 1100.0
    assert series(samples, "pgscand_s") == [0, 0, 0, 0, 8800, 8800, 0]
    assert series(samples, "oom_kill_count") == [0, 0, 0, 0, 0, 1]  # "OOM Kills" 7 -> 8
    assert all(s.entity is None for s in samples)


def test_system_raw_values_and_a_reboot() -> None:
    samples, warnings = run("system-everything-raw.csv")
    assert warnings == []
    rows = list(csv.DictReader((HERE / "system-everything-raw.csv").open()))
    assert series(samples, "mem_free_kb") == [int(r["Free"]) / 1024 for r in rows]  # --raw bytes
    assert series(samples, "pgpgin_kb_s") == [float(r["Page In"]) for r in rows]
    (restart,) = [s.time for s in samples if s.metric == "restart"]
    assert restart == t("23:31:20")  # Boot Time Epoch changed, OOM Kills fell from 8 to 0
    assert series(samples, "oom_kill_count") == [0, 0, 1, 0]
    assert series(samples, "swap_used_kb") == [0.0] * 6


def test_process_labels_cgroups_and_timestamp_before_local_datetime() -> None:
    samples, warnings = run("process.json", tz=UTC)  # Datetime is Berlin time: not used
    assert warnings == []
    leak = [s for s in samples if s.entity == "pid:4242"]
    assert [s.time for s in leak] == [t("23:30:15"), t("23:30:20"), t("23:30:25")]
    # "2.9 GB", "3.5 GB", "4 GB": below's human sizes keep 2-3 digits (3.98 GiB shows as 4 GB)
    assert [s.value for s in leak] == [2.9 * 1024**2, 3.5 * 1024**2, 4 * 1024**2]
    assert dict(leak[0].labels) == {
        "comm": "leaky-worker",
        "cgroup": "/system.slice/leaky.service",
        "cmdline": "/usr/bin/python3 /opt/leaky/worker.py",
    }
    assert Counter(s.entity for s in samples)["pid:880"] == 4


def test_process_csv_gives_a_comma_in_a_command_line_back() -> None:
    samples, warnings = run("process-detail-raw.csv")
    assert warnings == []
    java = [s for s in samples if s.entity == "pid:5150"]
    assert java[0].label("cmdline") == "java -Dgroups=a,b,c -jar report.jar"
    metrics_of = {s.metric: s.value for s in java if s.time == java[0].time}
    assert metrics_of == {
        "proc_rss_kb": 307200.0,
        "proc_anon_kb": 286720.0,
        "proc_vsz_kb": 921600.0,
        "proc_swap_kb": 0.0,
        "proc_minflt_s": 2.5,
        "proc_majflt_s": 0.0,
    }


def test_cgroup_tree_paths_pressure_and_the_kill_counter() -> None:
    samples, warnings = run("cgroup-mem-raw.csv")
    assert warnings == []
    entities = {s.entity for s in samples if s.entity}
    assert entities == {
        "cgroup:/",
        "cgroup:/system.slice",
        "cgroup:/system.slice/db.service",
        "cgroup:/system.slice/leaky.service",
        "cgroup:/user.slice",
    }
    leaky = "cgroup:/system.slice/leaky.service"
    assert series(samples, "cg_oom_kill_count", leaky) == [0, 0, 0, 1]  # "Events Kill/s" 1
    assert series(samples, "cg_oom_kill_count", "cgroup:/user.slice") == [0, 0, 0, 0]
    assert series(samples, "cg_psi_some_avg10", leaky) == [0.0, 45.5, 45.5, 0.0]
    assert series(samples, "psi_mem_full_avg10") == [0.0, 30.25, 30.25, 0.0]  # the root's
    from_json, _ = run("cgroup.json")
    json_entities = {s.entity for s in from_json if s.entity}
    assert json_entities == entities  # the JSON tree gives the same paths from the names


def test_cgroup_csv_without_full_path_or_timestamp() -> None:
    samples, warnings = run("cgroup-name-only.csv", tz=BERLIN)
    assert [w.code for w in warnings] == ["below-no-path"]
    assert {s.entity for s in samples} >= {"cgroup:/", "cgroup:leaky.service"}
    assert min(s.time for s in samples) == t("23:30:25")  # Datetime in Berlin time


# --- other layouts and odd input ----------------------------------------------------------------


def test_jq_lines_and_single_sample_dumps_read_the_same() -> None:
    for name in ("system.json", "process.json", "cgroup.json"):
        whole, _ = run(name)
        values = json.loads((HERE / name).read_text())
        jq = [json.dumps(v, separators=(",", ":")) for v in values]  # jq -c '.[]'
        assert he.run(below.parse, jq)[0] == whole
        one = json.dumps(values[:1], separators=(",", ":"))  # a dump of one sample
        first = [s for s in whole if s.time == min(x.time for x in whole)]
        assert he.run(below.parse, [one])[0] == first


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        (["Datetime,Total,Free,", "2026-11-25 23:30:00,1 GB,", "nonsense"], "below-bad-line"),
        (["Hostname,Uptime,"], "below-no-header"),
        (['[{"Datetime":"yesterday","Total":"1 GB","Free":"1 GB"}'], "below-bad-time"),
        (['[{"Datetime":"2026-11-25 23:30:00","Total":"1 G'], "below-bad-json"),
    ],
)
def test_odd_input_is_a_warning_not_an_error(lines: list[str], code: str) -> None:
    samples, warnings = he.run(below.parse, lines)
    assert samples == [] and code in {w.code for w in warnings}


def test_unknown_and_unlimited_values_are_skipped() -> None:
    lines = [
        "Name,Full Path,Timestamp,Mem Total,Mem Max,Mem High,Mem Pressure,",
        "x.service,/x.service,1795649400,?,max,1.5 GB,?,",
        "x.service,/x.service,1795649405,12 MB,-1,536870912,1.25,",
    ]
    samples, warnings = he.run(below.parse, lines)
    assert warnings == []
    assert [(s.metric, s.value) for s in samples] == [
        ("cg_mem_high_kb", 1.5 * 1024**2),
        ("cg_mem_current_kb", 12 * 1024.0),
        ("cg_mem_high_kb", 512 * 1024.0),
        ("cg_psi_full_avg10", 1.25),
    ]


def test_a_csv_row_may_start_with_an_empty_cell() -> None:
    """``-f full_path ...``: the root's full path is empty, so its row starts with a comma."""
    lines = [
        "Full Path,Name,Timestamp,Mem Total,",
        ",<root>,1795649400,1 GB,",
        "/a,a,1795649400,1,",
    ]
    samples, warnings = he.run(below.parse, lines)
    assert warnings == []
    assert [(s.entity, s.value) for s in samples] == [
        ("cgroup:/", 1024.0**2),
        ("cgroup:/a", 1 / 1024),
    ]


def test_keep_drops_samples_but_counters_still_see_them() -> None:
    cut = t("23:30:30")
    samples, _ = run("system.json", keep=lambda when: when >= cut)
    assert {s.time for s in samples} == {cut}
    assert series(samples, "oom_kill_count") == [1]


# --- sniffing and the registry -------------------------------------------------------------------


def test_sniff_and_the_registry() -> None:
    for path in HERE.glob("*.*"):
        if path.suffix in (".json", ".csv") and not path.name.endswith(".expect.json"):
            head = path.read_text().splitlines()[:60]
            reader = registry.sniff(head)
            assert reader is not None and reader.name == "below", path
    for path in (ROOT / "fixtures" / "history").glob("*/*.*"):
        if path.parent != HERE and path.suffix in (".json", ".csv", ".txt", ".ndjson"):
            assert not below.sniff(path.read_text().splitlines()[:60]), path
    assert not below.sniff(["time,series,value", "2026-11-25T23:30:00Z,mem_free_kb,1"])
    assert not below.sniff(['[{"Datetime":"2026-11-25 23:30:00","Reads":"0.0 B/s"}'])


# --- through the public API ---------------------------------------------------------------------


def test_analyze_names_the_culprit_from_below_history(tmp_path: Path) -> None:
    """A real memcg OOM report moved into the fixtures' minute, its task renamed to the
    fixtures' leaker: below's process dump names it the culprit, with its cgroup."""
    real = (ROOT / "fixtures" / "real" / "memcg-single.dmesg-iso.txt").read_text()
    text = re.sub(r"^2026-11-25T22:5[12]:\d\d", "2026-11-25T23:30:28", real, flags=re.M)
    log = tmp_path / "kern.log"
    log.write_text(text.replace("20922", "4242").replace("python3", "leaky-worker"))
    history = [HERE / "process.json", HERE / "cgroup-mem-raw.csv", HERE / "system.json"]
    with inside(ROOT):
        doc = oomsleuth.analyze([log], history=history, tz="UTC").to_dict()
    assert [s["format"] for s in doc["history"]["sources"]] == ["below"] * 3
    assert doc["history"]["warnings"] == []
    (incident,) = doc["incidents"]
    culprit = incident["culprit"]
    assert (culprit["pid"], culprit["comm"]) == (4242, "leaky-worker")
    assert culprit["cgroup"] == "/system.slice/leaky.service"
    assert "process.json" in culprit["evidence"][0]
