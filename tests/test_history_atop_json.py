"""atop ``-J`` (JSON) history: oomsleuth.history.atop_json, against ``atop -P`` of one raw file.

``fixtures/history/atop/atop.J.expect.json`` has the layout of ``atop.P.expect.json`` (see the
README there); ``OOMSLEUTH_REGEN=1`` rewrites it from the parser (then read the diff).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import history_expect as he
import pytest
from expect import REGEN, expect_path
from pipeline import inside

import oomsleuth
from oomsleuth.history import atop, atop_json, metrics, registry
from oomsleuth.model import Sample, Warning_

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "history" / "atop"
JSON_FILE = FIXTURES / "atop.J.json"
UTC = timezone.utc
needs_atop = pytest.mark.skipif(shutil.which("atop") is None, reason="atop is not installed")
NOT_CANONICAL = {
    "pgscan_s",
    "allocstall_s",
    "oom_kill_count",
    "psi_mem_some_interval_pct",
    "psi_mem_full_interval_pct",
    "proc_exit_code",
}


def run(lines: list[str], **kw: Any) -> tuple[list[Sample], list[Warning_]]:
    return he.run(atop_json.parse, lines, **kw)


def j_lines() -> list[str]:
    return JSON_FILE.read_text().splitlines()


def objects() -> list[dict[str, Any]]:
    return [json.loads(line) for line in j_lines()]


def key(s: Sample) -> tuple[Any, ...]:
    return (s.time, s.metric, s.entity or "", s.labels, s.value)


def values(samples: list[Sample], metric: str, entity: str | None = None) -> list[float]:
    return [s.value for s in samples if s.metric == metric and s.entity == entity]


# --- the captured fixture ----------------------------------------------------------------------


def test_fixture_gives_expected_samples() -> None:
    path = expect_path(JSON_FILE)
    expect: dict[str, Any] = json.loads(path.read_text())
    samples, warnings = run(j_lines())
    entities, host_times = expect["subset"]["entities"], expect["subset"]["host_times"]
    chosen = [
        s
        for s in samples
        if s.entity in entities or (s.entity is None and s.time.isoformat() in host_times)
    ]
    got = {
        "counts": dict(sorted(Counter(s.metric for s in samples).items())),
        "labels": {e: dict(next(s.labels for s in samples if s.entity == e)) for e in entities},
        "samples": [[s.time.isoformat(), s.metric, round(s.value, 6), s.entity] for s in chosen],
        "warnings": [{"line": w.where.line, "code": w.code} for w in warnings],
    }
    if REGEN:
        path.write_text(json.dumps({**expect, **got}, indent=1, ensure_ascii=False) + "\n")
        pytest.skip("regenerated")
    assert got["counts"] == expect["counts"] and got["warnings"] == expect["warnings"] == []
    assert got["labels"] == expect["labels"]
    assert len(got["samples"]) == len(expect["samples"])
    for row, want in zip(got["samples"], expect["samples"], strict=True):
        assert row[:2] + row[3:] == want[:2] + want[3:]
        assert row[2] == pytest.approx(want[2], abs=1e-6)
    assert all(s.time.tzinfo is UTC and s.source == "t" for s in samples)
    assert {s.metric for s in samples} - metrics.ALL <= NOT_CANONICAL


def test_json_and_parseable_output_of_the_same_raw_file_give_the_same_samples() -> None:
    """atop.J.json and atop.P.txt were both read from atop.raw by the installed atop 2.8.1."""
    from_json, json_warnings = run(j_lines())
    from_p, p_warnings = he.run(atop.parse, (FIXTURES / "atop.P.txt").read_text().splitlines())
    assert json_warnings == p_warnings == []
    assert len(from_json) == len(from_p) == 947
    assert sorted(from_json, key=key) == sorted(from_p, key=key)


@needs_atop
def test_the_fixture_is_what_the_installed_atop_writes() -> None:
    argv = ["atop", "-r", str(FIXTURES / "atop.raw"), "-J", "MEM,SWP,PAG,PSI,PRM,PRG"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    assert out == JSON_FILE.read_text()


def test_real_values_checked_by_hand() -> None:
    """The first MEM object: physmem 25276510208 B = 24684092 kB, freemem 24475971584 B; the
    leaker's rmem grows by 4 MiB a sample; the first sample runs since boot (no rates)."""
    samples, _ = run(j_lines())
    first = datetime(2026, 11, 25, 23, 6, 11, tzinfo=UTC)
    host = {s.metric: s.value for s in samples if s.time == first and s.entity is None}
    assert host["mem_total_kb"] == 24684092 and host["mem_free_kb"] == 23902316
    assert host["commit_kb"] == 303608 and host["shmem_kb"] == 8856
    assert "pgscan_s" not in host and "psi_mem_some_interval_pct" not in host
    leaker = values(samples, "proc_rss_kb", "pid:5")
    assert leaker[:3] == [12868, 16964, 21188] and len(leaker) == 20
    assert values(samples, "proc_rss_kb", "pid:6") == [49736] * 20
    assert values(samples, "proc_minflt_s", "pid:5")[0] == 1025  # 4 MiB of 4 KiB pages, in 1 s


# --- what JSON lacks: RESET and the page size --------------------------------------------------


def test_a_dump_that_starts_later_does_not_take_its_first_sample_as_since_boot() -> None:
    """``atop -b`` starts at a later sample: its interval starts after every process did, so its
    rates are kept, as ``-P`` (no RESET line then) keeps them."""
    later, _ = run(j_lines()[1:])
    p_text = (FIXTURES / "atop.P.txt").read_text().split("SEP\n", 1)[1].splitlines()
    from_p, _ = he.run(atop.parse, p_text)
    assert sorted(later, key=key) == sorted(from_p, key=key)
    assert values(later, "pgscan_s")[0] == 0.0


