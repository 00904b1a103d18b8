"""Runs of body lines (:class:`oomsleuth.model.Run`): inside a report, the block reader hands the
lines that share one syslog prefix over in one piece, and the scanner feeds as many as the
userspace parser, the open report and the anchor tracker each take exactly as they would take
them one by one (``Scanner.take_run``). Every hazard a run can meet inside a real report gives
the same result as the line reader: the uptime going back, a ``Linux version`` line, a gap that
ends the report, lines the fast lane leaves to the general way (``#01``, CR, NUL, a wrap), text
the userspace parser reads, blank and unstamped lines, another host or second in between, a
second report in the same second, small blocks, and a report among a source's first lines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fastpath import engine

import oomsleuth
from oomsleuth import scanner
from oomsleuth.load import blocks, literals
from oomsleuth.load.files import Input
from oomsleuth.model import Report
from oomsleuth.scanner import candidate_patterns, parse_sources

__all__ = ["engine"]  # the fixture, from test_fastpath: hyperscan and the Python finder

REAL = Path(__file__).resolve().parent.parent / "fixtures" / "real"
HANDWRITTEN = REAL.parent / "handwritten"
PREFIX = "Nov 25 10:01:00 web-1 kernel: "
BODY = (REAL / "memcg-adj.dmesg.txt").read_text().splitlines()  # a real report, 100 lines
# a global report of the 3.7 era: `[<address>]` call trace, Mem-Info with per-cpu lines, zones,
# buddy lists, swap; the task table and kill (the fixture's own reading: facts.json beside it)
GLOBAL = (HANDWRITTEN / "k3.7-global-pid-comm.dmesg.txt").read_text().splitlines()


def report(shift: float = 0.0, body: list[str] = BODY) -> list[str]:
    """A report in kern.log framing, its kernel stamps moved on by ``shift``."""
    out = []
    for line in body:
        stamp, _, rest = line.partition("] ")
        out.append(f"{PREFIX}[{float(stamp[1:]) + shift:12.6f}] {rest}")
    return out


def noise(n: int, second: int = 0) -> list[str]:
    return [f"Nov 25 10:00:{second:02d} web-1 kernel: [{i:12.6f}] eth0: up {i}" for i in range(n)]


def at(lines: list[str], needle: str) -> int:
    return next(i for i, line in enumerate(lines) if needle in line)


def inserted(needle: str, *extra: str, shift: float = 0.0) -> list[str]:
    """Noise, then the report with ``extra`` lines put after its line holding ``needle``."""
    lines = report(shift)
    i = at(lines, needle) + 1
    return [*noise(30), *lines[:i], *extra, *lines[i:]]


def stamped(text: str, uptime: float, prefix: str = PREFIX) -> str:
    return f"{prefix}[{uptime:12.6f}] {text}"


UP = float(BODY[0][1:].partition("]")[0])  # the report's first kernel stamp
G_UP = float(GLOBAL[0][1:].partition("]")[0])


def inserted_global(needle: str, *extra: str) -> list[str]:
    lines = report(body=GLOBAL)
    i = at(lines, needle) + 1
    return [*lines[:i], *extra, *lines[i:]]


CASES: dict[str, Callable[[], list[str]]] = {
    "plain": lambda: [*noise(30), *report()],
    "two in one second": lambda: [*noise(5), *report(), *report(0.5), *noise(20, 1)],
    "noise after the kill, a reaper": lambda: [
        *report(),
        *[stamped(f"eth0: up {n}", UP + 0.2) for n in range(40)],
        stamped("oom_reaper: reaped process 20945 (batch-adj500), now anon-rss:0kB", UP + 0.3),
    ],
    "uptime back": lambda: inserted("total_rss ", stamped("rss_huge 0", UP - 5.0)),
    "Linux version": lambda: inserted(  # in the call trace, which takes it as a trace line
        "dump_header", stamped("Linux version 6.1.0 (gcc) #1 SMP", UP + 0.00002)
    ),
    "a gap": lambda: inserted("total_rss ", stamped("rss_huge 0", UP + 30.0)),
    "#01": lambda: inserted("total_cache ", stamped("rss_huge#011 0", UP + 0.0004)),
    "CR": lambda: inserted("total_rss ", stamped("rss_huge 0\r", UP + 0.0004)),
    "NUL": lambda: inserted("total_rss ", stamped("rss_\x00huge 0", UP + 0.0004)),
    "a wrap": lambda: inserted("total_rss ", "   continued without a prefix"),
    "userspace text": lambda: inserted(
        "dump_header", stamped(" x\x1b[0m+0x1/0x2", UP), stamped("oomd: x #033[0m", UP)
    ),
    "blank and unstamped": lambda: inserted(
        "total_rss ", stamped("", UP + 0.0004), PREFIX + "rss_huge 0", PREFIX
    ),
    "another host": lambda: inserted(
        "total_rss ", stamped("rss_huge 7", UP, "Nov 25 10:01:00 db-2 kernel: ")
    ),
    "another second": lambda: inserted(
        "total_rss ", stamped("rss_huge 7", UP + 0.0004, "Nov 25 10:01:01 web-1 kernel: ")
    ),
    "another ident": lambda: inserted(
        "total_rss ", "Nov 25 10:01:00 web-1 earlyoom[88]: mem avail: 5 of 100 MiB"
    ),
    "at the start": lambda: report(),
    "global": lambda: [*noise(30), *report(body=GLOBAL), *report(1.0, GLOBAL)],
    "global, uptime back in Mem-Info": lambda: [
        *(lines := report(body=GLOBAL))[: (i := at(lines, "Node 0 DMA32 per-cpu"))],
        stamped("CPU    7: hi:  186, btch:  31 usd:   0", G_UP - 5.0),
        *lines[i:],
    ],
    "global, a gap in Mem-Info": lambda: [
        *(lines := report(body=GLOBAL))[: (i := at(lines, "Node 0 DMA32 per-cpu"))],
        stamped("CPU    7: hi:  186, btch:  31 usd:   0", G_UP + 30.0),
        *lines[i:],
    ],
    "global, a bad row": lambda: inserted_global(
        "[ pid ]", stamped("[ 1234]     0  1234  x", G_UP + 0.0004)
    ),
    # a memory.stat block is read in one piece (kernel_run._stat_block): what ends or splits it
    "stat lines plain_body does not read": lambda: inserted(
        "total_rss ",
        *(
            stamped(text, UP + 0.0004)
            for text in ("oom_kill 3", "suppressed_x 2", "rss_huge  0", "rss_huge\t0", "x 1 2")
        ),
    ),
    "stat lines it reads": lambda: inserted(
        "total_rss ",
        *(
            stamped(text, UP + 0.0004)
            for text in ("  rss_huge 0 \t", "r\u00e0ss \u0661\u0662", "1 2")
        ),
    ),
    "over 400 stat lines": lambda: inserted(
        "total_rss ", *(stamped(f"x{i} {i}", UP + 0.0004) for i in range(450))
    ),
    "over 600 lines": lambda: inserted(
        "total_rss ", *(stamped(f"y{i} {i}", UP + 0.0004 + i * 1e-6) for i in range(700))
    ),
    "a second stat block": lambda: inserted(
        "total_unevictable",
        stamped("Memory cgroup stats for /b:", UP + 0.0004),
        stamped("anon 5", UP + 0.0004),
    ),
    "an unstamped stat line": lambda: inserted("total_rss ", PREFIX + "rss_huge 0"),
    "a blank line among stat lines": lambda: inserted(
        "total_rss ", stamped("", UP + 0.0004), stamped("rss_huge 0", UP + 0.0004)
    ),
    "stat lines stepping forward": lambda: inserted(
        "total_rss ", *(stamped(f"z{i} {i}", UP + 5.0 * i) for i in range(1, 4))
    ),
    "a gap after a stat block": lambda: inserted(
        "total_rss ", stamped("", UP + 0.0004), stamped("rss_huge 0", UP + 30.0)
    ),
    "a gap at a stat block's start": lambda: inserted(
        "Memory cgroup stats for", stamped("rss_huge 0", UP + 30.0)
    ),
    # the report ends after a line that touched it, inside a run and right before one
    "a gap after a section": lambda: inserted("Tasks state", stamped("rss 0", UP + 30.0)),
    "a gap after a new second": lambda: inserted(
        "total_unevictable",
        *(
            stamped(text, UP + 0.0002, "Nov 25 10:01:01 web-1 kernel: ")
            for text in ("x 1", "y 2", "Tasks state (memory values in pages):")
        ),
        stamped("z 3", UP + 30.0, "Nov 25 10:01:01 web-1 kernel: "),
    ),
}


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Lines the scanner took in runs, per call."""
    seen: list[int] = []
    take = scanner.Scanner.take_run

    def spy(self: scanner.Scanner, source: str, run: object, start: int) -> int:
        stop = take(self, source, run, start)  # type: ignore[arg-type]
        seen.append(stop - start)
        return stop

    monkeypatch.setattr(scanner.Scanner, "take_run", spy)
    return seen


