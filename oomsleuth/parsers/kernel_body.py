"""The body of a kernel OOM report: the lines between its header and its kill fill the open
:class:`~oomsleuth.parsers.kernel_draft.Draft`.

The body runs in phases (``Draft.phase``): the stack dump (CPU, cpuset and hardware lines, the
call trace), the memcg block (usage counters, ``Task in``, ``Memory cgroup stats for`` and its
stat lines, protection), the global Mem-Info block and the task table. A section's first line
moves the phase on; the other lines are read as the current phase expects. :func:`starts_fragment`
says whether a line opens a report whose header was lost (cut off or rate-limited).
"""

from __future__ import annotations

import sys

from oomsleuth.model import Where
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.parsers import kernel_lines as kl
from oomsleuth.parsers.kernel_draft import MAX_TRACE, Draft
from oomsleuth.parsers.kernel_outcome_lines import EVENT_HINT
from oomsleuth.parsers.meminfo import MemInfoDraft
from oomsleuth.parsers.taskdump import RawRow, parse_row, parse_table_header

_MEMINFO = lazy_compile(r"^Mem-[Ii]nfo:?\s*$")
ROWISH = lazy_compile(r"^\[\s*-?\d+\]\s+-?\d+\s")
# what the lines _section reads start with: memory/kmem/swap counters, Task in, Memory ...,
# Mem-Info, Tasks state, the table header
_SECTION_FIRSTS = frozenset("mksTM[")
MAX_STATS = 400  # memory.stat lines kept per report
# how the stack dump's CPU/Pid and hardware lines start (the cpuset line has " cpuset=")
_STACK_HEADS = ("CPU: ", "Pid: ", "Hardware name:")


def touch(d: Draft, uptime_s: float | None, where: Where) -> None:
    """Mark ``where`` as the report's last line so far (its end, and where gaps count from)."""
    if uptime_s is not None:
        d.last_uptime = uptime_s
    d.last_where = where


TAKEN, TOUCHED = 1, 2  # what plain_body did (0: nothing)


def plain_body(d: Draft, s: str, lineno: int, text: str, uptime_s: float | None) -> int:
    """Read a body line of the open report ``d`` the general way would read as a memcg stat
    line (``anon 1024``) of the stats phase, a call trace line of the stack phase (no space,
    or only after a leading ``? ``; or any line :func:`feed_body` would add to the trace: one
    that opens no section, is no CPU, cpuset or hardware line, and holds no ``EVENT_HINT``
    word, as register lines) or a task table row of the tasks phase (see :func:`_plain_row`),
    and return ``TAKEN``; else 0, reading nothing. A stat line or row
    touches the report: ``TOUCHED``, and the caller makes ``d.last_where`` this line's
    Where before anything reads or changes it (one Where for a run of such lines).

    ``s`` is the line's ``text``, stripped. The general way (:meth:`KernelParser.feed`) tests the
    line for events, then :func:`feed_body`; here both are skipped, with the same result: with
    neither "oom" nor "suppressed" in it, a stat or call trace line holds no ``EVENT_HINT``
    word (the others have a space after a letter or "-", with a letter after it), no section
    parser reads it (a space, ":" or "-" each needs, or a first character "M" or "["), nor the
    stack dump's CPU/cpuset/hardware readers (the other lines of the stack phase are tested
    for each of these). ``tests/test_kernel_body_fast.py`` checks both ways agree."""
    if d.kills or "oom" in s or "suppressed" in s:
        return 0
    phase = d.phase
    if phase == "stats":
        # kl.parse_stat_line(s), without its regex: "^(\w+) (\d+)$" is a name of word
        # characters (str.isalnum or "_", as re reads \w), one space, decimal digits (\d)
        name, _, value = s.partition(" ")
        if not (value.isdecimal() and name.replace("_", "a").isalnum()):
            return 0
        if len(d.stats) < MAX_STATS and d.stats_path is not None:
            d.stats.append((sys.intern(name), int(value)))
        if len(d.raw) < d.max_raw:
            d.raw.append((lineno, text))
        if uptime_s is not None:  # touch(d, uptime_s, where), but for the Where
            d.last_uptime = uptime_s
        return TOUCHED
    # (the third: any other line feed_body would add to the trace: registers, Code:, Call Trace:)
    if phase == "stack" and (
        (" " not in s and s[:1] not in "M[")
        or (s.startswith("? ") and " " not in s[2:])
        or (
            s[:1] not in _SECTION_FIRSTS
            and " cpuset=" not in s
            and not s.startswith(_STACK_HEADS)
            and EVENT_HINT.search(s) is None
        )
    ):
        if len(d.trace) < MAX_TRACE:
            d.trace.append(s)
        if len(d.raw) < d.max_raw:
            d.raw.append((lineno, text))
        return TAKEN
    if phase == "tasks" and s[:1] == "[" and (row := _plain_row(d, s)) is not None:
        d.rows.append(row)
        if len(d.raw) < d.max_raw:
            d.raw.append((lineno, text))
        if uptime_s is not None:
            d.last_uptime = uptime_s
        return TOUCHED
    return 0


