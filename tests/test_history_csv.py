"""CSV series (oomsleuth.history.csvseries).

Each fixture under fixtures/history/csv has ``NAME.expect.json`` beside it. Set
``OOMSLEUTH_REGEN=1`` to rewrite them from the parser (then read the diff line by line).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import history_expect as he
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oomsleuth.history import csvseries, prometheus, psi
from oomsleuth.model import Sample, Warning_

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "fixtures" / "history" / "csv"
EXPECTS = sorted(HERE.glob("*.expect.json"))
UTC = timezone.utc


def run(lines: list[str], tz: Any = UTC, **kw: Any) -> tuple[list[Sample], list[Warning_]]:
    return he.run(csvseries.parse, lines, tz=tz, **kw)


@pytest.mark.parametrize("expect", EXPECTS, ids=[p.name for p in EXPECTS])
def test_fixture(expect: Path) -> None:
    want = json.loads(expect.read_text())
    source = expect.with_name(want["input"])
    got = he.as_json(*run(source.read_text().splitlines(), tz=ZoneInfo(want["tz"])))
    he.check_expect(expect, want, got)


def test_every_fixture_has_an_expectation() -> None:
    inputs = {p.name for p in HERE.glob("*.csv")}
    assert inputs == {json.loads(p.read_text())["input"] for p in EXPECTS}


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("mem_available_kb", ("mem_available_kb", None, ())),
        ("proc_rss_kb{pid=1234,comm=leaker}", ("proc_rss_kb", "pid:1234", (("comm", "leaker"),))),
        (
            "cg_mem_current_kb{cgroup=/system.slice/x.service}",
            ("cg_mem_current_kb", "cgroup:/system.slice/x.service", ()),
        ),
        ('x{ comm = "a, \\"b\\"" , pid=7 }', ("x", "pid:7", (("comm", 'a, "b"'),))),
        ("x{entity=container:abc,pid=1}", ("x", "container:abc", (("pid", "1"),))),
        ("x{group=java}", ("x", "group:java", ())),
        ("x{}", ("x", None, ())),
        ("x{a=1,}", ("x", None, (("a", "1"),))),
        ("namespace:metric.name", ("namespace:metric.name", None, ())),
        ("x{a}", None),
        ("x{a=1", None),
        ("1x", None),
        ("", None),
    ],
)
def test_parse_series(text: str, want: Any) -> None:
    assert csvseries.parse_series(text) == want


def test_entity_column_wins_over_labels() -> None:
    got = csvseries.parse_series("x{pid=1,comm=a}", "pid:2")
    assert got == ("x", "pid:2", (("comm", "a"), ("pid", "1")))


def test_zones() -> None:
    lines = [
        "time,series,value",
        "2026-07-01 12:00:00,a,1",
        "2026-07-01T10:00:00Z,a,2",
        "1798372800,a,3",
    ]
    samples, _ = run(lines, tz=ZoneInfo("Europe/Berlin"))
    assert [s.time.isoformat() for s in samples] == [
        "2026-07-01T12:00:00+02:00",
        "2026-07-01T10:00:00+00:00",
        "2026-12-27T12:00:00+00:00",
    ]
    assert samples[0].time == samples[1].time


def test_header_variants() -> None:
    for header in ("time,series,value", "Time, Metric, Value", "\ufefftimestamp,series,value"):
        assert csvseries.sniff([header])
        assert len(run([header, "1795646000,a,1"])[0]) == 1
    assert csvseries.sniff(["# comment", "", "time,metric,entity,value"])
    assert not csvseries.sniff(["time,value"])
    assert not csvseries.sniff(["time,series,value,extra"])


def test_keep_is_asked_once_per_time_and_drops_early() -> None:
    lines = ["time,series,value"] + [f"{1795646000 + i // 3},m{i % 3},{i}" for i in range(30)]
    asked: list[datetime] = []

    def keep(t: datetime) -> bool:
        asked.append(t)
        return t.second % 2 == 0

    samples, _ = run(lines, keep=keep)
    assert len(asked) == 10
    assert [s.value for s in samples] == [i for i in range(30) if (1795646000 + i // 3) % 2 == 0]


def test_parse_streams() -> None:
    def endless() -> Iterator[str]:
        yield "time,series,value"
        for i in itertools.count():
            yield f"{1795646000 + i},mem_free_kb,{i}"

    first = list(itertools.islice(csvseries.parse(endless(), source="t", tz=UTC), 4))
    assert [s.value for s in first] == [0, 1, 2, 3]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet='0123456789-:T ,{}="\\#abcz.\n', max_size=60), max_size=20))
def test_junk_never_raises(lines: list[str]) -> None:
    run(["time,series,value", *lines])
    run(["time,metric,entity,value", *lines])
    run(lines)


def test_sniff_tells_formats_apart() -> None:
    for expect in EXPECTS:
        head = (HERE / json.loads(expect.read_text())["input"]).read_text().splitlines()[:50]
        is_csv = csvseries.sniff(head)
        assert is_csv == (expect.name != "no-header.expect.json")
        assert not psi.sniff(head) and not prometheus.sniff(head)
    others = [
        [],
        [
            "# hostname;interval;timestamp;kbmemfree;kbavail",
            "web-1;600;2026-11-25 22:50:01 UTC;1;2",
        ],
        ["Linux 6.1.0-18-amd64 (web-1) \t11/25/2026 \t_x86_64_\t(4 CPU)"],
        ["1795646000 /proc/meminfo MemFree: 1 kB"],
        ['{"status":"success","data":{"resultType":"vector","result":[]}}'],
    ]
    others += [p.read_text().splitlines()[:50] for p in sorted(ROOT.glob("fixtures/*/*.txt"))]
    for head in others:
        assert not csvseries.sniff(head), head[:2]
