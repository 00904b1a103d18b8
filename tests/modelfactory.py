"""Builders of realistic model objects, for renderer tests that must not depend on the parser.

Values follow real reports (see shared/reference/kernel-oom-report-format.md): a 6.12 global OOM
with Mem-Info and a task table, a 4.15 cgroup v1 container OOM, a 6.8 cgroup v2 service OOM, a
memory.oom.group pod OOM, a cut-off report, a panic_on_oom report, userspace kills and notices,
and a report whose every string is hostile.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from oomsleuth.model import (
    AllocFailure,
    Boot,
    Constraint,
    Counter,
    Kill,
    MemcgInfo,
    MemInfo,
    OomReport,
    Reap,
    Report,
    Selection,
    Stamp,
    TaskRow,
    Trigger,
    UserspaceKill,
    Victim,
    Warning_,
    Where,
)

UTC = timezone.utc
CEST = timezone(timedelta(hours=2))
NO_LIMIT_KB = 9007199254740988  # PAGE_COUNTER_MAX as printed in kB
GFP_MOVABLE_COMP = "GFP_HIGHUSER_MOVABLE|__GFP_COMP"
HOSTILE_COMM = '\x1b[31m[bold red]x"y\n\u202e'  # ANSI, markup, quote, newline, bidi override
HOSTILE_CGROUP = "/evil/[link=http://x]\x1b]0;pwn\x07\r\x7f\x9b/ü💥"


def where(line: int, source: str = "kern.log") -> Where:
    return Where(source, line)


def stamp(uptime: float | None, wall: datetime | None = None, host: str | None = "web1") -> Stamp:
    return Stamp(uptime_s=uptime, wall=wall, host=host)


def task(pid: int, comm: str, rss_kb: int, **kw: int | None) -> TaskRow:
    """A task-table row of a 6.x kernel; anon/file/shmem split 90/9/1 unless given."""
    values: dict[str, int | None] = {
        "tgid": pid,
        "uid": 0,
        "total_vm_kb": rss_kb * 3 + 10240,
        "rss_anon_kb": rss_kb * 90 // 100,
        "rss_file_kb": rss_kb * 9 // 100,
        "rss_shmem_kb": rss_kb - rss_kb * 90 // 100 - rss_kb * 9 // 100,
        "pgtables_kb": max(4, rss_kb // 500),
        "swap_kb": 0,
        "oom_score_adj": 0,
    }
    values.update(kw)
    return TaskRow(pid=pid, comm=comm, rss_kb=rss_kb, **values)  # type: ignore[arg-type]


def kill(
    victim: Victim,
    line: int,
    uptime: float,
    *,
    wall: datetime | None = None,
    source: str = "kern.log",
    message: str = "Out of memory",
    reap: bool | None = True,
    **kw: bool,
) -> Kill:
    reaper = None
    if reap is not None:
        reaper = Reap(victim.pid, victim.comm, reap, 0, 0, 0, where(line + 1, source))
    # No host on the kill's own stamp: renderers fall back to the report's.
    return Kill(victim, where(line, source), stamp(uptime, wall, None), message, reap=reaper, **kw)


GLOBAL_TASKS = (
    task(266, "systemd-journal", 28824, oom_score_adj=-250),
    task(612, "sshd", 9012, oom_score_adj=-1000),
    task(1001, "postgres", 1_048_576, uid=112),
    task(1002, "postgres", 524_288, uid=112),
    task(2210, "java", 3_145_728, uid=1000, swap_kb=262_144),
    task(3050, "node", 786_432, uid=1000),
    task(3051, "node", 393_216, uid=1000),
    task(3900, "bash", 5120, uid=1000),
    task(4001, "redis-server", 1_572_864, uid=113),
    task(4100, "nginx", 12_288, uid=33),
    task(4242, "stress", 13_613_372, uid=1000, oom_score_adj=200),
    task(4300, "cron", 3072),
)
GLOBAL_MEMINFO = MemInfo(
    page_size_kb=4,
    counters_kb=(
        ("active_anon", 14_200_000),
        ("inactive_anon", 1_200_000),
        ("active_file", 1200),
        ("inactive_file", 900),
        ("shmem", 2432),
        ("slab_reclaimable", 40_000),
        ("slab_unreclaimable", 120_000),
        ("free", 69_520),
    ),
    free_swap_kb=0,
    total_swap_kb=0,
    pagecache_kb=2288,
    swapcache_kb=0,
    ram_kb=16_777_216,
    reserved_kb=32_680,
    hugepages=((0, 0, 2048),),
    unreclaimable_slab=(("kmalloc-256", 20_480, 20_992),),
)


def global_oom_report(source: str = "kern.log", line: int = 100) -> OomReport:
    wall = datetime(2026, 11, 25, 21, 40, 42, 123456, tzinfo=UTC)
    victim = Victim(4242, "stress", 1000, 30_044_644, 13_553_456, 57_484, 2432, 31_820, 200)
    return OomReport(
        where=where(line, source),
        stamp=stamp(115.887001, wall),
        outcome="killed",
        trigger=Trigger("stress", 4242, 1000, "0x140cca", GFP_MOVABLE_COMP, 0, 200),
        kernel="6.12.0-1-amd64",
        hardware="QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.3-debian-1.16.3-2 04/01/2014",
        call_trace=("dump_stack_lvl+0x5d/0x80", "dump_header+0x44/0x18d", "out_of_memory+0x1f7"),
        meminfo=GLOBAL_MEMINFO,
        constraint=Constraint(
            "CONSTRAINT_NONE",
            nodemask="(null)",
            cpuset="/",
            mems_allowed="0",
            global_oom=True,
            task_memcg="/user.slice/user-1000.slice/session-2.scope",
            task="stress",
            pid=4242,
            uid=1000,
        ),
        task_memcg="/user.slice/user-1000.slice/session-2.scope",
        tasks=GLOBAL_TASKS,
        page_size_kb=4,
        page_size_source="buddy",
        kills=(kill(victim, line + 60, 115.888003, wall=wall, source=source),),
        end=where(line + 61, source),
    )


def global_oom_result() -> Report:
    return Report(reports=(global_oom_report(),), sources=("kern.log",), lines_read=400)


def memcg_v1_report(source: str = "messages", line: int = 10) -> OomReport:
    wall = datetime(2026, 3, 4, 2, 53, 56)  # syslog: no zone, naive
    victim = Victim(3120, "java", None, 2_459_188, 521_460, 15_208, 0)
    memcg = MemcgInfo(
        memory=Counter(524_288, 524_288, 1234, 524_288),
        memsw=Counter(524_288, None, 0, NO_LIMIT_KB),
        kmem=Counter(8_672, None, 0, NO_LIMIT_KB),
        version="v1",
        stats_path="/docker/34186d9e",
        stats_bytes=(("cache", 110_592), ("rss", 533_934_080), ("mapped_file", 4096)),
    )
    return OomReport(
        where=where(line, source),
        stamp=stamp(818.234082, wall, "docker-host"),
        outcome="killed",
        trigger=Trigger("java", 3120, None, "0x14000c0", "GFP_KERNEL", 0, 0, cpuset="34186d9e"),
        kernel="4.15.0-112-generic",
        memcg=memcg,
        task_memcg="/docker/34186d9e",
        oom_memcg="/docker/34186d9e",
        tasks=(task(3090, "sh", 420), task(3120, "java", 536_668)),
        page_size_kb=4,
        page_size_source="default",
        selection=Selection(3120, "java", 1012, where(line + 30, source)),
        kills=(
            kill(victim, line + 31, 818.235, wall=wall, source=source,
                 message="Memory cgroup out of memory", reap=None),
        ),
    )  # fmt: skip


def memcg_v1_result() -> Report:
    return Report(reports=(memcg_v1_report(),), sources=("messages",), lines_read=60)


def memcg_v2_report(source: str = "journal.txt", line: int = 40) -> OomReport:
    wall = datetime(2026, 5, 1, 9, 0, 1, tzinfo=CEST)
    cg = "/system.slice/app.service"
    victim = Victim(7001, "python3", 998, 1_320_000, 1_040_000, 6_000, 120, 2_400, 0)
    memcg = MemcgInfo(
        memory=Counter(1_048_576, 1_048_576, 87),
        swap=Counter(0, 0, 0),
        version="v2",
        stats_path=cg,
        stats_bytes=(("anon", 1_064_960_000), ("file", 6_144_000), ("pgfault", 912_345)),
    )
    return OomReport(
        where=where(line, source),
        stamp=stamp(5030.5, wall, "app01"),
        outcome="killed",
        trigger=Trigger("python3", 7002, 998, "0xcc0", "GFP_KERNEL", 0, 0),
        kernel="6.8.0-45-generic",
        memcg=memcg,
        constraint=Constraint("CONSTRAINT_MEMCG", oom_memcg=cg, task_memcg=cg, task="python3"),
        task_memcg=cg,
        oom_memcg=cg,
        tasks=(task(7001, "python3", 1_046_120, uid=998), task(7002, "python3", 2_048, uid=998)),
        page_size_kb=4,
        page_size_source="kill-vs-table",
        kills=(kill(victim, line + 25, 5030.6, wall=wall, source=source,
                    message="Memory cgroup out of memory"),),
    )  # fmt: skip


def memcg_v2_result() -> Report:
    return Report(reports=(memcg_v2_report(),), sources=("journal.txt",), lines_read=90)


def oom_group_report(source: str = "kern.log", line: int = 700) -> OomReport:
    pod = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b.slice"
    victims = [
        Victim(9101, "gunicorn", 0, 600_000, 400_000, 2_000, 0, 900, 999),
        Victim(9102, "gunicorn", 0, 600_000, 380_000, 2_000, 0, 880, 999),
        Victim(9100, "tini", 0, 2_400, 80, 600, 0, 40, 999),
    ]
    kills = tuple(
        kill(v, line + 40 + 2 * i, 9000.25 + i / 1000, source=source, oom_group=True,
             message="Memory cgroup out of memory")
        for i, v in enumerate(victims)
    )  # fmt: skip
    return OomReport(
        where=where(line, source),
        stamp=stamp(9000.2),
        outcome="killed",
        trigger=Trigger("gunicorn", 9101, 0, "0xcc0", "GFP_KERNEL", 0, 999),
        kernel="6.1.0-18-cloud-amd64",
        memcg=MemcgInfo(memory=Counter(786_432, 786_432, 12), version="v2", stats_path=pod),
        constraint=Constraint("CONSTRAINT_MEMCG", oom_memcg=pod, task_memcg=pod, task="gunicorn"),
        oom_memcg=pod,
        task_memcg=pod,
        tasks=tuple(task(v.pid, v.comm, (v.anon_rss_kb or 0) + 2_000) for v in victims),
        page_size_kb=4,
        oom_group=pod,
        kills=kills,
    )


def oom_group_result() -> Report:
    return Report(reports=(oom_group_report(),), sources=("kern.log",), lines_read=800)


def unfinished_report(source: str = "kern.log", line: int = 300) -> OomReport:
    return OomReport(
        where=where(line, source),
        stamp=stamp(2000.0, None, None),
        outcome="unfinished",
        trigger=Trigger("chrome", 5555, None, "0x100cca", "GFP_HIGHUSER_MOVABLE", 0, 300),
        kernel="5.15.0-91-generic",
        meminfo=replace(GLOBAL_MEMINFO, free_swap_kb=1024, total_swap_kb=2_097_152),
        tasks=GLOBAL_TASKS[:3],
        tasks_complete=False,
        page_size_kb=4,
        notes=("cut off in the task table at line 340",),
    )


def unfinished_result() -> Report:
    warning = Warning_(where(340), "report-truncated", "report cut off in the task table")
    return Report(
        reports=(unfinished_report(),), warnings=(warning,), sources=("kern.log",), lines_read=341
    )


def panic_result() -> Report:
    report = OomReport(
        where=where(20, "console.log"),
        stamp=stamp(77.1),
        outcome="panic",
        trigger=Trigger("kworker/u8:2", 88, None, "0x0", None, -1, 0),
        panic="Out of memory: system-wide panic_on_oom is enabled",
        tasks=None,
    )
    return Report(reports=(report,), sources=("console.log",), lines_read=50)


def userspace_result(source: str = "syslog") -> Report:
    wall = datetime(2026, 6, 2, 12, 0, 5, tzinfo=UTC)
    earlyoom = UserspaceKill(
        "earlyoom", where(12, source), stamp(None, wall), 31337, "chrome", None, 1000, "SIGTERM",
        2_500_000, 900, "mem avail: 3% <= 10%", raw="earlyoom[812]: sending SIGTERM to 31337",
    )  # fmt: skip
    oomd = UserspaceKill(
        "systemd-oomd", where(30, source), stamp(None, wall + timedelta(minutes=3)),
        cgroup="/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox.scope",
        reason="memory pressure 72.5% > 50.0% for > 20s", raw="systemd-oomd[701]: Killed ...",
    )  # fmt: skip
    notice = UserspaceKill(
        "systemd", where(31, source), stamp(None, wall + timedelta(minutes=4)), comm="app.service",
        reason="A process of this unit has been killed by the OOM killer.", kind="notice",
    )  # fmt: skip
    failure = AllocFailure(
        where(5, source), stamp(None, wall - timedelta(seconds=9)), "kswapd0", 4, "0x40cc0",
        "GFP_KERNEL|__GFP_COMP",
    )  # fmt: skip
    return Report(
        alloc_failures=(failure,),
        userspace=(earlyoom, oomd, notice),
        sources=(source,),
        lines_read=40,
    )


def hostile_result() -> Report:
    victim = Victim(666, HOSTILE_COMM, 0, 100, 50, 10, 0, 4, 0)
    report = OomReport(
        where=where(1, "h\x1bstile.log"),
        stamp=stamp(1.5, None, "h\x1b[2Jost"),
        outcome="killed",
        trigger=Trigger("пример-🙂 [b]x", 667, 0, "0xcc0", "GFP_KERNEL", 0, 0),
        kernel="6.9.0 [red]\x1b[5m",
        memcg=MemcgInfo(memory=Counter(1, 2, 3), version="v2", stats_bytes=(("a\x1bb", 1),)),
        oom_memcg=HOSTILE_CGROUP,
        task_memcg=HOSTILE_CGROUP,
        tasks=(task(666, HOSTILE_COMM, 60), task(667, "пример-🙂 [b]x", 30)),
        kills=(kill(victim, 9, 1.6, source="h\x1bstile.log"),),
    )
    warning = Warning_(where(5, "h\x1bstile.log"), "odd[bold]", "saw \x1b[31m in [i]text[/i]")
    userspace = UserspaceKill(
        "earlyoom", where(20, "h\x1bstile.log"), stamp(3.0), 1, "\x1b]8;;http://x\x07ok",
        reason="[blink]boom\r\n",
    )  # fmt: skip
    return Report(
        reports=(report,),
        userspace=(userspace,),
        warnings=(warning,),
        sources=("h\x1bstile.log",),
        lines_read=30,
    )


def everything_result() -> Report:
    """Two sources (given out of alphabetical order), every kind of event, tuples out of order."""
    b, a = "node2/kern.log", "node1/syslog"
    user = userspace_result(a)
    reports = (
        oom_group_report(a, 50),
        global_oom_report(b, 100),
        unfinished_report(b, 20),
        memcg_v2_report(a, 10),
    )
    return Report(
        reports=reports,
        alloc_failures=user.alloc_failures,
        userspace=user.userspace,
        boots=(Boot(where(1, b), "0f3c9e", "-- Boot 0f3c9e --"),),
        warnings=(
            Warning_(where(340, b), "report-truncated", "cut off"),
            Warning_(where(55, a), "reaper-orphan", "oom_reaper line without a kill"),
        ),
        sources=(b, a),
        lines_read=1500,
        framings=(("syslog", 900), ("dmesg", 600)),
    )


def empty_result() -> Report:
    return Report(sources=("empty.log",), lines_read=0)


def all_results() -> dict[str, Report]:
    return {
        "global": global_oom_result(),
        "memcg_v1": memcg_v1_result(),
        "memcg_v2": memcg_v2_result(),
        "oom_group": oom_group_result(),
        "unfinished": unfinished_result(),
        "panic": panic_result(),
        "userspace": userspace_result(),
        "hostile": hostile_result(),
        "everything": everything_result(),
        "empty": empty_result(),
    }
