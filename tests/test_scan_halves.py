"""One log parsed in two halves side by side (oomsleuth.scan_halves, oomsleuth.load.parse_halves)
gives exactly what one scanner reading it whole gives, or declines: every fixture and corpus log
cut at every report's first line and at line starts all through it, through pickle as across
the fork; the hazards a cut can fall on; and oomsleuth.analyze with the second half really in
a forked process (same JSON, same warnings told once, a lost child)."""

from __future__ import annotations

import io
import itertools
import os
import pickle
import re
from pathlib import Path

import pytest
from test_scan import _all_logs

import oomsleuth
from oomsleuth import api_scan, scan_halves
from oomsleuth.load import blocks, forking, parse_halves
from oomsleuth.load.files import Input
from oomsleuth.model import Report, Warning_
from oomsleuth.scanner import parse_sources

ROOT = Path(__file__).resolve().parent.parent
ADJ = ROOT / "fixtures" / "real" / "memcg-adj.dmesg.txt"  # two reports, one host
MAX_CUTS = 60  # line starts tried per log (every report's first line besides)


def _whole(log: Path) -> tuple[Report, list[Warning_]]:
    heard: list[Warning_] = []
    return parse_sources(
        [(log.name, api_scan.blocks(Input(log.name, log), heard.append, None))]
    ), heard


def _halves(log: Path, cut: int) -> tuple[Report | None, list[Warning_]]:
    source, heard = Input(log.name, log), list[Warning_]()
    base = log.read_bytes()[:cut].count(b"\n")
    first = api_scan.blocks(parse_halves._span(source, 0, cut), heard.append, None)
    head = scan_halves.read_half(log.name, first, True)
    second = api_scan.blocks(parse_halves._span(source, cut, None), heard.append, None, base)
    tail = scan_halves.read_half(log.name, second, False)
    return scan_halves.join(head, pickle.loads(pickle.dumps(tail)), base), heard


def _cuts(data: bytes) -> list[int]:
    """Every report's first line, and line starts all through the log."""
    headers = {m.start() for m in re.finditer(rb"(?m)^.*invoked oom-killer", data)}
    starts = [m.end() for m in re.finditer(rb"\n", data[:-1])]
    step = len(starts) // MAX_CUTS + 1
    return sorted(c for c in headers | set(starts[::step]) if 0 < c < len(data))


@pytest.mark.parametrize("log", _all_logs(), ids=lambda p: p.name)
def test_a_joined_pair_of_halves_is_the_whole(log: Path) -> None:
    whole, heard = _whole(log)
    for cut in _cuts(log.read_bytes()):
        joined, told = _halves(log, cut)
        if joined is not None:
            assert (joined, told) == (whole, heard), cut


def test_halves_join_at_a_report_boundary() -> None:
    """Not a test that passes by declining: a cut at the second report's first line joins,
    with both reports, their kills in order, and the lines numbered on."""
    cut = ADJ.read_bytes().index(b"[ 1527.901563] leaker invoked")
    joined, _ = _halves(ADJ, cut)
    assert joined is not None and joined == _whole(ADJ)[0]
    assert [r.where.line for r in joined.reports] == [1, 82]
    assert [k.victim.pid for r in joined.reports for k in r.kills] == [20945, 20946]


def _edited(tmp_path: Path, after: str, line: str) -> tuple[Path, int]:
    """ADJ with ``line`` put after the line holding ``after``; the cut at the second report."""
    text = ADJ.read_text()
    at = text.index("\n", text.index(after)) + 1
    path = tmp_path / "edited.dmesg.txt"
    path.write_text(text[:at] + line + "\n" + text[at:])
    return path, path.read_bytes().index(b"[ 1527.901563] leaker invoked")