def fast(path: Path) -> Report:
    find, _ = literals.finder(candidate_patterns())
    source = Input(path.name, path, max_line=min(blocks.BLOCK // 2, 1 << 20))
    return parse_sources([(path.name, blocks.BlockLines(source, find, None))])


@pytest.mark.parametrize("block", [4096, blocks.BLOCK], ids=["4K", "4M"])
@pytest.mark.parametrize("case", list(CASES))
def test_runs_read_what_lines_read(
    case: str,
    block: int,
    engine: str,
    taken: list[int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(blocks, "BLOCK", block)
    lines = CASES[case]()
    path = tmp_path / "kern.log"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n")
    got = fast(path)
    assert sum(taken) > 20  # much of the report's body went in runs
    source = Input(path.name, path)  # its lines as the line reader gives them (CR, NUL)
    keyword = parse_sources([(path.name, source.lines(None))])
    assert got == keyword  # everything: events, warnings, lines, framings, boot anchoring
    full = parse_sources([(path.name, source.lines(None))], prefilter=False)
    assert (got.reports, got.userspace, got.boots) == (full.reports, full.userspace, full.boots)


def test_a_run_ends_where_a_reader_would_read_otherwise(taken: list[int], tmp_path: Path) -> None:
    """The uptime going back starts a boot segment at that line, not at the end of the run;
    a gap ends the report before the line after it, which opens no report of its own."""
    path = tmp_path / "kern.log"
    path.write_text("\n".join(CASES["uptime back"]()) + "\n")
    segments = fast(path).segments
    assert [s.reason for s in segments] == ["start", "uptime went back"]
    assert segments[1].first_line == at(CASES["uptime back"](), "total_rss ") + 2
    path.write_text("\n".join(CASES["a gap"]()) + "\n")
    first, *rest = oomsleuth.analyze([path], tz="UTC").reports
    assert first.end is not None and first.end.line == at(CASES["a gap"](), "total_rss ") + 1
    assert first.outcome != "killed" and all(r.where.line > first.end.line + 1 for r in rest)


def test_after_a_kill_among_the_first_lines(
    engine: str, taken: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A capture that begins inside a task table: after its kill, the rest of the run is
    tested as the loop tests it, there with the task-row hint (``scanner.LEADING``): the rows
    after the kill are framed (and counted) as when read one by one; the report, at its kill,
    takes no more rows."""
    table = (REAL / "memcg-bystander.dmesg.txt").read_text().splitlines()[76:80]
    lines = [PREFIX + line for line in table] + [PREFIX + line for line in table[:2]]
    path = tmp_path / "kern.log"
    path.write_text("\n".join([*lines, *noise(30, 1)]) + "\n")
    got = fast(path)
    assert taken  # runs were offered (headless rows are not plain: they take none)
    assert got == parse_sources([(path.name, Input(path.name, path).lines(None))])
    assert [len(r.tasks or ()) for r in got.reports] == [2]
    assert got.framings == (("syslog", 6),)  # every line of the table, none of the noise


# Each reader's scan of a run in C (the tracker's and the userspace parser's) against its own
# loop, alone: in a report the kernel parser stops first at most of the lines they stop at, so
# the tests above would not see a scan that took one line too many
_TEXTS = st.sampled_from(
    ["anon 1024", "Linux version 6.1.0", "x Linux version 6", "oom-kill:constraint=X",
     "Killed process 12 (a)", "Killed process", "invoked oom-killer: gfp", "boom", "zoom 1",
     "oomd killed", "\x1b[0m", "#033[0m", "dump_stack+0x1/0x2", ""]
)  # fmt: skip
_UPTIMES = st.sampled_from([99.0, 99.5, 100.0, 100.2, 100.6, 101.0, 102.5, None])


@settings(max_examples=600, deadline=None)
@given(
    lines=st.lists(st.tuples(_TEXTS, _UPTIMES), max_size=12),
    rising=st.booleans(),  # the uptimes sorted, as a report's mostly are
    start=st.integers(0, 3),
    first=st.sampled_from([None, 99.0, 100.0, 101.5]),
)
def test_the_scans_in_c_stop_where_their_loops_do(
    lines: list[tuple[str, float | None]], rising: bool, start: int, first: float | None
) -> None:
    from oomsleuth.clock import anchors
    from oomsleuth.model import LogLine, Run
    from oomsleuth.parsers.userspace import UserspaceParser

    wall = datetime(2026, 11, 25, 10, 1)
    texts, uptimes = [t for t, _ in lines], [u for _, u in lines]
    if rising:
        uptimes = sorted(u if u is not None else 100.0 for u in uptimes)
    run = Run(2, "syslog", wall, "web-1", texts, uptimes)
    start = min(start, len(texts))

    def limits() -> tuple[int, int]:
        tracker = anchors.AnchorTracker()
        tracker.observe(LogLine("k", 1, "eth0: up", "syslog", first, wall, "web-1", "kernel"))
        user = UserspaceParser().passes_over(texts, start, len(texts))
        return tracker.run_limit("k", "web-1", run, start, len(texts)), user

    fast = limits()
    with pytest.MonkeyPatch.context() as patch:  # the loops alone
        patch.setattr(anchors, "_none_stops", lambda *_: False)
        patch.setattr(UserspaceParser, "passes_over", _passes_over_loop)
        assert fast == limits()


def _passes_over_loop(self: object, texts: list[str], start: int, end: int) -> int:
    for i in range(start, end):
        if "oomd" in texts[i] or "\x1b" in texts[i] or "#033[" in texts[i]:
            return i
    return end