def _plain_row(d: Draft, s: str) -> RawRow | None:
    """A task table row read by the table's header, as :func:`feed_body` would read it; None
    for any other line, and for a row :data:`~.kernel_outcome_lines.EVENT_HINT` finds a word
    of: the general way tests those for events first. Only the comm can hold one (every hint
    word starts with a letter; the columns before it are numbers), so only the comm is
    searched. ``parse_row`` took it, so ``ROWISH`` would have: a number follows the pid."""
    columns = d.columns
    if columns is None or len(columns) < 2:
        return None
    row = parse_row(s, columns)
    return row if row is not None and EVENT_HINT.search(row.comm) is None else None


def feed_body(d: Draft, s: str, uptime_s: float | None, where: Where) -> bool:
    """Take one body line (stripped) of the open report. False: a task-table row that does not
    match the table's header, skipped and counted in ``Draft.bad_rows`` (the caller warns)."""
    phase = d.phase
    if (
        phase == "stack"
        and (s.startswith(_STACK_HEADS) or " cpuset=" in s)  # not a call trace line
        and _stack_line(d, s, uptime_s, where)
    ):
        return True
    if (first := s[:1]) in _SECTION_FIRSTS and _section(d, s, first):
        pass  # a line that opens a section (or a memcg line), read
    elif phase == "stats" and (stat := kl.parse_stat_line(s)) is not None:
        if len(d.stats) < MAX_STATS and d.stats_path is not None:
            d.stats.append(stat)
    elif phase == "meminfo" and d.meminfo is not None and d.meminfo.feed(s):
        pass  # a Mem-Info line, taken by the Mem-Info draft
    elif ROWISH.match(s):
        row = parse_row(s, d.columns)
        if row is None:
            if not d.table_seen:
                return True  # numbers shaped like a row, with no table to read them by
            d.bad_rows += 1
            return False
        d.rows.append(row)
        d.phase = "tasks"
    else:
        if phase == "stack" and len(d.trace) < MAX_TRACE:
            d.trace.append(s)
        return True
    touch(d, uptime_s, where)
    return True


def _section(d: Draft, s: str, first: str) -> bool:
    """The memcg lines and the lines that open a section; ``first`` is the first character of
    ``s`` (stripped), one of ``_SECTION_FIRSTS``: no other can start one of them."""
    if first in "mks" and (counter := kl.parse_counter(s)) is not None:
        d.counters.setdefault(counter[0], counter[1])
        d.phase = "memcg"
    elif first in "TM" and (task_in := kl.parse_task_in(s)) is not None:
        d.task_in, d.phase = d.task_in or task_in, "memcg"
    elif first == "M" and (stats_for := kl.parse_stats_for(s)) is not None:
        if d.stats_path is None:
            d.stats_path = stats_for[0]
            d.stats.extend(stats_for[1])
        d.phase = "stats"
    elif first == "M" and (protection := kl.parse_protection(s)) is not None:
        d.protection = protection
    elif first == "M" and _MEMINFO.match(s):
        d.meminfo, d.phase = d.meminfo or MemInfoDraft(), "meminfo"
    elif first == "T" and s.startswith("Tasks state"):
        d.phase = "tasks"
    elif first == "[" and (columns := parse_table_header(s)) is not None:
        d.columns, d.table_seen, d.phase = columns, True, "tasks"
    else:
        return False
    return True


def _stack_line(d: Draft, s: str, uptime_s: float | None, where: Where) -> bool:
    """The CPU, cpuset and hardware lines of the stack dump; True when ``s`` is one of them."""
    if d.cpu is None and (cpu := kl.parse_cpu_line(s)) is not None:
        d.cpu = cpu
        touch(d, uptime_s, where)
        return True
    if d.cpuset is None and " cpuset=" in s and "mems_allowed=" in s:
        d.cpuset = kl.parse_cpuset_line(s)
        if d.cpuset is not None:
            return True
    if s.startswith("Hardware name:"):
        d.hardware = s.split(":", 1)[1].strip()
        return True
    return False


def starts_fragment(s: str, rows: bool = True) -> bool:
    """A body line that opens a report of its own when no report is open: a memcg counter, a
    ``Task in`` line, the task table's title or header (which names ``oom_score_adj`` or
    ``oom_adj`` in every era), or, with ``rows``, a row of the table or a header naming
    neither (``KernelParser.rows_until``: the scanner allows them in a source's first lines)."""
    if s.startswith("Tasks state") or kl.parse_counter(s) or kl.parse_task_in(s):
        return True
    if parse_table_header(s) is not None:
        return rows or "oom" in s
    return rows and bool(ROWISH.match(s)) and parse_row(s, None) is not None
