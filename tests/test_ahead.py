"""The JSON report written ahead by both processes of a log read in two halves
(oomsleuth.api_ahead): the same text as one process gives, on every fixture and corpus log cut
at its reports, with a real fork; the child lost at each step; everything that stops it; the
texts used only for the very report they were written for."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from test_scan import _all_logs
from test_scan_halves import _big_log, halving

import oomsleuth
from oomsleuth import api_ahead, api_ahead_child, scan_halves
from oomsleuth.load import forking, parse_halves
from oomsleuth.model.record import replace

ROOT = Path(__file__).resolve().parent.parent
CUTS = 3  # report starts tried per log (the first after the first, the middle, the last)
Ran = dict[str, int]


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> Ran:
    """Halving for any size and forking allowed; how often the child's work was used: texts
    written ahead and rendered (``texts``), reports correlated ahead (``ahead``)."""
    counts = {"texts": 0, "ahead": 0}
    real_correlate, real_written = api_ahead.Ahead.correlate, api_ahead.written

    def correlate(self: Any, report: Any) -> Any:
        done, texts = real_correlate(self, report)
        counts["ahead"] += texts is not None
        return done, texts

    def written(report: Any) -> Any:
        texts = real_written(report)
        counts["texts"] += texts is not None
        return texts

    monkeypatch.setattr(api_ahead.Ahead, "correlate", correlate)
    monkeypatch.setattr(api_ahead, "written", written)
    halving(monkeypatch)
    return counts


def _json(paths: list[Path], ahead: str | None = "json", **options: Any) -> tuple[str, list[str]]:
    said: list[str] = []
    kw: dict[str, Any] = {"tz": "UTC", "year": 2026, **options}
    report = oomsleuth.analyze(paths, on_warning=said.append, ahead=ahead, **kw)
    out = io.StringIO()
    oomsleuth.render(report, "json", out)
    return out.getvalue(), said


def _alone(
    monkeypatch: pytest.MonkeyPatch, paths: list[Path], **options: Any
) -> tuple[str, list[str]]:
    monkeypatch.setenv(forking.NO_FORK, "1")
    try:
        return _json(paths, None, **options)
    finally:
        monkeypatch.setenv(forking.NO_FORK, "0")


def _cut_at(monkeypatch: pytest.MonkeyPatch, cut: int) -> None:
    monkeypatch.setattr(parse_halves, "find_cut", lambda path, length: (cut, 2))


def _report_starts(data: bytes) -> list[int]:
    starts = [m.start() for m in re.finditer(rb"(?m)^.*invoked oom-killer", data)][1:]
    if len(starts) <= CUTS:
        return starts
    return [starts[0], starts[len(starts) // 2], starts[-1]]


@pytest.mark.parametrize("log", _all_logs(), ids=lambda p: p.name)
def test_written_ahead_is_written_in_one_process(
    log: Path, monkeypatch: pytest.MonkeyPatch, ran: Ran
) -> None:
    """Cut at a report's first line (past the first), the JSON is one process's, byte for
    byte, whether the child's work is used or declined (a cut inside a journal record)."""
    alone = _alone(monkeypatch, [log])
    for cut in _report_starts(log.read_bytes()):
        _cut_at(monkeypatch, cut)
        assert _json([log]) == alone, cut
    assert ran["ahead"] == ran["texts"]


def test_the_child_does_the_work_on_the_fixtures(monkeypatch: pytest.MonkeyPatch, ran: Ran) -> None:
    """Not a test that passes by declining: most fixture and corpus logs with two reports or
    more (13) are correlated and written ahead."""
    tried = 0
    for log in _all_logs():
        starts = _report_starts(log.read_bytes())
        if starts:
            _cut_at(monkeypatch, starts[0])
            _json([log])
            tried += 1
    assert tried >= 10 and ran["texts"] >= tried * 3 // 4, (tried, ran)


