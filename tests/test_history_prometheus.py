"""Prometheus HTTP API responses (oomsleuth.history.prometheus).

Each fixture under fixtures/history/prometheus has ``NAME.expect.json`` beside it. Set
``OOMSLEUTH_REGEN=1`` to rewrite them from the parser (then read the diff line by line).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import history_expect as he
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oomsleuth.history import csvseries, prometheus, psi
from oomsleuth.model import Sample, Warning_

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "fixtures" / "history" / "prometheus"
EXPECTS = sorted(HERE.glob("*.expect.json"))
UTC = timezone.utc
MIB_KB = 1024


def run(lines: list[str] | Iterator[str], **kw: Any) -> tuple[list[Sample], list[Warning_]]:
    return he.run(prometheus.parse, lines, **kw)


def load(name: str) -> list[Sample]:
    samples, _ = run((HERE / name).read_text().splitlines())
    return samples


@pytest.mark.parametrize("expect", EXPECTS, ids=[p.name for p in EXPECTS])
def test_fixture(expect: Path) -> None:
    want = json.loads(expect.read_text())
    got = he.as_json(*run(expect.with_name(want["input"]).read_text().splitlines()))
    he.check_expect(expect, want, got)


def test_every_fixture_has_an_expectation() -> None:
    inputs = {p.name for p in HERE.iterdir() if p.suffix in (".json", ".ndjson")}
    inputs -= {p.name for p in EXPECTS}
    assert inputs == {json.loads(p.read_text())["input"] for p in EXPECTS}


# --- what the story in the fixtures says (values worked out from make_fixtures.py) ---------

LEAKY = "leaky-api-6d5f7c9b8-x7k2p"
KILL = datetime(2026, 11, 25, 22, 38, 30, tzinfo=UTC)


def test_cadvisor_leaking_and_steady_containers() -> None:
    samples = load("cadvisor-leak.ndjson")
    ws = [s for s in samples if s.metric == "container_working_set_kb"]
    api = [s for s in ws if s.label("container") == "api"]
    first_api = [s for s in api if "3b7e0c5d" in (s.entity or "")]
    assert first_api[0].value == 150 * MIB_KB
    assert first_api[-1].time == KILL and first_api[-1].value == (150 + 34 * 10.5) * MIB_KB
    assert all(b.value > a.value for a, b in itertools.pairwise(first_api))
    assert {s.entity for s in api} == {
        "cgroup:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
        "8e0d3b9a_1c57_4f0e_9a6b_2d41c7f3e915.slice/cri-containerd-" + cid + ".scope"
        for cid in (
            "3b7e0c5d9a2f4e8b1c6d0a7f5e3b9c2d4a8f6e1b0c7d5a3e9f2b4c6d8a0e1f3b",
            "9f4c2a7e1b5d3c8a0e6f4b2d9c7a5e3f1b8d6c4a2e0f9b7d5c3a1e8f6b4d2c0a",
        )
    }  # the restarted container is a new cgroup
    web = [s for s in ws if s.label("container") == "web"]
    assert len(web) == 41 and max(s.value for s in web) - min(s.value for s in web) < 512
    assert dict(first_api[0].labels) == {
        "container": "api",
        "image": "registry.example.com/shop/api:2.14.1",
        "instance": "10.0.1.12:10250",
        "level": "container",
        "namespace": "shop",
        "pod": LEAKY,
    }
    levels = {(s.label("pod"), s.label("level")) for s in ws}
    assert levels == {
        (LEAKY, "container"),
        (LEAKY, "pod"),
        (LEAKY, "pause"),
        ("web-7b9c6d5f4-q2w8r", "container"),
    }
    limits = [(s.label("container"), s.value) for s in samples if s.metric == "container_limit_kb"]
    assert limits == [("api", 512 * MIB_KB)]  # web's 0 means no limit
    assert {s.metric for s in samples} == {
        "container_working_set_kb",
        "container_limit_kb",
        "container_rss_kb",
        "container_cache_kb",
    }


def test_cadvisor_docker_era_labels() -> None:
    samples = load("cadvisor-docker-era.json")
    by_level = {s.label("level"): s for s in samples if s.metric == "container_working_set_kb"}
    assert by_level["pause"].label("container") == "POD"
    assert by_level["pause"].label("pod") == "worker-5dfd4896b4-zc7ll"  # from pod_name
    assert by_level["container"].value == 1024 * MIB_KB
    assert (
        by_level["pod"].entity
        == "cgroup:/kubepods/burstable/pod80ea171a-411f-48cf-a603-04bd71a03c1e"
    )
    assert by_level[None].entity == "cgroup:/system.slice/docker.service"
    assert by_level[None].labels == (("instance", "172.22.218.162:10250"),)
    assert [s.value for s in samples if s.metric == "container_limit_kb"] == [1024 * MIB_KB]
    assert {s.time for s in samples} == {datetime(2026, 11, 25, 22, 40, 0, 123000, tzinfo=UTC)}


def test_node_exporter_gauges_and_psi_counters() -> None:
    samples = load("node-exporter-range.json")
    total = [s.value for s in samples if s.metric == "mem_total_kb"]
    assert total == [8 * 1024 * MIB_KB] * 41
    some = {s.time: s.value for s in samples if s.metric == "psi_mem_some_avg10"}
    assert len(some) == 40  # a rate needs two points
    assert some[datetime(2026, 11, 25, 22, 30, 15, tzinfo=UTC)] == pytest.approx(0.1)
    assert some[KILL] == pytest.approx(8 * 1.5 / 15 * 100)  # 12 s stalled of 15: 80 %
    full = {s.time: s.value for s in samples if s.metric == "psi_mem_full_avg10"}
    assert full[KILL] == pytest.approx(4 * 0.75 / 15 * 100)
    assert max(full.values()) == full[KILL]
    totals = [s.value for s in samples if s.metric == "psi_mem_some_total_us"]
    assert totals[0] == 1520.25e6
    majflt = [s.value for s in samples if s.metric == "majflt_s"]
    assert majflt == pytest.approx([12 / 15] * 40)
    assert all(s.entity is None and s.labels == (("instance", "10.0.1.12:9100"),) for s in samples)


def test_process_exporter_groups() -> None:
    samples = load("process-exporter-array.json")
    java = [s for s in samples if s.entity == "group:java"]
    assert {s.metric for s in java} == {"proc_rss_kb", "proc_vsz_kb", "proc_swap_kb"}
    rss = [s.value for s in java if s.metric == "proc_rss_kb"]
    assert rss[0] == 900 * MIB_KB and rss[-1] == (900 + 40 * 16) * MIB_KB
    assert all(s.label("comm") == "java" for s in java)
    vector = [s for s in samples if s.entity == "group:nginx" and s.metric == "proc_vsz_kb"]
    assert [(s.time.isoformat(), s.value) for s in vector] == [
        ("2026-11-25T22:40:00.500000+00:00", 310 * MIB_KB)
    ]


def test_counter_resets_give_no_negative_rates() -> None:
    samples, warnings = run((HERE / "node-reboot.ndjson").read_text().splitlines())
    rates = [s for s in samples if s.metric.endswith("_s") or s.metric.endswith("avg10")]
    assert rates and all(s.value >= 0 for s in rates)
    boot = datetime.fromtimestamp(1795646150, UTC)
    assert [s.time for s in samples if s.metric == "restart"] == [boot]
    majflt = [s.value for s in samples if s.metric == "majflt_s"]
    assert majflt == pytest.approx([900 / 30, 1800 / 30, 1200 / 90, 900 / 30])
    some = [s.value for s in samples if s.metric == "psi_mem_some_avg10"]
    assert some == pytest.approx([10.0, 100.0, 0.5 / 90 * 100, 1.0])
    pgscand = [(s.time, s.value) for s in samples if s.metric == "pgscand_s"]
    assert pgscand[-1][0] == datetime.fromtimestamp(1795646210, UTC)  # the NaN point is skipped
    assert pgscand[-1][1] == pytest.approx(30 / 60)
    assert {w.code for w in warnings} == {"counter-reset"}


# --- shapes of the JSON: pretty, compact, sorted keys, bare data/result, streams ------------

RESPONSE: dict[str, Any] = {
    "status": "success",
    "data": {
        "resultType": "matrix",
        "result": [
            {
                "metric": {"__name__": "node_memory_MemFree_bytes", "instance": "h:9100"},
                "values": [[1795646000, "1048576"], [1795646015.5, "2097152"]],
            },
            {
                "metric": {"__name__": "node_vmstat_pswpout", "instance": "h:9100"},
                "values": [[1795646000, "10"], [1795646015.5, "41"]],
            },
        ],
    },
}


def _key(samples: list[Sample]) -> list[tuple[str, str, float]]:
    return [(s.time.isoformat(), s.metric, s.value) for s in samples]


def test_every_json_layout_gives_the_same_samples() -> None:
    want = _key(run([json.dumps(RESPONSE)])[0])
    assert want == [
        ("2026-11-25T22:33:20+00:00", "mem_free_kb", 1024.0),
        ("2026-11-25T22:33:35.500000+00:00", "mem_free_kb", 2048.0),
        ("2026-11-25T22:33:35.500000+00:00", "pswpout_s", 2.0),
    ]
    layouts = [
        json.dumps(RESPONSE, indent=2),
        json.dumps(RESPONSE, indent=4, sort_keys=True),  # jq -S: result before resultType
        json.dumps(RESPONSE["data"]),  # jq .data
        json.dumps(RESPONSE["data"]["result"], indent=1),  # jq .data.result
        "\n".join(json.dumps(x) for x in RESPONSE["data"]["result"]),  # jq -c '.data.result[]'
        json.dumps([RESPONSE]),
        "\n\n" + json.dumps(RESPONSE, separators=("\n,\n", "\n:\n")) + "\n\n",
    ]
    for text in layouts:
        samples, warnings = run(text.splitlines())
        assert (_key(samples), warnings) == (want, []), text[:80]


def test_several_responses_one_per_line_and_as_an_array() -> None:
    one = json.dumps(RESPONSE)
    per_line = _key(run([one, one])[0])
    assert per_line == _key(run([f"[{one},\n{one}]"])[0])
    assert len(per_line) == 6


def test_parse_streams_one_series_at_a_time() -> None:
    series = RESPONSE["data"]["result"][0]

    def endless() -> Iterator[str]:
        yield '{"status":"success","data":{"resultType":"matrix","result":['
        for i in itertools.count():
            yield ("," if i else "") + json.dumps(series)

    first = list(itertools.islice(prometheus.parse(endless(), source="t", tz=UTC), 5))
    assert [s.value for s in first] == [1024.0, 2048.0] * 2 + [1024.0]


def test_a_big_compact_response() -> None:
    result = [
        {
            "metric": {"__name__": "container_memory_rss", "id": f"/kubepods/pod{i}/c", "pod": "p"},
            "values": [[1795646000 + 15 * k, str(4096 * k)] for k in range(500)],
        }
        for i in range(200)
    ]
    line = json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}})
    samples, warnings = run([line])
    assert len(samples) == 100_000 and warnings == []
    assert samples[-1].entity == "cgroup:/kubepods/pod199/c" and samples[-1].value == 499 * 4


def test_keep_drops_points_but_rates_use_the_point_before() -> None:
    lines = (HERE / "node-reboot.ndjson").read_text().splitlines()
    everything, _ = run(lines)
    start = datetime.fromtimestamp(1795646060, UTC)
    kept, _ = run(lines, keep=lambda t: t >= start)
    assert kept == [s for s in everything if s.time >= start]


def test_junk_and_errors_are_warnings() -> None:
    samples, warnings = run((HERE / "junk-and-errors.json").read_text().splitlines())
    codes = [w.code for w in warnings]
    assert codes[:3] == ["query-error", "bad-json", "query-warning"]
    assert "bad-point" in codes and "unmapped-metric" in codes and codes[-1] == "bad-json"
    assert [s.metric for s in samples] == ["mem_free_kb", "mem_free_kb", "buffers_kb", "cached_kb"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet='{}[]",:0123456789. \tabcmetricvalues_', max_size=80), max_size=20)
)
def test_junk_never_raises(lines: list[str]) -> None:
    run(lines)


def test_every_truncation_of_a_response_is_safe() -> None:
    text = json.dumps(RESPONSE, indent=1)
    full = _key(run(text.splitlines())[0])
    for cut in range(len(text)):
        samples, _ = run(text[:cut].splitlines())
        got = _key(samples)
        assert got == full[: len(got)]


def test_sniff() -> None:
    for expect in EXPECTS:
        head = (HERE / json.loads(expect.read_text())["input"]).read_text().splitlines()[:50]
        assert prometheus.sniff(head), expect.name
        assert not psi.sniff(head) and not csvseries.sniff(head)
    others = [
        [],
        ['{"__CURSOR":"s=1","MESSAGE":"Out of memory: Killed process 1234 (leaker)"}'],
        ["time,series,value"],
        ["1795646000 some avg10=0.00 avg60=0.00 avg300=0.00 total=1"],
        ["[  123.456] leaker invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0"],
        ['{"metric": 3}'],
    ]
    others += [p.read_text().splitlines()[:50] for p in sorted(ROOT.glob("fixtures/*/*.json"))]
    for head in others:
        assert not prometheus.sniff(head), head[:2]