@pytest.mark.parametrize(
    ("after", "line", "why"),
    [
        (  # the first report's reaper line after the second's header: it goes to the first
            "[ 1527.901563] leaker invoked",
            "[ 1527.901570] oom_reaper: reaped process 20945 (batch-adj500), now anon-rss:0kB, "
            "file-rss:0kB, shmem-rss:0kB",
            "a reaper line only the first half's reports hold",
        ),
        (  # rate-limited headers before the second report: it starts with that count
            "Killed process 20945",
            "[ 1527.901500] oom_kill_process: 3 callbacks suppressed",
            "a rate-limit count pending at the cut",
        ),
    ],
)
def test_a_cut_that_cannot_be_joined_is_declined(
    tmp_path: Path, after: str, line: str, why: str
) -> None:
    log, cut = _edited(tmp_path, after, line)
    whole, _ = _whole(log)
    if "suppressed" in line:
        cut = log.read_bytes().index(b"[ 1527.901563] leaker invoked")
        assert whole.reports[1].suppressed_before == 3
    else:
        assert whole.reports[0].kills[0].reap is not None
    assert _halves(log, cut)[0] is None, why


def test_a_line_that_goes_on_with_the_open_report_declines(tmp_path: Path) -> None:
    """After the first kill, a second kill of the same report (an oom group) at the cut: the
    first half's report would take it; a fresh parser cannot."""
    kill = "[ 1527.809770] Memory cgroup out of memory: Killed process 20944 (db-protected) "
    kill += "total-vm:47764kB, anon-rss:37740kB, file-rss:6860kB, shmem-rss:0kB, UID:0 "
    kill += "pgtables:136kB oom_score_adj:0"
    log, _ = _edited(tmp_path, "Killed process 20945", kill)
    cut = log.read_bytes().index(kill.encode())
    assert _halves(log, cut)[0] is None


def test_interleaved_hosts_join_only_where_exact(tmp_path: Path) -> None:
    """Two hosts' kern.log reports interleaved line by line: wherever the pair joins, it is the
    whole; a cut inside the other host's report declines."""
    lines = ADJ.read_text().splitlines()
    out = []
    for i, text in enumerate(lines):
        for host in ("web-1", "web-2"):
            out.append(f"Nov 25 00:00:{10 + i // 60:02d} {host} kernel: {text}")
    log = tmp_path / "central.log"
    log.write_text("\n".join(out) + "\n")
    whole, heard = _whole(log)
    assert len(whole.reports) == 4
    joined = 0
    for cut in _cuts(log.read_bytes()):
        got, told = _halves(log, cut)
        if got is not None:
            joined += 1
            assert (got, told) == (whole, heard)
    assert joined < len(_cuts(log.read_bytes()))


# -- through oomsleuth.analyze, the second half in a forked process ------------------------------


def _big_log(tmp_path: Path, copies: int = 40) -> Path:
    """A real capture's two reports again and again, the kernel clock going on (one boot)."""
    lines = ADJ.read_text().splitlines()
    out = []
    for k in range(copies):
        for text in lines:
            m = re.match(r"\[\s*(\d+\.\d+)\](.*)", text)
            assert m is not None
            out.append(f"[{float(m[1]) + 10 * k:12.6f}]{m[2]}")
    log = tmp_path / "dense.dmesg.txt"
    log.write_text("\n".join(out) + "\n")
    return log