@pytest.mark.parametrize("boot", ["2026-12-01T00:00:00Z", None])
def test_a_dense_log_is_written_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ran: Ran, boot: str | None
) -> None:
    """The cut where analyze puts it; with and without a boot time (the clock's segments from
    the log's own anchors, sent to the child)."""
    log = _big_log(tmp_path)
    got = _json([log], boot_time=boot)
    assert ran == {"texts": 1, "ahead": 1}
    assert got == _alone(monkeypatch, [log], boot_time=boot)
    assert got[0].count('"pid": 20946') >= 40


def _dies(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """The child ends with no word at ``where`` (patched here, inherited by the fork; this
    process goes on as it would)."""
    here = os.getpid()
    target, name = {
        "before its stamps": (api_ahead_child.Clock, "stamps"),
        "before its incidents": (api_ahead_child, "correlate"),
        "before its events' texts": (api_ahead_child, "events_of"),
        "before its incidents' texts": (api_ahead_child, "incident_json"),
    }[where]
    real = getattr(target, name)

    def dies(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != here:
            os._exit(9)
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, dies)


@pytest.mark.parametrize(
    "where",
    [
        "before its stamps",
        "before its incidents",
        "before its events' texts",
        "before its incidents' texts",
    ],
)
def test_a_lost_child_leaves_its_part_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ran: Ran, where: str
) -> None:
    log = _big_log(tmp_path)
    alone = _alone(monkeypatch, [log])
    _dies(monkeypatch, where)
    assert _json([log]) == alone
    assert ran["texts"] == where.endswith("texts")


def test_what_stops_the_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ran: Ran) -> None:
    """History, redaction, another format, copies of a kill merged across the cut: the same
    JSON as one process, nothing done ahead."""
    log = _big_log(tmp_path)
    sar = ROOT / "fixtures" / "history" / "sysstat" / "grow.sar-r.iso.txt"
    for options in ({"redact": True}, {"history": [sar]}):
        assert _json([log], **options) == _alone(monkeypatch, [log], **options)
    assert _json([log], ahead="html") == _alone(monkeypatch, [log])
    copied = (
        tmp_path / "copied.dmesg.txt"
    )  # the first two reports again, as dmesg --time-format iso
    copied.write_text(
        log.read_text() + (ROOT / "fixtures/real/memcg-adj.dmesg-iso.txt").read_text()
    )
    got = _json([copied])
    assert got == _alone(monkeypatch, [copied]) and "copies-merged" in got[0]
    assert ran == {"texts": 0, "ahead": 0}


def test_the_texts_serve_only_their_own_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ran: Ran
) -> None:
    """A report changed after analyze (another object) is rendered from the model; the texts
    are used once; a second analyze drops the first one's."""
    log = _big_log(tmp_path)
    alone = _alone(monkeypatch, [log])[0]
    report = oomsleuth.analyze([log], tz="UTC", year=2026, ahead="json")
    changed = replace(report, incidents=report.incidents[:1])
    out = io.StringIO()
    oomsleuth.render(changed, "json", out)
    assert ran["texts"] == 0 and out.getvalue().count('"report_id"') < alone.count('"report_id"')
    oomsleuth.analyze([log], tz="UTC", year=2026, ahead="json")  # (drops the first's texts)
    out = io.StringIO()
    oomsleuth.render(report, "json", out)
    assert ran["texts"] == 0 and out.getvalue() == alone


def _rebooted_log(tmp_path: Path) -> Path:
    """A syslog of a host that boots twice, the real capture's reports again and again in
    each boot: the second half's reports lie in the second boot segment."""
    lines = (ROOT / "fixtures" / "real" / "memcg-adj.dmesg.txt").read_text().splitlines()
    out = []
    for boot, start in ((0, 0), (1, 7200)):
        banner = "Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org) #1 SMP"
        out.append(f"Nov 25 {start // 3600:02d}:00:00 web-1 kernel: [    0.000000] {banner}")
        for k in range(20):
            for text in lines:
                m = re.match(r"\[\s*(\d+\.\d+)\](.*)", text)
                assert m is not None
                up = float(m[1]) + 10 * k + boot
                at = start + int(up)
                stamp = f"Nov 25 {at // 3600:02d}:{at // 60 % 60:02d}:{at % 60:02d}"
                out.append(f"{stamp} web-1 kernel: [{up:12.6f}]{m[2]}")
    log = tmp_path / "rebooted.log"
    log.write_text("\n".join(out) + "\n")
    return log


