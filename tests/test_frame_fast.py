"""The sparse framer's fast lane (:meth:`oomsleuth.frame.sparse.SparseFramer.frame_sparse`): a
line that starts with the kept syslog prefix is read by :func:`oomsleuth.frame.syslog.kept`
straight into the pending line (a tuple, made a Head only if the general way needs it),
without the general way (``_physical``/``_step``). With the lane and without it (``kept``
returning None), every fixture and shared-corpus log and lines built to trip the lane
(journal export records whose binary data holds syslog lines, verbose records, JSON lines,
wraps, continuations, ``#012`` pieces, kmsg lines, banners, quotes, priorities, CRLF) give the
same lines, counts and skips, with the prefilter and without it; and ``kept`` reads a line as
``named`` does."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from oomsleuth.frame import syslog
from oomsleuth.frame.sparse import SparseFramer
from oomsleuth.model import LogLine
from oomsleuth.scanner import PREFILTER

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def _log(path: Path) -> bool:
    if path.name.endswith(("facts.json", "meta.json")):
        return False
    return path.suffix in (".txt", ".log", ".json") or path.name in ("kern.log", "messages")


FOLDERS = ("real", "handwritten", "userspace", "evidence/late-journal")
FILES = [p for f in FOLDERS for p in sorted((ROOT / "fixtures" / f).iterdir()) if _log(p)]
FILES += sorted(CORPUS.glob("*.log")) if CORPUS.is_dir() else []


class Lines:
    """A sparse source that hands out every line (allowed: the framer tests each)."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self.lines = 0

    def next(self, skip: bool, /) -> tuple[int, str] | None:
        if self.lines == len(self._lines):
            return None
        self.lines += 1
        return self.lines, self._lines[self.lines - 1]


Framed = tuple[list[LogLine], dict[str, int], int, int]


def framed(lines: list[str], full: bool, fast: bool = True) -> Framed:
    """The lines, framing counts, skipped and read lines; ``full`` False: with the prefilter,
    turned to every line while a kernel line mentions oom (as the scanner turns it)."""
    syslog._last = ("", "", None, None, None, None)
    with pytest.MonkeyPatch.context() as mp:
        if not fast:
            mp.setattr(syslog, "kept", lambda s, lineno: None)
        framer = SparseFramer("x", prefilter=PREFILTER)
        framer.full = full
        out = []
        for line in framer.frame_sparse(Lines(lines)):
            out.append(line)
            framer.full = full or "oom" in line.text
    return out, framer.stats, framer.skipped, framer.lines_read


def read(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="surrogateescape").split("\n")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_logs_frame_the_same_in_the_fast_lane(path: Path) -> None:
    lines = read(path)
    for full in (True, False):
        assert framed(lines, full) == framed(lines, full, fast=False)


def test_the_fast_lane_takes_most_syslog_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    kept = syslog.kept

    def spy(s: str, lineno: int) -> object:
        head = kept(s, lineno)
        calls.append(head is not None)
        return head

    monkeypatch.setattr(syslog, "kept", spy)
    framed(read(ROOT / "fixtures/handwritten/k5.14-el9-memcg-v2.rsyslog.log"), True)
    assert sum(calls) > 0.8 * len(calls) > 30