def _analyzed(
    paths: list[Path], boot: str | None = "2026-12-01T00:00:00Z"
) -> tuple[str, list[str]]:
    """The JSON and what was told (``boot``: the boot time given; None: found from the log's
    own anchors, through the tracker the halves replay)."""
    said: list[str] = []
    report = oomsleuth.analyze(paths, tz="UTC", year=2026, boot_time=boot, on_warning=said.append)
    out = io.StringIO()
    oomsleuth.render(report, "json", out)
    return out.getvalue(), said


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Halving for any size, forking allowed; the joins made (True) or declined (False)."""
    joins: list[bool] = []
    real = scan_halves.join

    def join(head, tail, base):  # type: ignore[no-untyped-def]
        got = real(head, tail, base)
        joins.append(got is not None)
        return got

    monkeypatch.setattr(scan_halves, "join", join)
    halving(monkeypatch)
    return joins


def halving(monkeypatch: pytest.MonkeyPatch) -> None:
    """Halving for any size and forking allowed (2 cores, safe, not forbidden)."""
    monkeypatch.setattr(parse_halves, "SPLIT_BYTES", 0)
    monkeypatch.setattr(parse_halves, "MIN_REPORTS", 1)
    monkeypatch.setattr(forking, "cores", lambda: 2)
    monkeypatch.setattr(forking, "safe_to_fork", lambda: True)  # other tests' idle threads
    monkeypatch.setenv(forking.NO_FORK, "0")


def _alone(
    monkeypatch: pytest.MonkeyPatch, paths: list[Path], boot: str | None = "2026-12-01T00:00:00Z"
) -> tuple[str, list[str]]:
    monkeypatch.setenv(forking.NO_FORK, "1")
    try:
        return _analyzed(paths, boot)
    finally:
        monkeypatch.setenv(forking.NO_FORK, "0")


def test_analyze_in_halves_is_analyze_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forced: list[bool]
) -> None:
    log = _big_log(tmp_path)
    halves = _analyzed([log])
    assert forced == [True]
    assert halves == _alone(monkeypatch, [log])
    assert halves[0].count('"pid": 20946') >= 40


def test_damage_in_both_halves_is_told_once_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forced: list[bool]
) -> None:
    log = _big_log(tmp_path)
    data = bytearray(log.read_bytes())
    for at in (len(data) // 5, len(data) * 4 // 5):  # a NUL and bad UTF-8 in each half
        start = data.index(b"\n", at) + 1
        data[start:start] = b"[ 9.0] junk \x00 and \xff\xfe here\n"
    log.write_bytes(bytes(data))
    halves = _analyzed([log])
    assert forced == [True]
    assert halves == _alone(monkeypatch, [log])


def test_a_lost_child_leaves_the_log_to_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forced: list[bool]
) -> None:
    log = _big_log(tmp_path)
    monkeypatch.setattr(parse_halves, "_tail", lambda *a: os._exit(9))  # runs in the child
    halves = _analyzed([log])
    assert forced == []  # nothing to join: parsed again in this process
    assert halves == _alone(monkeypatch, [log])


def test_the_cut_is_where_reports_are_dense_enough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report's first line past CUT_AT, when the bytes there hold as many reports as the file
    would need for MIN_REPORTS; a log with a few reports among its noise is not halved."""
    dense = _big_log(tmp_path, copies=200)  # 400 reports
    data = dense.read_bytes()
    found = parse_halves.find_cut(dense, len(data))
    assert found is not None and found[0] >= len(data) * parse_halves.CUT_AT
    cut, reports = found
    assert 300 <= reports <= 500
    assert data[cut:].startswith(b"[") and b"invoked oom-killer" in data[cut:].split(b"\n")[0]
    sparse = tmp_path / "sparse.dmesg.txt"  # 4 reports in 2 MB of noise, 2 of them at 60%
    noise = b"[ 9999.000000] eth0: Link is Up - 1Gbps/Full - flow control rx/tx\n" * 1000
    sparse.write_bytes(ADJ.read_bytes() + noise * 18 + ADJ.read_bytes() + noise * 12)
    assert parse_halves.find_cut(sparse, sparse.stat().st_size) is None
    monkeypatch.setattr(parse_halves, "MIN_REPORTS", 2)  # fewer than the window says
    assert parse_halves.find_cut(sparse, sparse.stat().st_size) is not None


