"""The kernel parser's cheap tests before its parsers (``kernel_outcome_lines.EVENT_HINT``
before the event parsers, ``kernel_body._SECTION_FIRSTS`` before the section parsers) only skip
lines those parsers would not read: on every line of the real and handwritten fixtures, and on
lines built from pieces of report lines, a line the test rules out is one every parser
rejects."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oomsleuth.frame.framer import frame_lines
from oomsleuth.parsers import kernel_lines as kl
from oomsleuth.parsers import kernel_outcome_lines as ko
from oomsleuth.parsers.kernel_body import _MEMINFO, _SECTION_FIRSTS
from oomsleuth.parsers.taskdump import parse_table_header

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "fixtures" / "real").glob("*.txt")) + sorted(
    p for p in (ROOT / "fixtures" / "handwritten").iterdir() if p.suffix in (".txt", ".log")
)
EVENT_PARSERS = (
    kl.parse_header,
    ko.parse_killed,
    ko.parse_selection,
    ko.parse_summary,
    ko.parse_reaper,
    ko.parse_oom_group,
    ko.parse_suppressed,
    ko.parse_alloc_failure,
    ko.classify_ending,
)
SECTION_PARSERS = (
    kl.parse_counter,
    kl.parse_task_in,
    kl.parse_stats_for,
    kl.parse_protection,
    _MEMINFO.match,
    parse_table_header,
    lambda s: True if s.startswith("Tasks state") else None,
)


def texts() -> list[str]:
    out = []
    for path in FILES:
        lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
        out += [line.text.strip() for line in frame_lines(lines)]
    return [s for s in out if s]


TEXTS = texts()


def check(s: str) -> None:
    if ko.EVENT_HINT.search(s) is None:
        assert all(parse(s) is None for parse in EVENT_PARSERS), s
        assert "Killed process" not in s, s
    if s[:1] not in _SECTION_FIRSTS:
        assert all(not parse(s) for parse in SECTION_PARSERS), s


def test_the_fixtures_hold_event_and_section_lines() -> None:
    assert len(TEXTS) > 2000
    assert sum(ko.EVENT_HINT.search(s) is not None for s in TEXTS) > 100
    assert any(kl.parse_counter(s) for s in TEXTS) and any(parse_table_header(s) for s in TEXTS)


@pytest.mark.parametrize("index", range(0, len(TEXTS), 500))
def test_fixture_lines_ruled_out_are_read_by_no_parser(index: int) -> None:
    for s in TEXTS[index : index + 500]:
        check(s)


PIECES = st.sampled_from(
    [
        "stress invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
        "Out of memory: Killed process 4242 (stress) total-vm:221368kB",
        "Kill process 1 (a) score 9 or sacrifice child",
        "oom-kill:constraint=CONSTRAINT_MEMCG,task=a,pid=1,uid=0",
        "oom_reaper: reaped process 1 (a), now anon-rss:0kB, file-rss:0kB",
        "Tasks in /a are going to be killed due to memory.oom.group set",
        "dump_header: 3 callbacks suppressed",
        "printk: 5 messages suppressed",
        "a: page allocation failure: order:0, mode:0x0",
        "Kernel panic - not syncing: Out of memory and no killable processes...",
        "System is deadlocked on memory",
        "memory: usage 51200kB, limit 51200kB, failcnt 0",
        "Memory cgroup stats for /a: cache:0KB",
        "Task in /a killed as a result of limit of /a",
        "Mem-Info:",
        "[  pid  ]   uid  tgid total_vm      rss name",
        " ",
        "x",
        "\u00e9",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=3), st.integers(0, 40), st.integers(0, 40))
def test_cut_and_joined_report_lines_ruled_out_are_read_by_no_parser(
    pieces: list[str], start: int, stop: int
) -> None:
    joined = "".join(pieces)
    check(joined[start : len(joined) - stop].strip())
