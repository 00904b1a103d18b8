"""Recognisers for the lines of a kernel OOM report up to its kill, every era: the ``invoked
oom-killer`` header, the CPU and cpuset lines of the stack dump, the memcg usage counters,
``Task in``/``Memory limit reached of``, ``Memory cgroup stats for`` and its stat lines, the
protection line; and the keyword pre-filter every report line passes. The lines of the outcome
(selection, kill, reaper, endings) are in :mod:`oomsleuth.parsers.kernel_outcome_lines`.

Each function takes message text (framing already stripped) and returns a small tuple or
dataclass, or None. They never raise. Shapes follow ../shared/reference/kernel-oom-report-format.md;
they match on shape, never on kernel version.
"""

from __future__ import annotations

import sys

from oomsleuth.model import Counter, Trigger
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import record

# A cheap pre-filter: every line that can start or feed a report contains one of these literals,
# or, among a source's first lines (scanner.LEADING), looks like a task-table row (ROW_HINT).
# Literals, because an alternation of patterns is slow in Python's re: this test runs on every
# line of a 2 GB log.
KEYWORD_LITERALS = (
    "oom", "Out of memory", "Killed process", "ill process", "Mem-Info", "Mem-info",
    "memory: usage", "Memory cgroup", "Memory limit reached", "Tasks state", "Task in ",
    "page allocation failure", "callbacks suppressed", "messages suppressed", "Kernel panic",
    "deadlocked on memory", "OOM request",
)  # fmt: skip
# a task-table row or header whose report start was cut off: "[ 1804]    89  1804 ..." (read
# only where a source begins with it)
ROW_HINT = lazy_compile(r"\[ *(?:\d+|pid)\] +(?:-?\d+ +-?\d+ +\d+ |uid)")

UNLIMITED_KB = 2**53 // 1024  # 9007199254740988 and friends: PAGE_COUNTER_MAX in kB

_HEADER = lazy_compile(
    r"^(?P<comm>.*?) ?invoked oom-killer: gfp_mask=(?P<mask>0x[0-9a-fA-F]+)"
    r"(?:\((?P<flags>[^)]*)\))?"
    r"(?:, nodemask=(?P<nodemask>[^,]*?))?,\s+order=(?P<order>-?\d+)(?P<tail>.*)$"
)
_HEADER_TAIL = lazy_compile(r"(oom_score_adj|oom_adj|oomkilladj)=(-?\d+)")


def parse_header(text: str) -> Trigger | None:
    if "invoked oom-killer" not in text:
        return None
    m = _HEADER.match(text)
    if m is None:
        comm = text.split(" invoked oom-killer", 1)[0].strip()
        return Trigger(comm=comm or None)
    adj = dict(_HEADER_TAIL.findall(m["tail"]))
    score_adj = adj.get("oom_score_adj")
    old_adj = adj.get("oom_adj", adj.get("oomkilladj"))
    return Trigger(
        comm=m["comm"].strip() or None,
        gfp_mask=m["mask"].lower(),
        gfp_flags=m["flags"],
        order=int(m["order"]),
        oom_score_adj=int(score_adj) if score_adj is not None else None,
        oom_adj=int(old_adj) if old_adj is not None else None,
        nodemask=m["nodemask"],
    )


_CPU_NEW = lazy_compile(
    r"^CPU: \d+ (?:UID: (?P<uid>\d+) )?PID: (?P<pid>\d+) Comm: (?P<comm>.+?) "
    r"(?:Kdump: loaded )?(?:Not tainted|Tainted: [A-Z ]*?)\s*(?P<rel>\d+\.\d+\S*)"
)
_CPU_OLD = lazy_compile(
    r"^Pid: (?P<pid>\d+), comm: (?P<comm>.+?) (?:Not tainted|Tainted: [A-Z ]*?)\s*"
    r"(?P<rel>\d+\.\d+\S*)"
)


@record(frozen=True, slots=True)
class CpuLine:
    pid: int
    comm: str
    uid: int | None
    release: str


def parse_cpu_line(text: str) -> CpuLine | None:
    if not (text.startswith("CPU: ") or text.startswith("Pid: ")):
        return None
    m = _CPU_NEW.match(text) or _CPU_OLD.match(text)
    if m is None:
        return None
    uid = m.groupdict().get("uid")
    return CpuLine(int(m["pid"]), m["comm"], int(uid) if uid else None, m["rel"])


_CPUSET = lazy_compile(r"^(?P<comm>.*) cpuset=(?P<cpuset>\S*) mems_allowed=(?P<mems>\S*)$")


def parse_cpuset_line(text: str) -> tuple[str, str] | None:
    m = _CPUSET.match(text)
    return (m["cpuset"], m["mems"]) if m else None


_COUNTER = lazy_compile(
    r"^(?P<name>memory|memory\+swap|kmem|swap): usage (?P<usage>\d+)kB, limit (?P<limit>\d+)kB"
    r"(?:, failcnt (?P<failcnt>\d+))?"
)


def parse_counter(text: str) -> tuple[str, Counter] | None:
    m = _COUNTER.match(text)
    if m is None:
        return None
    raw = int(m["limit"])
    return m["name"], Counter(
        usage_kb=int(m["usage"]),
        limit_kb=None if raw >= UNLIMITED_KB else raw,
        failcnt=int(m["failcnt"]) if m["failcnt"] is not None else None,
        limit_raw_kb=raw,
    )


_TASK_IN = lazy_compile(r"^Task in (?P<task>.+) killed as a result of limit of (?P<limit>.+?)\s*$")
_LIMIT_OF = lazy_compile(r"^Memory limit reached of cgroup (?P<limit>.+?)\s*$")


def parse_task_in(text: str) -> tuple[str | None, str] | None:
    m = _TASK_IN.match(text)
    if m:
        return m["task"], m["limit"]
    m = _LIMIT_OF.match(text)
    return (None, m["limit"]) if m else None


_STATS_FOR = lazy_compile(r"^Memory cgroup stats for (?P<path>.*?):(?P<rest>(?: \S+:\d+KB)*)\s*$")
_V1_STAT = lazy_compile(r"(\w+):(\d+)KB")


def parse_stats_for(text: str) -> tuple[str, list[tuple[str, int]]] | None:
    """``Memory cgroup stats for X:`` with v1 inline ``name:NKB`` tokens (returned in bytes)."""
    m = _STATS_FOR.match(text)
    if m is None:
        return None
    return m["path"], [(k, int(v) * 1024) for k, v in _V1_STAT.findall(m["rest"])]


STAT_LINE = lazy_compile(r"^(\w+) (\d+)$")


def parse_stat_line(text: str) -> tuple[str, int] | None:
    """A memcg stat line (``anon 1024``); the name interned: every report repeats the same few
    dozen, and hundreds of reports would hold a copy each (``kernel_body.plain_body`` reads
    the same way)."""
    m = STAT_LINE.match(text.strip())
    return (sys.intern(m[1]), int(m[2])) if m else None


_PROTECTION = lazy_compile(r"^Memory cgroup min protection (\d+)kB -- low protection (\d+)kB")


def parse_protection(text: str) -> tuple[int, int] | None:
    m = _PROTECTION.match(text)
    return (int(m[1]), int(m[2])) if m else None