def test_a_big_log_is_halved_only_when_dense(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From AHEAD_BYTES a log has a search process, faster unless its reports are dense: it is
    cut only with DENSE_PER_MB reports a megabyte where the cut is looked for."""
    noise = b"[ 9999.000000] eth0: Link is Up - 1Gbps/Full - flow control rx/tx\n" * 1000
    log = tmp_path / "big.dmesg.txt"  # 4 reports a MB: enough reports, too few a megabyte
    log.write_bytes((ADJ.read_bytes() + noise * 7) * 16)
    monkeypatch.setattr(parse_halves, "MIN_REPORTS", 2)
    length = log.stat().st_size
    assert parse_halves.find_cut(log, length) is not None  # below AHEAD_BYTES
    monkeypatch.setattr(blocks, "AHEAD_BYTES", length)
    assert parse_halves.find_cut(log, length) is None
    monkeypatch.setattr(parse_halves, "DENSE_PER_MB", 2)
    assert parse_halves.find_cut(log, length) is not None


def test_no_halves_without_room_for_the_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forced: list[bool]
) -> None:
    """A host or cgroup short of memory: the second half's reports need a process's worth of
    room beyond MIN_HEADROOM, else one process reads the log."""
    from oomsleuth.load import headroom

    log = _big_log(tmp_path)
    monkeypatch.setattr(headroom, "headroom", lambda: headroom.MIN_HEADROOM + (1 << 20))
    assert _analyzed([log]) == _alone(monkeypatch, [log])
    assert forced == []
    monkeypatch.setattr(headroom, "headroom", lambda: headroom.MIN_HEADROOM + (64 << 20))
    assert _analyzed([log]) == _alone(monkeypatch, [log])
    assert forced == [True]


def test_no_halves_without_a_report_after_the_middle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forced: list[bool]
) -> None:
    log = tmp_path / "quiet.dmesg.txt"
    log.write_text(ADJ.read_text() + "[ 2000.000000] eth0: link up\n" * 5000)
    assert parse_halves.find_cut(log, log.stat().st_size) is None
    assert _analyzed([log]) == _alone(monkeypatch, [log])
    assert forced == []


def test_a_report_open_before_its_kill_at_the_cut_declines(tmp_path: Path) -> None:
    """Host A's report cut off before its kill, then host B's whole report: read whole, A's
    report ends with the log (a note says so); a cut at B's report must not finish it sooner."""
    lines = ADJ.read_text().splitlines()
    text = [f"Nov 25 00:00:10 a kernel: {t}" for t in lines[:70]]
    text += [f"Nov 25 00:00:11 b kernel: {t}" for t in lines[81:]]
    log = tmp_path / "cut-off.log"
    log.write_text("\n".join(text) + "\n")
    whole, _ = _whole(log)
    assert "the log ends inside the report" in whole.reports[0].notes
    cut = log.read_bytes().index(b"Nov 25 00:00:11 b kernel:")
    assert _halves(log, cut)[0] is None


def test_month_names_learnt_in_the_first_half_decline(tmp_path: Path) -> None:
    """``srp`` is August in Czech, July in Croatian: the first half's ``led`` (Czech January)
    settles it, which a fresh framer has not seen."""
    kill = "Out of memory: Killed process 4242 (stress) total-vm:1kB, anon-rss:1kB, file-rss:0kB"
    log = tmp_path / "czech.log"
    log.write_text(
        f"led  5 03:04:05 host kernel: [  100.000000] {kill}\n"
        f"srp  5 03:04:05 host kernel: [  900.000000] {kill}\n"
    )
    whole, _ = _whole(log)
    walls = [r.kills[0].stamp.wall for r in whole.reports]
    assert [w.month for w in walls if w is not None] == [1, 8]
    assert _halves(log, log.read_bytes().index(b"srp"))[0] is None


def test_the_framer_state_checked_at_a_cut_is_all_of_it() -> None:
    """Framer._resumable reads these readers' fields by name: one added must be weighed there."""
    from oomsleuth.frame.journal import JournalReader
    from oomsleuth.frame.verbose import VerboseReader

    assert set(vars(JournalReader("x"))) == {"source", "boot_id", "export", "verbose"}
    assert set(vars(VerboseReader())) == {"fields", "start", "_ready"}


def test_progress_of_a_log_in_halves_ends_at_all_of_it(tmp_path: Path, forced: list[bool]) -> None:
    """The first half's blocks as they are read, then the whole file's lines and bytes."""
    log = _big_log(tmp_path)
    ticks: list[tuple[str, int, int, int | None]] = []
    oomsleuth.analyze([log], on_progress=lambda *t: ticks.append(t))  # type: ignore[arg-type]
    assert forced == [True]
    size, lines = log.stat().st_size, log.read_bytes().count(b"\n")
    assert ticks[-1] == (str(log), lines, size, size)
    assert len(ticks) > 1 and all(t[3] == size for t in ticks)  # the first half's, of all
    assert all(a[1] <= b[1] and a[2] <= b[2] for a, b in itertools.pairwise(ticks))


def test_a_kmsg_log_joins_at_a_report() -> None:
    """A /dev/kmsg capture (dictionary lines after its records): the second report's line has a
    head of its own, so the kmsg line before it does not matter."""
    log = ROOT / "fixtures" / "real" / "memcg-adj.kmsg.txt"
    data = log.read_bytes()
    cut = data.rindex(b"\n", 0, data.rindex(b"invoked oom-killer")) + 1
    joined, _ = _halves(log, cut)
    assert joined is not None and joined == _whole(log)[0]


def test_a_journal_is_not_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """journalctl -o json: its reader's state goes on across records (the boot id), which a
    fresh one lacks, so a journal is read in one process, not halved only to decline."""
    monkeypatch.setattr(parse_halves, "MIN_REPORTS", 1)
    records = (ROOT / "fixtures" / "handwritten" / "k6.1-memcg-v2.journal.json").read_bytes()
    log = tmp_path / "journal.json"
    log.write_bytes(records * 50)
    assert parse_halves.find_cut(log, log.stat().st_size) is None
    dmesg = _big_log(tmp_path)
    assert parse_halves.find_cut(dmesg, dmesg.stat().st_size) is not None


def test_every_log_twenty_times_over_in_halves_is_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forced: list[bool]
) -> None:
    """Each fixture and corpus log with a report, twenty copies back to back (a boot each, the
    kernel clock going back), analyzed through a real fork and in one process: the same JSON
    and warnings; and most of them really joined."""
    logs = [p for p in _all_logs() if b"invoked oom-killer" in p.read_bytes()]
    for log in logs:
        data = log.read_bytes()
        big = tmp_path / log.name
        big.write_bytes((data if data.endswith(b"\n") else data + b"\n") * 20)
        assert _analyzed([big], None) == _alone(monkeypatch, [big], None), log.name
    assert len(forced) >= len(logs) - 2  # a cut in all but one or two
    assert sum(forced) >= len(logs) * 3 // 4, forced


def test_a_run_the_tracker_cuts_is_replayed_line_by_line(tmp_path: Path) -> None:
    """In the second half, a body line whose kernel stamp goes 3 s back (less than the parser's
    gap, more than the tracker's second): the second half's parser took its run in one piece,
    the real tracker, fed it at the join, starts a segment there, as reading it whole does."""
    lines = ADJ.read_text().splitlines()
    m = re.match(r"\[\s*(\d+\.\d+)\](.*)", lines[99])
    assert m is not None
    lines[99] = f"[{float(m[1]) - 3:12.6f}]{m[2]}"
    log = tmp_path / "kern.log"
    log.write_text("".join(f"Nov 25 00:00:10 web-1 kernel: {t}\n" for t in lines))
    whole, _ = _whole(log)
    assert [s.reason for s in whole.segments] == ["start", "uptime went back"]
    data = log.read_bytes()
    cut = data.rindex(b"\n", 0, data.index(b"[ 1527.901563] leaker invoked")) + 1
    joined, _ = _halves(log, cut)
    assert joined is not None and joined == whole
