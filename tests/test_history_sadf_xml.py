"""sysstat ``sadf -x`` (XML) history: oomsleuth.history.sadf_xml.

Each input under fixtures/history/sysstat/sadf-x has ``NAME.expect.json`` beside it. Set
``OOMSLEUTH_REGEN=1`` to rewrite them from the parser (then read the diff line by line).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import history_expect as he
import pytest
from pipeline import inside

import oomsleuth
from oomsleuth.history import metrics, registry, sadf, sadf_xml, sar
from oomsleuth.model import Sample, Warning_

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "fixtures" / "history" / "sysstat" / "sadf-x"
EXPECTS = sorted(HERE.glob("*.expect.json"))
# a real sosreport kept (and re-captured) by fixtures/capture_evidence.py: found by its layout
SOS_XML = sorted((ROOT / "fixtures" / "evidence").glob("sosreport/*/sos_commands/sar/sa??.xml"))
SIDECAR = ROOT / "fixtures" / "incidents" / "sidecar-leak-kills-db"
UTC = timezone.utc
READERS = {"sadf-xml": sadf_xml, "sadf": sadf}


def run(path: Path, module: Any = sadf_xml, **kw: Any) -> tuple[list[Sample], list[Warning_]]:
    with path.open(encoding="utf-8") as f:
        return he.run(module.parse, f, **kw)


def lines(text: str) -> list[str]:
    return text.splitlines()


def at(samples: list[Sample], when: str, metric: str) -> float:
    t = datetime.fromisoformat(when)
    (value,) = [s.value for s in samples if s.time == t and s.metric == metric]
    return value


# --- the fixtures -------------------------------------------------------------------------------


@pytest.mark.parametrize("expect", EXPECTS, ids=[p.name for p in EXPECTS])
def test_fixture(expect: Path) -> None:
    want = json.loads(expect.read_text())
    source = expect.with_name(want["input"])
    samples, warnings = run(source, READERS[want["format"]], tz=ZoneInfo(want["tz"]))
    he.check_expect(expect, want, he.as_json(samples, warnings))


def test_every_input_has_an_expectation() -> None:
    inputs = {p.name for p in HERE.iterdir() if p.suffix in (".xml", ".json")}
    inputs -= {p.name for p in EXPECTS}
    assert inputs == {json.loads(p.read_text())["input"] for p in EXPECTS}
    readme = (HERE / "README.md").read_text()
    assert all(name in readme for name in inputs)


def test_sadf_x_and_sadf_j_of_the_same_file_give_identical_samples() -> None:
    xml, xml_warnings = run(HERE / "reclaim.sadf-x-A.xml")
    js, js_warnings = run(HERE / "reclaim.sadf-j-A.json", sadf)
    assert xml == js and xml_warnings == js_warnings == []
    assert len({s.time for s in xml if s.metric != "restart"}) == 11
    assert Counter(s.metric for s in xml)["restart"] == 1
    assert {s.metric for s in xml} <= metrics.HOST | {"restart"}
    assert all(s.entity is None and s.source == "t" for s in xml)


def test_real_values_checked_by_hand_against_sar() -> None:
    """Numbers read off ``sar -B -r -q ALL -f reclaim.sa`` of the same capture."""
    samples, _ = run(HERE / "reclaim.sadf-x-A.xml")
    assert at(samples, "2026-12-06T04:56:12+00:00", "mem_free_kb") == 20208780
    assert at(samples, "2026-12-06T04:56:12+00:00", "mem_available_kb") == 24138828
    assert at(samples, "2026-12-06T04:56:13+00:00", "pgsteal_s") == 119744.0
    assert at(samples, "2026-12-06T04:56:13+00:00", "majflt_s") == 4.0
    assert at(samples, "2026-12-06T04:56:13+00:00", "pgpgin_kb_s") == 274176.0
    assert at(samples, "2026-12-06T04:56:15+00:00", "psi_mem_some_avg10") == 0.88
    assert at(samples, "2026-12-06T04:56:17+00:00", "psi_mem_full_avg10") == 0.76
    assert at(samples, "2026-12-06T04:56:19+00:00", "pgsteal_s") == 109568.0
    assert at(samples, "2026-12-06T04:56:22+00:00", "commit_kb") == 1602516
    assert at(samples, "2026-12-06T04:56:17+00:00", "restart") == 0.0
    free = [s.value for s in samples if s.metric == "mem_free_kb"]
    assert free[0] - min(free) > 1_400_000  # the grower took ~1.5 GB


@pytest.mark.skipif(not SOS_XML, reason="no sosreport fixture with sos_commands/sar/saDD.xml")
def test_a_sosreport_sa_xml_agrees_with_the_sar_text_beside_it() -> None:
    """sos ran ``sadf -x -- -A`` and ``sar -A`` on the same saDD: every value both show agree."""
    xml, warnings = run(SOS_XML[0])
    text, _ = run(SOS_XML[0].with_name("sar" + SOS_XML[0].stem[2:]), sar)
    assert warnings == []
    got = {(s.time, s.metric): s.value for s in xml}
    both = [(k, v) for s in text if (k := (s.time, s.metric)) in got and (v := s.value) is not None]
    assert len(both) > 200
    assert all(got[k] == pytest.approx(v, abs=0.006) for k, v in both)
    assert {"mem_available_kb", "pgscand_s", "psi_mem_full_avg10"} <= {m for _, m in got}


# --- times, zones and odd input -----------------------------------------------------------------

RECORD = """\
<sysstat xmlns="http://pagesperso-orange.fr/sebastien.godard/sysstat">
<host nodename="vm"><statistics>
<timestamp date="2026-12-06" time="04:56:12" utc="{utc}" interval="1">
<memory unit="kB">
<memfree>100</memfree><avail>200</avail>
<swpfree>10</swpfree><swpused>5</swpused>
</memory>
<swap-pages per="second" pswpin="1.50" pswpout="0.00"/>
<psi per="second"><psi-mem some_avg10="3.25" some_avg60="1.00"/></psi>
</timestamp>
</statistics><restarts><boot date="2026-12-06" time="04:56:17" utc="{utc}" cpu_count="2"/>
</restarts></host></sysstat>
"""


def test_utc_stamps_are_converted_and_local_ones_placed_in_tz() -> None:
    new_york = ZoneInfo("America/New_York")
    utc, _ = he.run(sadf_xml.parse, lines(RECORD.format(utc=1)), tz=new_york)
    assert utc[0].time == datetime(2026, 12, 6, 4, 56, 12, tzinfo=UTC)
    assert utc[0].time.tzinfo is new_york
    local, _ = he.run(sadf_xml.parse, lines(RECORD.format(utc=0)), tz=new_york)
    assert local[0].time == datetime(2026, 12, 6, 4, 56, 12, tzinfo=new_york)
    assert local[-1].metric == "restart" and local[-1].time.utcoffset() == timedelta(hours=-5)


def test_several_elements_a_line_and_a_tag_cut_by_the_line_end() -> None:
    text = RECORD.format(utc=1).replace('<swap-pages per="second"', '<swap-pages\nper="second"')
    samples, warnings = he.run(sadf_xml.parse, lines(text))
    assert warnings == []
    assert {s.metric: s.value for s in samples} == {
        "mem_free_kb": 100.0,
        "mem_available_kb": 200.0,
        "swap_free_kb": 10.0,
        "swap_used_kb": 5.0,
        "swap_total_kb": 15.0,
        "pswpin_s": 1.5,
        "pswpout_s": 0.0,
        "psi_mem_some_avg10": 3.25,
        "psi_mem_some_avg60": 1.0,
        "restart": 0.0,
    }


def test_keep_drops_records_before_they_are_built() -> None:
    cut = datetime(2026, 12, 6, 4, 56, 15, tzinfo=UTC)
    samples, _ = run(HERE / "reclaim.sadf-x-A.xml", keep=lambda t: t >= cut)
    assert min(s.time for s in samples) == cut
    assert len({s.time for s in samples}) == 8  # 04:56:15 to 04:56:22, with the restart


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("garbage that is not xml", "sadf-xml-bad-line"),
        ('<timestamp date="2026-13-45" time="25:00:00" utc="1">', "sadf-bad-time"),
        ('<timestamp date="2026-12-06" time="04:56:12" utc="1">\n<memory>', "sadf-truncated"),
        ('<boot date="yesterday" time="now"/>', "sadf-bad-time"),
        ("<memfree " + "x" * 70000, "sadf-xml-bad-line"),
    ],
)
def test_odd_input_is_a_warning_not_an_error(text: str, code: str) -> None:
    samples, warnings = he.run(sadf_xml.parse, [*lines(text), "x" * 10])
    assert samples == []
    assert code in {w.code for w in warnings}


def test_a_cut_file_keeps_the_records_before_the_cut() -> None:
    text = (HERE / "reclaim.sadf-x-A.xml").read_text().splitlines()
    cut = next(i for i, line in enumerate(text) if 'time="04:56:14"' in line) + 40
    samples, warnings = he.run(sadf_xml.parse, text[:cut])
    assert [w.code for w in warnings] == ["sadf-truncated"]
    assert sorted({s.time.second for s in samples}) == [12, 13]


def test_streams_without_holding_the_file() -> None:
    """Generated 1-second records: the first samples come out after the first record's lines,
    and memory stays small however many records follow."""
    head = RECORD.format(utc=1).split("<timestamp")[0].splitlines()
    body = RECORD.format(utc=1).split("<timestamp")[1].split("</timestamp>")[0].splitlines()
    read = 0

    def records(n: int) -> Iterator[str]:
        nonlocal read
        yield from head
        for i in range(n):
            t = datetime(2026, 12, 6, tzinfo=UTC) + timedelta(seconds=i)
            for line in [f'<timestamp date="{t:%Y-%m-%d}" time="{t:%H:%M:%S}" utc="1"', *body]:
                read += 1
                yield line
            yield "</timestamp>"

    samples = sadf_xml.parse(records(1000), source="t", tz=UTC)
    next(samples)
    assert read == len(body) + 1
    tracemalloc.start()
    count = 1 + sum(1 for _ in samples)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 1000 * 9
    assert peak < 500_000


# --- sniffing and the registry -------------------------------------------------------------------


def test_sniff_and_the_registry() -> None:
    for path in [*HERE.glob("*.xml"), *SOS_XML]:
        head = path.read_text().splitlines()[:60]
        assert sadf_xml.sniff(head)
        reader = registry.sniff(head)
        assert reader is not None and reader.name == "sadf-xml"
    json_head = (HERE / "reclaim.sadf-j-A.json").read_text().splitlines()[:60]
    assert not sadf_xml.sniff(json_head)
    others = [p for p in (ROOT / "fixtures" / "history").glob("*/*.*") if p.suffix != ".raw"]
    for path in others:
        assert not sadf_xml.sniff(path.read_text(errors="replace").splitlines()[:60]), path
    assert not sadf_xml.sniff(["<html><body>", "<p>sysstat</p>"])


# --- through the public API ---------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("sadf") is None, reason="sysstat is not installed")
def test_analyze_reads_sadf_x_as_it_reads_sadf_j(tmp_path: Path) -> None:
    """The incident's sa.bin exported as sosreport does (``sadf -x``), next to its ``sadf -j``
    export with the same activities: the report is the same but for the source's name."""
    args = ["-r", "-S", "-W", "-B", "-q", "ALL"]
    xml = tmp_path / "sa.xml"
    with xml.open("w") as out:
        subprocess.run(["sadf", "-x", "--", *args, str(SIDECAR / "sa.bin")], stdout=out, check=True)
    log = SIDECAR / "kern-dmesg-iso.txt"
    with inside(ROOT):
        from_xml = oomsleuth.analyze([log], history=[xml], tz="UTC").to_dict()
        from_json = oomsleuth.analyze([log], history=[SIDECAR / "sadf-j.json"], tz="UTC").to_dict()
    assert from_xml["history"]["sources"] == [{"source": str(xml), "format": "sadf-xml"}]
    assert from_xml["history"]["samples_kept"] > 100
    text = json.dumps(from_xml).replace(str(xml), "SRC").replace('"sadf-xml"', '"sadf"')
    assert json.loads(text) == json.loads(
        json.dumps(from_json).replace(str(SIDECAR / "sadf-j.json"), "SRC")
    )