def test_the_child_places_its_reports_in_their_own_boot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ran: Ran
) -> None:
    log = _rebooted_log(tmp_path)
    got = _json([log])
    assert ran == {"texts": 1, "ahead": 1}
    assert got == _alone(monkeypatch, [log])
    assert '"time": "2026-11-25T02:' in got[0]


def test_no_work_ahead_without_room_for_its_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ran: Ran
) -> None:
    """A host short of memory for the texts (not for the halves): the halves, nothing ahead."""
    log = _big_log(tmp_path)
    monkeypatch.setattr(parse_halves, "TEXT_BYTES", 1 << 40)
    joins: list[bool] = []
    real = scan_halves.join

    def join(head: Any, tail: Any, base: int) -> Any:
        joins.append((got := real(head, tail, base)) is not None)
        return got

    monkeypatch.setattr(scan_halves, "join", join)
    assert _json([log]) == _alone(monkeypatch, [log])
    assert joins == [True] and ran == {"texts": 0, "ahead": 0}


@pytest.mark.parametrize("chunk", [1, 3])
def test_the_texts_read_a_few_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ran: Ran, chunk: int
) -> None:
    """The child's texts come ``CHUNK`` reports a message, read as the writer needs them; none
    is made here."""
    log = _big_log(tmp_path)
    alone = _alone(monkeypatch, [log])
    monkeypatch.setattr(api_ahead_child, "CHUNK", chunk)  # (the child inherits it)
    here, made = os.getpid(), []
    for name in ("events_of", "text"):
        real = getattr(api_ahead_child, name)
        monkeypatch.setattr(api_ahead_child, name, _counted(real, here, made))
    assert _json([log]) == alone
    assert ran == {"texts": 1, "ahead": 1} and made == []


def _counted(real: Any, here: int, made: list[str]) -> Any:
    def counted(*args: Any) -> Any:
        if os.getpid() == here:
            made.append(real.__name__)
        return real(*args)

    return counted


@pytest.mark.parametrize("sent", [3, 12, 30])
def test_a_child_lost_among_its_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ran: Ran, sent: int
) -> None:
    """Lost after sending a few of its messages of texts: the rest made here."""
    from multiprocessing.connection import Connection

    log = _big_log(tmp_path)
    alone = _alone(monkeypatch, [log])
    monkeypatch.setattr(api_ahead_child, "CHUNK", 2)
    here, real, count = os.getpid(), Connection.send, [0]

    def send(self: Any, obj: Any) -> None:
        if (
            os.getpid() != here
            and isinstance(obj, tuple)
            and obj[:1] in (("events",), ("incidents",))
        ):
            count[0] += 1
            if count[0] > sent:
                os._exit(9)
        real(self, obj)

    monkeypatch.setattr(Connection, "send", send)
    assert _json([log]) == alone
    assert ran == {"texts": 1, "ahead": 1}


def test_compact_json_is_written_from_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ran: Ran
) -> None:
    """The texts written ahead are indented by 2: a compact document is written whole here."""
    from oomsleuth.renderers.json import JsonRenderer, dumps

    log = _big_log(tmp_path)
    report = oomsleuth.analyze([log], tz="UTC", year=2026, ahead="json")
    texts = api_ahead.written(report)
    assert texts is not None
    out = io.StringIO()
    JsonRenderer(indent=None).render(report, out, texts)
    assert out.getvalue() == dumps(report.to_dict(), indent=None) + "\n"
