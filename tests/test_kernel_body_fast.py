"""The kernel parser reads a memcg stat line of the stats phase, a call trace line of the
stack phase and a task row of the tasks phase for less
(:func:`oomsleuth.parsers.kernel_body.plain_body`: no event test, or of the comm alone, no
section tests). With the shortcut and without it (every line the general way), the real,
handwritten and shared-corpus logs, and reports with lines built to trip the shortcut (stat
names holding "oom", section lines without spaces, ``? `` lines with ``cpuset=``,
``Mem-Info:`` in the stack dump, rows whose comm holds an event word, bad rows, events and
kills inside the body), give the same
reports, allocation failures and warnings; and every line the shortcut takes is one no event
or section parser reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oomsleuth.frame.framer import frame_lines
from oomsleuth.model import AllocFailure, LogLine, OomReport, Warning_
from oomsleuth.parsers import kernel
from oomsleuth.parsers import kernel_body as kb
from oomsleuth.parsers import kernel_lines as kl
from oomsleuth.parsers import kernel_outcome_lines as ko
from oomsleuth.parsers.taskdump import parse_table_header

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
FILES = (
    sorted((ROOT / "fixtures" / "real").glob("*.txt"))
    + sorted(
        p for p in (ROOT / "fixtures" / "handwritten").iterdir() if p.suffix in (".txt", ".log")
    )
    + (sorted(CORPUS.glob("*.log")) if CORPUS.is_dir() else [])
)
Parsed = tuple[list[OomReport], list[AllocFailure], list[Warning_]]


def framed(lines: list[str]) -> list[LogLine]:
    return list(frame_lines(lines))


def read(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()


def parsed(lines: list[LogLine], fast: bool, monkeypatch: pytest.MonkeyPatch) -> Parsed:
    with monkeypatch.context() as mp:
        if not fast:
            mp.setattr(kernel, "plain_body", lambda d, s, lineno, text, up: 0)
        kp = kernel.KernelParser()
        for line in lines:
            kp.feed(line)
        kp.close()
    return kp.reports, kp.alloc_failures, kp.warnings


def taken(lines: list[LogLine], monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(phase, text) of every line the shortcut read."""
    out: list[tuple[str, str]] = []
    plain = kb.plain_body

    def spy(d: kb.Draft, s: str, lineno: int, text: str, up: float | None) -> int:
        phase = d.phase
        took = plain(d, s, lineno, text, up)
        if took:
            out.append((phase, s))
        return took

    with monkeypatch.context() as mp:
        mp.setattr(kernel, "plain_body", spy)
        kp = kernel.KernelParser()
        for line in lines:
            kp.feed(line)
    return out


NOT_ROW_PARSERS = (
    kl.parse_counter,
    kl.parse_task_in,
    kl.parse_stats_for,
    kl.parse_protection,
    kb._MEMINFO.match,
    parse_table_header,
    kl.parse_cpu_line,
    kl.parse_cpuset_line,
    lambda s: True if s.startswith(("Tasks state", "Hardware name:")) else None,
)
SECTION_PARSERS = (*NOT_ROW_PARSERS, kb.ROWISH.match)


