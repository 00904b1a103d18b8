"""atop's parseable output (``atop -r FILE -P MEM,SWP,PAG,PSI,PRG,PRM``), read by position.

Lines are ``LABEL host epoch YYYY/MM/DD HH:MM:SS interval fields...``; ``SEP`` ends a sample,
``RESET`` starts one whose counters run since boot. Field order: ``man atop`` and ``parseable.c``
2.3 to 2.13; versions append fields, so missing or extra trailing ones are fine::

    MEM vm 1795647857 2026/11/25 23:04:17 1 4096 6171023 6014337 64581 2859 ...
        -> mem_total_kb=24684092 (pages * page size), mem_free_kb, cached_kb, ...
    PRG vm 1795647857 ... 1 5 (leak (x) y) S 0 0 5 1 0 1795647855 (python w.py) 1 ... y 0 0 - - ()
    PRM vm 1795647857 ... 1 5 (leak (x) y) S 4096 20712 16948 4 4100 4096 1025 0 ... 5 y ...
        -> entity="pid:5", labels comm="leak (x) y", tgid="5", cmdline="python w.py":
           proc_vsz_kb=20712, proc_rss_kb=16948, proc_swap_kb, proc_minflt_s=1025, ...

Counters (PAG, faults, PSI stall time) are per interval and become rates; in a ``RESET`` sample
they run since boot, so only its gauges are kept. atop reports page scans as one sum (kswapd +
direct + khugepaged): that is ``pgscan_s``, with ``allocstall_s`` for direct-reclaim stalls.
Not canonical either: ``oom_kill_count`` (kills in the interval), ``psi_mem_some_interval_pct``
/ ``psi_mem_full_interval_pct`` (stall time over the interval), ``proc_exit_code`` (a process
that ended in the interval; 256 + signal when killed, so 265 = SIGKILL). Only thread-group
leaders (``is_process`` = y) give per-process samples.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone, tzinfo

from oomsleuth.history import FormatInfo
from oomsleuth.history.common import WarnLimiter
from oomsleuth.model import Sample, Warning_

_HEAD = re.compile(r"[A-Za-z]{3} \S+ \d+ \d{4}/\d\d/\d\d \d\d:\d\d:\d\d -?\d+(?: |$)")
_STATE_END = re.compile(r"\) (\S) ")  # ") S " closes a parenthesised name
_NUMERIC_TAIL = re.compile(r"(?:-?\d+|[yn])(?: (?:-?\d+|[yn]))*")
_PRG_HEAD = re.compile(r"(?:-?\d+ ){6}\(")  # ruid rgid tgid nthr exit btime (cmdline
_PRG_HEAD_Z = re.compile(r"(?:-?\d+ ){6}\S")  # the same with atop -Z
_PRG_CMD_END = re.compile(r"\) (?=(?:-?\d+ ){11}[yn](?: |$))")
_WANTED = ("MEM ", "SWP ", "PAG ", "PSI ", "PRG ", "PRM ")
_MAX_WARNINGS = 20  # per code; one summary warning says how many more there were

# (field index after the six generic fields, metric); index 0 is the page size (not in PSI)
_MEM: tuple[tuple[int, str], ...] = (
    (1, "mem_total_kb"),
    (2, "mem_free_kb"),
    (3, "cached_kb"),
    (4, "buffers_kb"),
    (5, "slab_kb"),
    (6, "dirty_kb"),
    (9, "shmem_kb"),
    (24, "mem_available_kb"),  # atop 2.10 on
)
_PAG: tuple[tuple[int, str], ...] = (
    (1, "pgscan_s"),
    (2, "allocstall_s"),
    (4, "pswpin_s"),
    (5, "pswpout_s"),
)
_PSI: tuple[tuple[int, str], ...] = (
    (5, "psi_mem_some_avg10"),
    (6, "psi_mem_some_avg60"),
    (7, "psi_mem_some_avg300"),
    (9, "psi_mem_full_avg10"),
    (10, "psi_mem_full_avg60"),
    (11, "psi_mem_full_avg300"),
)


def sniff(head: list[str]) -> bool:
    return any(_HEAD.match(line) for line in head)


FORMAT = FormatInfo(
    name="atop",
    description="atop parseable output (atop -r FILE -P MEM,SWP,PAG,PSI,PRG,PRM)",
    sniff=sniff,
)


def _num(token: str) -> float | None:
    try:
        value = float(token)
    except ValueError:
        try:
            value = float(token.replace(",", "."))  # a decimal comma from a non-C locale
        except ValueError:
            return None
    return value if math.isfinite(value) else None


def _at(values: list[float | None], index: int) -> float | None:
    return values[index] if index < len(values) else None


def _split_process(rest: str, label: str) -> tuple[int, str, str, str, bool] | None:
    """``pid (name) state tail`` -> (pid, name, state, tail, zmode); None when it does not fit.

    A name may hold spaces and parentheses: the first ``) X `` after which the tail has the
    label's shape wins. With ``atop -Z`` (zmode) names are single tokens, spaces turned into
    underscores.
    """
    pid_text, _, after = rest.partition(" ")
    if not pid_text.isdigit():
        return None
    fits = _NUMERIC_TAIL.fullmatch if label == "PRM" else _PRG_HEAD.match
    if after.startswith("("):
        for match in _STATE_END.finditer(after, 1):
            tail = after[match.end() :]
            if fits(tail):
                return int(pid_text), after[1 : match.start()], match[1], tail, False
    parts = after.split(" ", 2)
    fits = _NUMERIC_TAIL.fullmatch if label == "PRM" else _PRG_HEAD_Z.match
    if len(parts) == 3 and len(parts[1]) == 1 and fits(parts[2]):
        return int(pid_text), parts[0], parts[1], parts[2], True
    return None


def _prg_fields(tail: str, zmode: bool) -> tuple[int | None, bool, dict[str, str]]:
    """From a PRG tail (after the state): exit code, is_process, cmdline/cgroup/container."""
    if zmode:
        fields = tail.split()
        cmdline = fields[6] if len(fields) > 6 and fields[6] != "_" else ""
        rest = fields[7:]
        cgroup = rest[16] if len(rest) > 16 and rest[16] != "_" else ""
    else:
        head, _, after = tail.partition("(")
        fields = head.split()
        ends = list(_PRG_CMD_END.finditer(after))
        if ends:  # the last ") <11 numbers> y|n": a cmdline cannot fake it past the cgroup path
            cmdline, rest_text = after[: ends[-1].start()], after[ends[-1].end() :]
        else:  # a line cut short: everything up to the last ")"
            cmdline, rest_text = after.rpartition(")")[0], ""
        rest = rest_text.split(" ", 16)
        cgroup = ""
        if len(rest) > 16 and rest[16].startswith("("):
            cgroup = rest[16][1:].rpartition(")")[0]
    labels: dict[str, str] = {}
    if cmdline:
        labels["cmdline"] = cmdline
    if cgroup and cgroup != "-":
        labels["cgroup"] = cgroup
    if len(rest) > 14 and rest[14] not in ("-", "_", ""):
        labels["container"] = rest[14]
    exit_code = _num(fields[4]) if len(fields) > 4 else None
    is_process = len(rest) <= 11 or rest[11] == "y"
    return (int(exit_code) if exit_code is not None else None), is_process, labels


def parse(
    lines: Iterable[str],
    *,
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool] = lambda t: True,
    warn: Callable[[Warning_], None] = lambda w: None,
) -> Iterator[Sample]:
    """Samples from ``atop -P`` text. ``tz`` is unused: the epoch field is exact."""
    warning = WarnLimiter(warn, source, _MAX_WARNINGS, more="{n} more like it")
    since_boot = False  # in a RESET sample counters run since boot: no rates
    # PRG comes before PRM; the previous sample's names cover a PRM that comes first
    names_now: dict[int, tuple[str, dict[str, str]]] = {}
    names_before: dict[int, tuple[str, dict[str, str]]] = {}
    last_epoch, when, kept = "\x00", datetime.min, False  # no epoch yet
    lineno = 0
    for lineno, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if line == "SEP":
            names_before, names_now, since_boot = names_now, {}, False
            continue
        if line == "RESET":
            since_boot = True
            continue
        if not line.strip():
            continue
        if line.startswith("# "):  # a note from external_atop (atop itself never writes "#")
            warning(lineno, "atop-note", line[2:200])
            continue
        if line.startswith(_WANTED):  # fast path, no allocation: a sample keep() refused
            if not kept and line.startswith(last_epoch, line.find(" ", 4) + 1):
                continue
        elif _HEAD.match(line):
            continue  # CPU, PRC, DSK, NET...: valid, not about memory
        parts = line.split(" ", 6)
        if not _HEAD.match(line) or len(parts) < 7:
            if _HEAD.match(line):
                warning(lineno, "atop-short-line", f"{parts[0]} line without fields")
            else:
                warning(lineno, "atop-unparsable-line", f"not atop -P output: {line[:80]!r}")
            continue
        label, _, epoch, _, _, interval_text, rest = parts
        if epoch + " " != last_epoch:
            try:
                when = datetime.fromtimestamp(int(epoch), timezone.utc)
            except (ValueError, OverflowError, OSError):
                warning(lineno, "atop-bad-time", f"epoch {epoch[:20]} is out of range")
                continue
            last_epoch, kept = epoch + " ", keep(when)  # with its space, for the fast path
        if not kept:
            continue
        interval = int(interval_text)
        rates = interval > 0 and not since_boot
        if label in ("PRG", "PRM"):
            proc = _split_process(rest, label)
            if proc is None:
                warning(lineno, "atop-unparsable-line", f"{label} line: no pid (name) state")
                continue
            pid, comm, state, tail, zmode = proc
            if label == "PRG":
                exit_code, is_process, extra = _prg_fields(tail, zmode)
                names_now[pid] = (comm, extra)
                if state == "E" and exit_code and is_process:  # 0: a normal exit
                    tags = (("comm", comm), *sorted(extra.items()))
                    yield Sample(when, "proc_exit_code", exit_code, f"pid:{pid}", tags, source)
            else:
                known = names_now.get(pid) or names_before.get(pid)
                extra = known[1] if known and known[0] == comm else {}
                samples = _prm(when, pid, comm, state, tail, extra, interval if rates else 0)
                if samples is None:
                    warning(lineno, "atop-short-line", f"PRM line of pid {pid} is cut short")
                yield from (Sample(*s, source) for s in samples or ())
            continue
        if label == "PSI" and not rest.startswith("y "):
            continue  # "n": no PSI on that kernel
        values = [_num(f) for f in rest.split()]
        for metric, value in _system(label, values, interval if rates else 0):
            yield Sample(when, metric, value, None, (), source)
        if label != "PSI" and (not values or values[0] is None or values[0] <= 0):
            warning(lineno, "atop-short-line", f"{label} line without a page size")
    warning.close(lineno)


def _prm(
    when: datetime, pid: int, comm: str, state: str, tail: str, extra: dict[str, str], interval: int
) -> list[tuple[datetime, str, float, str, tuple[tuple[str, str], ...]]] | None:
    """The samples of one PRM line, without their source (interval 0: no rates); None if cut."""
    fields = tail.split(" ")
    if len(fields) < 12:
        return None
    if (len(fields) > 13 and fields[13] == "n") or state == "E":
        return []  # a thread, or a process that ended in the interval (its sizes read 0)
    tgid = fields[12] if len(fields) > 12 else str(pid)
    tags = tuple(sorted([("comm", comm), ("tgid", tgid), *extra.items()]))
    wanted = [(2, "proc_rss_kb", 1.0), (1, "proc_vsz_kb", 1.0), (11, "proc_swap_kb", 1.0)]
    if interval > 0:
        wanted += [(6, "proc_minflt_s", 1 / interval), (7, "proc_majflt_s", 1 / interval)]
    entity = f"pid:{pid}"
    return [
        (when, metric, value * scale, entity, tags)
        for index, metric, scale in wanted
        if (value := _num(fields[index])) is not None
    ]


def _system(label: str, values: list[float | None], interval: int) -> list[tuple[str, float]]:
    """Host-wide metrics of a MEM, SWP, PAG or PSI line (interval 0: no rates)."""
    out: list[tuple[str, float]] = []
    if label == "PSI":  # values[0] is None: the "y" of "PSI present"
        if len(values) < 12:
            return out
        out = [(m, v) for i, m in _PSI if (v := _at(values, i)) is not None]
        for index, metric in ((8, "psi_mem_some_interval_pct"), (12, "psi_mem_full_interval_pct")):
            if interval > 0 and (v := _at(values, index)) is not None:
                out.append((metric, v / interval / 1e4))  # microseconds -> percent
        return out
    page = _at(values, 0)
    if page is None or page <= 0:
        return out
    kb = page / 1024
    if label == "MEM":
        out = [(m, v * kb) for i, m in _MEM if (v := _at(values, i)) is not None]
    elif label == "SWP":
        total, free = _at(values, 1), _at(values, 2)
        if total is not None and free is not None:
            out += [("swap_total_kb", total * kb), ("swap_free_kb", free * kb)]
            out.append(("swap_used_kb", (total - free) * kb))
        # atop 2.6 put the swap cache before the committed space (5 fields before, 6+ after)
        cached, commit = (
            (_at(values, 3), _at(values, 4)) if len(values) > 5 else (None, _at(values, 3))
        )
        for metric, v in (("swap_cached_kb", cached), ("commit_kb", commit)):
            if v is not None:
                out.append((metric, v * kb))
    elif label == "PAG" and interval > 0:
        out = [(m, v / interval) for i, m in _PAG if (v := _at(values, i)) is not None]
        for index, metric in ((10, "pgpgin_kb_s"), (11, "pgpgout_kb_s")):
            if (v := _at(values, index)) is not None:
                out.append((metric, v * kb / interval))
        if (kills := _at(values, 6)) is not None and kills >= 0:  # -1: kernel without oom_kill
            out.append(("oom_kill_count", kills))
    return out
