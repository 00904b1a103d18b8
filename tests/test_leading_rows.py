"""A task table whose report head is missing is read when it begins the source (a capture that
starts inside the table: ABRT's, a ring buffer that wrapped, a paste): its rows, among the
source's first ``LEADING`` lines, open a report. Further in, with no report open, rows are not
read (a table's header line names ``oom_score_adj``: its report opens there, unless lines were
lost on the way); the kill after such a table is kept, without the table. Every reader gives
the same: framing every line, the keyword prefilter over lines, and the block reader with
hyperscan and with the Python finder."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from test_fastpath import _fast, engine

import oomsleuth
from oomsleuth.load.files import Input
from oomsleuth.model import Report
from oomsleuth.scanner import LEADING, parse_sources

__all__ = ["engine"]  # the fixture, from test_fastpath: hyperscan and the Python finder

REAL = Path(__file__).resolve().parent.parent / "fixtures" / "real"
PREFIX = "Nov 25 10:01:00 web-1 kernel: "
# the real capture's table rows, oom-kill line and kill line: a report whose head was lost
TAIL = [PREFIX + x for x in (REAL / "memcg-bystander.dmesg.txt").read_text().splitlines()[76:]]


def noise(n: int) -> list[str]:
    return [f"Nov 25 10:00:{i % 60:02d} web-1 kernel: [{i:12.6f}] eth0: up {i}" for i in range(n)]


def readers(lines: list[str], engine: str, tmp_path: Path) -> Report:
    """The result, the same by every reader."""
    full = parse_sources([("kern.log", lines)], prefilter=False)
    keyword = parse_sources([("kern.log", lines)])
    path = tmp_path / "kern.log"
    path.write_text("\n".join(lines) + "\n")
    blocks, _ = _fast(Input("kern.log", path), engine)
    assert full.reports == keyword.reports == blocks.reports
    assert full.warnings == keyword.warnings == blocks.warnings
    return blocks


@pytest.mark.parametrize("before", [0, 1, LEADING - 2, LEADING - 1])
def test_a_table_that_begins_the_source_opens_its_report(
    before: int, engine: str, tmp_path: Path
) -> None:
    result = readers(["", *noise(before)][:before] + TAIL, engine, tmp_path)
    (report,) = result.reports
    assert [t.comm for t in report.tasks or ()] == ["steady-db", "leaker"]
    assert [k.victim.pid for k in report.kills] == [20927]
    assert report.where.line == before + 1  # its first row


@pytest.mark.parametrize("before", [LEADING, LEADING + 1, 500])
def test_a_headless_table_further_in_is_not_read(before: int, engine: str, tmp_path: Path) -> None:
    result = readers(noise(before) + TAIL + noise(3), engine, tmp_path)
    (report,) = result.reports
    assert not report.tasks  # the table's rows opened nothing
    assert [k.victim.pid for k in report.kills] == [20927]  # the kill is kept
    assert report.where.line == before + 3  # the oom-kill line opened it


def test_each_source_begins_afresh(tmp_path: Path) -> None:
    first = noise(50) + TAIL
    result = parse_sources([("kern.log.1", first), ("kern.log", TAIL)])
    tables = [[t.comm for t in r.tasks or ()] for r in result.reports]
    assert tables == [[], ["steady-db", "leaker"]]
    full = parse_sources([("kern.log.1", first), ("kern.log", TAIL)], prefilter=False)
    assert (result.reports, result.warnings) == (full.reports, full.warnings)


def test_the_rule_through_analyze(tmp_path: Path) -> None:
    """Through the public API, two files: the one that begins with the table gets its tasks in
    the JSON; in the other, the same table 500 lines in opens nothing, and its kill is kept."""
    start, further = tmp_path / "start.log", tmp_path / "further.log"
    start.write_text("\n".join(TAIL) + "\n")
    further.write_text("\n".join(noise(500) + TAIL) + "\n")
    for path, comms in ((start, ["steady-db", "leaker"]), (further, [])):
        result = oomsleuth.analyze([path], tz="UTC")
        (report,) = result.reports
        assert [t.comm for t in report.tasks or ()] == comms
        assert [k.victim.pid for k in report.kills] == [20927]
        out = io.StringIO()
        oomsleuth.render(result, "json", out)
        (event,) = json.loads(out.getvalue())["events"]
        assert [t["comm"] for t in event["tasks"] or ()] == comms
