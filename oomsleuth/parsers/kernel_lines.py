"""Recognisers for the single lines of a kernel OOM report, every era.

Each function takes message text (framing already stripped) and returns a small tuple or
dataclass, or None. They never raise. Shapes follow ../shared/reference/kernel-oom-report-format.md;
they match on shape, never on kernel version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oomsleuth.model import Constraint, Counter, Trigger, Victim

# A cheap pre-filter: every line that can start or feed a report contains one of these literals,
# or looks like a task-table row (ROW_HINT). Literals, because an alternation of patterns is slow
# in Python's re: this test runs on every line of a 2 GB log.
KEYWORD_LITERALS = (
    "oom", "Out of memory", "Killed process", "ill process", "Mem-Info", "Mem-info",
    "memory: usage", "Memory cgroup", "Memory limit reached", "Tasks state", "Task in ",
    "page allocation failure", "callbacks suppressed", "messages suppressed", "Kernel panic",
    "deadlocked on memory", "OOM request",
)  # fmt: skip
# a task-table row or header whose report start was cut off: "[ 1804]    89  1804 ..."
ROW_HINT = re.compile(r"\[ *(?:\d+|pid)\] +(?:-?\d+ +-?\d+ +\d+ |uid)")

UNLIMITED_KB = 2**53 // 1024  # 9007199254740988 and friends: PAGE_COUNTER_MAX in kB

_HEADER = re.compile(
    r"^(?P<comm>.*?) ?invoked oom-killer: gfp_mask=(?P<mask>0x[0-9a-fA-F]+)"
    r"(?:\((?P<flags>[^)]*)\))?"
    r"(?:, nodemask=(?P<nodemask>[^,]*?))?,\s+order=(?P<order>-?\d+)(?P<tail>.*)$"
)
_HEADER_TAIL = re.compile(r"(oom_score_adj|oom_adj|oomkilladj)=(-?\d+)")


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


_CPU_NEW = re.compile(
    r"^CPU: \d+ (?:UID: (?P<uid>\d+) )?PID: (?P<pid>\d+) Comm: (?P<comm>.+?) "
    r"(?:Kdump: loaded )?(?:Not tainted|Tainted: [A-Z ]*?)\s*(?P<rel>\d+\.\d+\S*)"
)
_CPU_OLD = re.compile(
    r"^Pid: (?P<pid>\d+), comm: (?P<comm>.+?) (?:Not tainted|Tainted: [A-Z ]*?)\s*"
    r"(?P<rel>\d+\.\d+\S*)"
)


@dataclass(frozen=True, slots=True)
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


_CPUSET = re.compile(r"^(?P<comm>.*) cpuset=(?P<cpuset>\S*) mems_allowed=(?P<mems>\S*)$")


def parse_cpuset_line(text: str) -> tuple[str, str] | None:
    m = _CPUSET.match(text)
    return (m["cpuset"], m["mems"]) if m else None


_COUNTER = re.compile(
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


_TASK_IN = re.compile(r"^Task in (?P<task>.+) killed as a result of limit of (?P<limit>.+?)\s*$")
_LIMIT_OF = re.compile(r"^Memory limit reached of cgroup (?P<limit>.+?)\s*$")


def parse_task_in(text: str) -> tuple[str | None, str] | None:
    m = _TASK_IN.match(text)
    if m:
        return m["task"], m["limit"]
    m = _LIMIT_OF.match(text)
    return (None, m["limit"]) if m else None


_STATS_FOR = re.compile(r"^Memory cgroup stats for (?P<path>.*?):(?P<rest>(?: \S+:\d+KB)*)\s*$")
_V1_STAT = re.compile(r"(\w+):(\d+)KB")


def parse_stats_for(text: str) -> tuple[str, list[tuple[str, int]]] | None:
    """``Memory cgroup stats for X:`` with v1 inline ``name:NKB`` tokens (returned in bytes)."""
    m = _STATS_FOR.match(text)
    if m is None:
        return None
    return m["path"], [(k, int(v) * 1024) for k, v in _V1_STAT.findall(m["rest"])]


_STAT_LINE = re.compile(r"^(\w+) (\d+)$")


def parse_stat_line(text: str) -> tuple[str, int] | None:
    m = _STAT_LINE.match(text.strip())
    return (m[1], int(m[2])) if m else None


_PROTECTION = re.compile(r"^Memory cgroup min protection (\d+)kB -- low protection (\d+)kB")


def parse_protection(text: str) -> tuple[int, int] | None:
    m = _PROTECTION.match(text)
    return (int(m[1]), int(m[2])) if m else None


_SUMMARY_TASK = re.compile(r",task=(?P<task>.*),pid=(?P<pid>\d+),uid=(?P<uid>\d+)\s*$")


def parse_summary(text: str) -> Constraint | None:
    """The 5.0+ ``oom-kill:constraint=...`` line; ``task=`` may contain commas."""
    if not text.startswith("oom-kill:"):
        return None
    body = text[len("oom-kill:") :].strip()
    task = pid = uid = None
    m = _SUMMARY_TASK.search(body)
    if m:
        task, pid, uid = m["task"], int(m["pid"]), int(m["uid"])
        body = body[: m.start()]
    fields: dict[str, str] = {}
    flags: set[str] = set()
    for part in body.split(","):
        key, sep, value = part.partition("=")
        if sep:
            fields[key.strip()] = value
        elif part.strip():
            flags.add(part.strip())
    return Constraint(
        constraint=fields.get("constraint"),
        nodemask=fields.get("nodemask"),
        cpuset=fields.get("cpuset"),
        mems_allowed=fields.get("mems_allowed"),
        global_oom="global_oom" in flags,
        oom_memcg=fields.get("oom_memcg", fields.get("origin_memcg")),
        task_memcg=fields.get("task_memcg", fields.get("kill_memcg")),
        task=task,
        pid=pid,
        uid=uid,
    )


_KILLED = re.compile(
    r"^(?:(?P<msg>[^:]*[^:\s]): )?Killed process (?P<pid>\d+)(?:, UID (?P<uid_a>\d+),)? "
    r"\((?P<comm>.*?)\)(?=,? (?:total-vm|vsz):|, UID \d+|\.?\s*$)(?P<rest>.*)$"
)
_KILLED_FIELD = re.compile(
    r"(total-vm|vsz|anon-rss|file-rss|shmem-rss|pgtables):(\d+)(kB)?|(UID)[: ](\d+)|"
    r"(oom_score_adj):(-?\d+)"
)


@dataclass(frozen=True, slots=True)
class KilledLine:
    message: str | None
    victim: Victim
    pgtables_unit_missing: bool


def parse_killed(text: str) -> KilledLine | None:
    if "Killed process" not in text:
        return None
    m = _KILLED.match(text)
    if m is None:
        return None
    sizes: dict[str, int] = {}
    uid = int(m["uid_a"]) if m["uid_a"] else None
    adj = None
    unit_missing = False
    for name, value, unit, uid_key, uid_val, adj_key, adj_val in _KILLED_FIELD.findall(m["rest"]):
        if name:
            sizes[name] = int(value)
            if name == "pgtables" and not unit:
                unit_missing = True
        elif uid_key:
            uid = int(uid_val)
        elif adj_key:
            adj = int(adj_val)
    victim = Victim(
        pid=int(m["pid"]),
        comm=m["comm"],
        uid=uid,
        total_vm_kb=sizes.get("total-vm", sizes.get("vsz")),
        anon_rss_kb=sizes.get("anon-rss"),
        file_rss_kb=sizes.get("file-rss"),
        shmem_rss_kb=sizes.get("shmem-rss"),
        pgtables_kb=None if unit_missing else sizes.get("pgtables"),
        oom_score_adj=adj,
    )
    return KilledLine(m["msg"], victim, unit_missing)


_SELECT = re.compile(
    r"^(?:(?P<msg>.*?): )?[Kk]ill process (?P<pid>\d+) \((?P<comm>.*)\) score (?P<score>-?\d+)"
    r"\s*(?:or sacrifice child|or a child|and children)"
)


def parse_selection(text: str) -> tuple[str | None, int, str, int] | None:
    if "ill process" not in text:
        return None
    m = _SELECT.match(text)
    if m is None:
        return None
    return m["msg"], int(m["pid"]), m["comm"], int(m["score"])


_REAPED = re.compile(
    r"^oom_reaper: reaped process (?P<pid>\d+) \((?P<comm>.*)\), now anon-rss:(?P<anon>\d+)kB, "
    r"file-rss:(?P<file>\d+)kB(?:, shmem-rss:(?P<shmem>\d+)kB)?"
)
_UNABLE = re.compile(r"^oom_reaper: unable to reap pid:(?P<pid>\d+) \((?P<comm>.*)\)")


@dataclass(frozen=True, slots=True)
class ReaperLine:
    pid: int
    comm: str
    reaped: bool
    anon_kb: int | None = None
    file_kb: int | None = None
    shmem_kb: int | None = None


def parse_reaper(text: str) -> ReaperLine | None:
    if not text.startswith("oom_reaper:"):
        return None
    m = _REAPED.match(text)
    if m:
        shmem = m["shmem"]
        return ReaperLine(
            int(m["pid"]),
            m["comm"],
            True,
            int(m["anon"]),
            int(m["file"]),
            int(shmem) if shmem is not None else None,
        )
    m = _UNABLE.match(text)
    return ReaperLine(int(m["pid"]), m["comm"], False) if m else None


_OOM_GROUP = re.compile(
    r"^Tasks in (?P<path>.+) are going to be killed due to memory\.oom\.group set"
)


def parse_oom_group(text: str) -> str | None:
    m = _OOM_GROUP.match(text)
    return m["path"] if m else None


_SUPPRESSED = re.compile(r"^(?P<func>\w+): (?P<n>\d+) callbacks suppressed")
_OLD_SUPPRESSED = re.compile(r"^printk: (?P<n>\d+) messages suppressed")
OOM_FUNCS = ("oom_kill_process", "dump_header", "out_of_memory", "mem_cgroup_out_of_memory")


def parse_suppressed(text: str) -> tuple[str, int] | None:
    m = _SUPPRESSED.match(text)
    if m:
        return m["func"], int(m["n"])
    m = _OLD_SUPPRESSED.match(text)
    return ("printk", int(m["n"])) if m else None


_ALLOC_FAIL = re.compile(
    r"^(?P<comm>.*?): page allocation failure[.:] order:(?P<order>\d+), "
    r"mode:(?P<mask>0x[0-9a-fA-F]+)(?:\((?P<flags>[^)]*)\))?"
)


def parse_alloc_failure(text: str) -> tuple[str, int, str, str | None] | None:
    if "page allocation failure" not in text:
        return None
    m = _ALLOC_FAIL.match(text)
    return (m["comm"], int(m["order"]), m["mask"].lower(), m["flags"]) if m else None


def classify_ending(text: str) -> tuple[str, str] | None:
    """Lines that end a report without a kill: (outcome, reason)."""
    if "panic_on_oom is " in text:
        return "panic", text.strip()
    if "Out of memory and no killable processes" in text:
        return "no-killable", text.strip()
    if "System is deadlocked on memory" in text:
        return "deadlock", text.strip()
    if "OOM request ignored" in text:
        return "ignored", text.strip()
    if text.startswith("Kernel panic - not syncing"):
        return "interrupted", text.strip()
    return None