def read_by_none(s: str, phase: str = "stats") -> None:
    """No event or section parser reads a taken line; a taken row only the row reader."""
    assert ko.EVENT_HINT.search(s) is None, s
    if phase == "tasks":
        assert kb.ROWISH.match(s), s
        assert all(not parse(s) for parse in NOT_ROW_PARSERS), s
    else:
        assert all(not parse(s) for parse in SECTION_PARSERS), s


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_logs_read_the_same_with_the_shortcut(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = framed(read(path))
    assert parsed(lines, True, monkeypatch) == parsed(lines, False, monkeypatch)
    for phase, s in taken(lines, monkeypatch):
        read_by_none(s, phase)


def test_the_shortcut_takes_stat_and_trace_lines_and_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    phases = {phase for path in FILES[:10] for phase, _ in taken(framed(read(path)), monkeypatch)}
    assert phases == {"stats", "stack", "tasks"}
    stats = [s for path in FILES[:3] for phase, s in taken(framed(read(path)), monkeypatch)]
    assert any(s.startswith("total_") for s in stats)


HEAD = [
    "stress invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
    "CPU: 3 UID: 0 PID: 4242 Comm: stress Not tainted 6.12.0 #1",
    "Call Trace:",
]
MEMCG = [
    "memory: usage 51200kB, limit 51200kB, failcnt 0",
    "Memory cgroup stats for /a:",
]
TABLE = [
    "Tasks state (memory values in pages):",
    "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
]
TAIL = [
    "[   4242]     0  4242    55342    14367   163840        0             0 stress",
    "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,task=stress,"
    "pid=4242,uid=0",
    "Memory cgroup out of memory: Killed process 4242 (stress) total-vm:221368kB, anon-rss:0kB,"
    " file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:160kB oom_score_adj:0",
]
BODY = st.sampled_from(
    [
        "dump_stack_lvl+0x57/0x80",
        "oom_kill_process.cold+0x8/0x8a",
        "? srso_alias_return_thunk+0x5/0xfbef5",
        "? x cpuset=/ mems_allowed=0",
        "? cpuset=/",
        "x cpuset=/ mems_allowed=0",
        "Mem-Info:",
        "Mem-info",
        "memory:",
        "kmem:usage",
        "Tasks",
        "[",
        "[1]",
        "[  1]     0     1   1   1   1   1   0 a",
        "anon 1024",
        "oom_kill 3",
        "suppressed 1",
        "total_rss 104325120",
        "swap 0",
        "Memory 1",
        "memory: usage 1kB, limit 2kB, failcnt 0",
        "Memory cgroup stats for /b:",
        "Task in /a killed as a result of limit of /a",
        "dump_header: 3 callbacks suppressed",
        "a: page allocation failure: order:0, mode:0x0",
        "Out of memory: Killed process 7 (a) total-vm:1kB, anon-rss:1kB, file-rss:0kB",
        "\u00e9t\u00e9 \u0663",
        "x_1 \u0663\u0664",
        "_ 1",
        "__ 2",
        "a  1",
        "a 1 2",
        "a\t1",
        "a 1\u00b2",
        "a\u00b2 1",
        "\u00e9_x 12",
        "a-b 1",
        "1a 2",
        "0 1",
        "a 1x",
        "",
    ]
)


# task table lines: rows whose comm holds an event word or reads as an event, bad rows
ROWS = st.sampled_from(
    [
        "[   4243]     0  4243    55342    14367   163840        0          -998 pause",
        "[   4244]  1000  4244        1        1        1        1             0 web worker (1)",
        "[   4245]     0  4245        1        1        1        1             0 oom-test",
        "[   4246]     0  4246        1        1        1        1             0 a suppressed",
        "[   4247]     0  4247        1        1        1        1             0 ill process",
        "[   4248]     0  4248        1        1        1        1          0 Killed process 9 (x)",
        "[   4249]     0  4249        1        1        1        1             0 Out of memory and",
        "[   4250]     0  4250        1        x        1        1             0 bad",
        "[   4251]     0  4251        1        1 short",
        "[   4252]     0  4252        1        1        1        1             0 ",
        "[  -1]    -1    -1       -1        1        1        1            -1 ٣٤",
        "[   4253]     0  4253        1        1        1        1             0 Mem-Info:",
        "Tasks state (memory values in pages):",
        "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(BODY, max_size=6),
    st.lists(BODY, max_size=6),
    st.lists(ROWS, max_size=6),
    st.sampled_from([0.001, 20.0]),
    st.integers(0, 30),
)
def test_built_reports_read_the_same_with_the_shortcut(
    stack: list[str], stats: list[str], rows: list[str], step: float, cut: int
) -> None:
    """Lines ``step`` seconds apart (20: a gap ends the report at each line), the report cut
    ``cut`` lines before its end (the log ends inside it)."""
    body = [*HEAD, *stack, *MEMCG, *stats, *TABLE, *rows, *TAIL]
    body = body[: len(body) - cut] + ["x"] * (cut % 2)
    lines = framed([f"[{100 + i * step:12.6f}] {text}" for i, text in enumerate(body)])
    with pytest.MonkeyPatch.context() as mp:
        assert parsed(lines, True, mp) == parsed(lines, False, mp)
        for phase, s in taken(lines, mp):
            read_by_none(s, phase)
