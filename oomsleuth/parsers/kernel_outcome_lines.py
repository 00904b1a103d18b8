"""Recognisers for the lines that end a kernel OOM report or follow it, every era: the victim
selection (``Kill process N (x) score S or sacrifice child``), the ``oom-kill:`` summary,
``Killed process``, the oom_reaper's line, ``memory.oom.group``; and what ends or interrupts a
report without a kill: rate-limit notices (``callbacks suppressed``), page allocation failures,
``panic_on_oom``, no killable process, a panic.

Each function takes message text (framing already stripped) and returns a small tuple or
dataclass, or None. They never raise; they match on shape, never on kernel version.
"""

from __future__ import annotations

from oomsleuth.model import Constraint, Victim
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import record

# Every line the event parsers read (the header's kernel_lines.parse_header and those here)
# holds one of these: a cheap test before trying them all. "oom" is in the header, oom-kill:,
# oom_reaper:, memory.oom.group and panic_on_oom lines.
EVENT_HINT = lazy_compile(
    r"oom|ill process|illed process|suppressed|page allocation failure|Out of memory and"
    r"|deadlocked on memory|OOM request ignored|Kernel panic - not syncing"
)
_SUMMARY_TASK = lazy_compile(r",task=(?P<task>.*),pid=(?P<pid>\d+),uid=(?P<uid>\d+)\s*$")


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


_KILLED = lazy_compile(
    r"^(?:(?P<msg>.*?\S): )?Killed process (?P<pid>\d+)(?:, UID (?P<uid_a>\d+),)? "
    r"\((?P<comm>.*?)\)(?=,? (?:total-vm|vsz):|, UID \d+|\.?\s*$)(?P<rest>.*)$"
)
_KILLED_FIELD = lazy_compile(
    r"(total-vm|vsz|anon-rss|file-rss|shmem-rss|pgtables):(\d+)(kB)?|(UID)[: ](\d+)|"
    r"(oom_score_adj):(-?\d+)"
)


@record(frozen=True, slots=True)
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


_SELECT = lazy_compile(
    r"^(?:(?P<msg>.*?): )?[Kk]ill process (?P<pid>\d+) \((?P<comm>.*)\) score (?P<score>-?\d+)"
    r"\s*(?:or sacrifice child|or a child|and children)"
)


SelectionLine = tuple[str | None, int, str, int]  # (message, pid, comm, score)


def parse_selection(text: str) -> SelectionLine | None:
    if "ill process" not in text:
        return None
    m = _SELECT.match(text)
    if m is None:
        return None
    return m["msg"], int(m["pid"]), m["comm"], int(m["score"])


_REAPED = lazy_compile(
    r"^oom_reaper: reaped process (?P<pid>\d+) \((?P<comm>.*)\), now anon-rss:(?P<anon>\d+)kB, "
    r"file-rss:(?P<file>\d+)kB(?:, shmem-rss:(?P<shmem>\d+)kB)?"
)
_UNABLE = lazy_compile(r"^oom_reaper: unable to reap pid:(?P<pid>\d+) \((?P<comm>.*)\)")


@record(frozen=True, slots=True)
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


_OOM_GROUP = lazy_compile(
    r"^Tasks in (?P<path>.+) are going to be killed due to memory\.oom\.group set"
)


def parse_oom_group(text: str) -> str | None:
    m = _OOM_GROUP.match(text)
    return m["path"] if m else None


_SUPPRESSED = lazy_compile(r"^(?P<func>\w+): (?P<n>\d+) callbacks suppressed")
_OLD_SUPPRESSED = lazy_compile(r"^printk: (?P<n>\d+) messages suppressed")
OOM_FUNCS = ("oom_kill_process", "dump_header", "out_of_memory", "mem_cgroup_out_of_memory")


def parse_suppressed(text: str) -> tuple[str, int] | None:
    m = _SUPPRESSED.match(text)
    if m:
        return m["func"], int(m["n"])
    m = _OLD_SUPPRESSED.match(text)
    return ("printk", int(m["n"])) if m else None


_ALLOC_FAIL = lazy_compile(
    r"^(?P<comm>.*?): page allocation failure[.:] order:(?P<order>\d+), "
    r"mode:(?P<mask>0x[0-9a-fA-F]+)(?:\((?P<flags>[^)]*)\))?"
)


AllocFailureLine = tuple[str, int, str, str | None]  # (comm, order, gfp mask, gfp flags)


def parse_alloc_failure(text: str) -> AllocFailureLine | None:
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