KEY = "Nov 25 00:00:10 web-1 kernel: "
DATA = f"a\n{KEY}[   11.000001] inside a binary field"
PIECES = st.sampled_from(
    [
        f"{KEY}[   11.000012] CPU: 0 UID: 0 PID: 1 Comm: x",
        f"{KEY}[   11.000013] oom-kill:constraint=CONSTRAINT_MEMCG,task=x,pid=1,uid=0",
        f"{KEY}plain text",
        f"{KEY}[   11.000014] a#012b#011c",
        f"{KEY}[   11.000015] [s=1] text",
        f"{KEY}[   11.000016] crlf\r",
        f"{KEY}[   11.0][  T42] caller",
        "Nov 25 00:00:11 web-1 kernel: [   12.5] other stamp",
        'Nov 25 00:00:10 web-2 earlyoom[5]: sending SIGTERM to process 7 uid 0 "x": oom_score 9',
        " " * 40 + "continued",
        "hard wrap piece",
        "",
        "   ",
        "-- Boot 0123456789abcdef0123456789abcdef --",
        "__CURSOR=s=1;i=2",
        "__REALTIME_TIMESTAMP=1796524199000000",
        "_BOOT_ID=0123456789abcdef0123456789abcdef",
        "MESSAGE=hello oom",
        "MESSAGE",
        chr(len(DATA.encode())) + "\0" * 7 + DATA,
        '{"MESSAGE": "oom x", "__REALTIME_TIMESTAMP": "1796524199000000"}',
        "Tue 2026-11-25 00:00:10.000000 UTC [s=ab;i=1;b=0123;m=1;t=2;x=3]",
        f"    MESSAGE={KEY}x",
        "[   11.000000] dmesg line oom",
        "6,1234,5678,-;kmsg line",
        " SUBSYSTEM=x",
        f"<4>{KEY}priority",
        f"> {KEY}[   11.0] quoted",
        f"\ufeff{KEY}bom",
        f"  {KEY}indented",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=14), st.booleans())
@example([f"{KEY}a", "6,1234,5678,-;kmsg line", f"{KEY}b", " SUBSYSTEM=x"], True)
@example([f"{KEY}a", f"  {KEY}indented", f"{KEY}b", "", " " * 40 + "continued"], True)
@example([f"{KEY}a", f"{KEY}b", "__CURSOR=s=1", f"{KEY}c", "", f"{KEY}d"], True)
def test_built_lines_frame_the_same_in_the_fast_lane(lines: list[str], full: bool) -> None:
    assert framed(lines, full) == framed(lines, full, fast=False)


def test_syslog_lines_in_export_data_are_read_by_the_journal_reader() -> None:
    lines = [
        "__CURSOR=s=1;i=2",
        "MESSAGE",
        *(chr(len(DATA.encode())) + "\0" * 7 + DATA).split("\n"),
        "",
        f"{KEY}after",
    ]
    for full in (False, True):
        got = framed([f"{KEY}before", *lines], full)
        assert got == framed([f"{KEY}before", *lines], full, fast=False)
    got = framed([f"{KEY}before", f"{KEY}before", *lines], True)
    texts = [(line.framing, line.text) for line in got[0]]  # full: every line
    inside = [("journal-export", text) for text in DATA.split("\n")]
    assert texts == [("syslog", "before"), ("syslog", "before"), *inside, ("syslog", "after")]


STAMPS = st.sampled_from(["Nov 25 00:00:10", "Nov  5 00:00:10", "Nov 25 00:00:10.123456"])
HOSTS = st.sampled_from(["web-1", "web-2", "h[1]"])
TAGS = st.sampled_from(["kernel:", "kernel[12]:", "earlyoom[1]:", "k:"])
RESTS = st.sampled_from(
    ["", " [   11.000012] text", " [ 1.5][  T42] x", " [1.5] x", "x", "  two", " <4>[ 2.0] x"]
)
LINE = st.builds(lambda *p: f"{p[0]} {p[1]} {p[2]}{p[3]}", STAMPS, HOSTS, TAGS, RESTS)


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE, min_size=2, max_size=8), st.integers(1, 99))
def test_kept_reads_as_named(lines: list[str], lineno: int) -> None:
    syslog._last = ("", "", None, None, None, None)
    for line in lines:
        got = syslog.kept(line, lineno)
        if got is not None:
            named = syslog.named(line)
            assert named is not None
            named.lineno = lineno
            assert syslog.as_head(got) == named, line
            fields = (named.lineno, named.text, named.framing, named.uptime_s, named.wall)
            fields += (named.host, named.ident, named.ident_pid, named.caller, named.width)
            assert got == fields, line
        syslog.named(line)