def test_without_prg_the_first_sample_and_a_gap_mean_since_boot() -> None:
    objs = [{k: v for k, v in o.items() if k not in ("PRG", "PRM")} for o in objects()]
    for o in objs[5:]:
        o["timestamp"] += 3600  # an hour without samples: the sixth one starts after it
    samples, _ = run([json.dumps(o) for o in objs])
    with_rates = sorted({s.time.second for s in samples if s.metric == "pgscan_s"})
    assert len(with_rates) == 18 and 11 not in with_rates and 16 not in with_rates


def test_the_page_size_comes_from_the_memory_sizes() -> None:
    objs = objects()[:3]
    for o in objs:
        o["MEM"] = {k: v * 16 if k != "hugepagesz" else v for k, v in o["MEM"].items()}
        o["PAG"]["pgins"] = 1000
    samples, _ = run([json.dumps(o) for o in objs])
    assert values(samples, "pgpgin_kb_s") == [64000.0, 64000.0]  # 64 KiB pages (ppc64, arm64)
    assert values(samples, "mem_total_kb")[0] == 24684092 * 16
    assert atop_json._page_size({}, 4096) == 4096


def test_newer_atop_fields_and_exits_and_threads() -> None:
    """atop 2.10+: availablemem, PRG cgroup; an exited process's code; a thread is skipped."""
    obj = objects()[3]  # 23:06:14: readlink processes of another session exited with 1
    obj["MEM"]["availablemem"] = 1024 * 1000
    prg = obj["PRG"]
    prg[1]["cgroup"] = "/system.slice/leak.service"
    prg.append({**prg[2], "pid": 77, "tgid": 6, "isproc": 0})  # a thread of pid 6
    obj["PRM"].append({**obj["PRM"][2], "pid": 77})
    samples, warnings = run([json.dumps(obj)])
    assert warnings == [] and values(samples, "mem_available_kb") == [1000.0]
    rss = [s for s in samples if s.metric == "proc_rss_kb" and s.entity == "pid:5"]
    assert rss[0].label("cgroup") == "/system.slice/leak.service"
    assert not any(s.entity == "pid:77" for s in samples)
    exits = {s.entity: s.value for s in samples if s.metric == "proc_exit_code"}
    from_p = {
        s.entity: s.value
        for s in he.run(atop.parse, (FIXTURES / "atop.P.txt").read_text().splitlines())[0]
        if s.metric == "proc_exit_code" and s.time == rss[0].time
    }
    assert exits == from_p and set(exits.values()) == {1.0}


# --- odd input ------------------------------------------------------------------------------------


def test_odd_lines_are_warnings_and_reading_goes_on() -> None:
    good = j_lines()[1]
    buggy = re.sub(r'"PRG": \[\{', '"PRG": [, {', good)  # atop writes this when it skips task 0
    lines = [
        good[: len(good) // 2],
        '{"not": "atop"}',
        "[1, 2]",
        buggy,
        '{"host": "vm", "timestamp": 99999999999999999, "elapsed": 1}',
        "",
    ]
    samples, warnings = run(lines)
    codes = ["atop-bad-json", "atop-unparsable-line", "atop-unparsable-line", "atop-bad-time"]
    assert [w.code for w in warnings] == codes
    assert samples == run([good])[0]


def test_warnings_are_limited_per_code() -> None:
    _, warnings = run(["{"] * 30)
    assert len(warnings) == 21 and warnings[-1].message == "10 more like it"


def test_keep_and_an_empty_file() -> None:
    cut = datetime(2026, 11, 25, 23, 6, 29, tzinfo=UTC)
    samples, _ = run(j_lines(), keep=lambda t: t >= cut)
    assert {s.time for s in samples} == {cut, datetime(2026, 11, 25, 23, 6, 30, tzinfo=UTC)}
    assert run([]) == ([], [])


# --- sniffing and the registry -------------------------------------------------------------------


def test_sniff_and_the_registry() -> None:
    head = j_lines()[:50]
    assert atop_json.sniff(head) and not atop.sniff(head)
    reader = registry.sniff(head)
    assert reader is not None and reader.name == "atop-json"
    for name in ("atop.P.txt", "atop.PZ.txt"):
        assert not atop_json.sniff((FIXTURES / name).read_text().splitlines()[:50])
    for path in (ROOT / "fixtures" / "history").glob("*/*.*json"):
        if path != JSON_FILE and not path.name.endswith(".expect.json"):
            assert not atop_json.sniff(path.read_text().splitlines()[:50]), path


# --- through the public API ---------------------------------------------------------------------


def test_analyze_reads_atop_json_as_it_reads_atop_p(tmp_path: Path) -> None:
    """A real memcg OOM report moved into the capture's minute: the report is the same with
    ``atop -J`` as with ``atop -P`` of the same raw file, but for the source's name."""
    real = (ROOT / "fixtures" / "real" / "memcg-single.dmesg-iso.txt").read_text()
    log = tmp_path / "kern.log"
    log.write_text(re.sub(r"^2026-11-25T22:5[12]:\d\d", "2026-11-25T23:06:20", real, flags=re.M))
    docs = []
    with inside(ROOT):
        for history in (JSON_FILE, FIXTURES / "atop.P.txt"):
            doc = oomsleuth.analyze([log], history=[history], tz="UTC").to_dict()
            docs.append(json.loads(json.dumps(doc).replace(str(history), "SRC")))
    assert docs[0]["history"]["sources"] == [{"source": "SRC", "format": "atop-json"}]
    assert docs[0]["history"]["samples_kept"] == 947 and docs[0]["incidents"]
    docs[0]["history"]["sources"][0]["format"] = "atop"
    assert docs[0] == docs[1]
