"""The fields of atop's parseable lines (``atop -P``): which field of a MEM, SWP, PAG or PSI
line holds what, and how a PRG or PRM line is cut into pid, name, state and the fields after.

Field order: ``man atop`` and ``parseable.c`` 2.3 to 2.13; versions append fields, so missing or
extra trailing ones are fine. Indexes count from the first field after the six generic ones
(``LABEL host epoch YYYY/MM/DD HH:MM:SS interval``). Every function takes the text after the
generic fields; none raises on odd input.
"""

from __future__ import annotations

import math
from datetime import datetime

from oomsleuth.model import Sample
from oomsleuth.model.patterns import lazy_compile

_STATE_END = lazy_compile(r"\) (\S) ")  # ") S " closes a parenthesised name
_NUMERIC_TAIL = lazy_compile(r"(?:-?\d+|[yn])(?: (?:-?\d+|[yn]))*")
_PRG_HEAD = lazy_compile(r"(?:-?\d+ ){6}\(")  # ruid rgid tgid nthr exit btime (cmdline
_PRG_HEAD_Z = lazy_compile(r"(?:-?\d+ ){6}\S")  # the same with atop -Z
_PRG_CMD_END = lazy_compile(r"\) (?=(?:-?\d+ ){11}[yn](?: |$))")

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


def num(token: str) -> float | None:
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


def split_process(rest: str, label: str) -> tuple[int, str, str, str, bool] | None:
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


def prg_fields(tail: str, zmode: bool) -> tuple[int | None, bool, dict[str, str]]:
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
    exit_code = num(fields[4]) if len(fields) > 4 else None
    is_process = len(rest) <= 11 or rest[11] == "y"
    return (int(exit_code) if exit_code is not None else None), is_process, labels


def prm(
    when: datetime,
    pid: int,
    comm: str,
    state: str,
    tail: str,
    extra: dict[str, str],
    interval: int,
    source: str,
) -> list[Sample] | None:
    """The samples of one PRM line (interval 0: no rates); None if cut short."""
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
        Sample(when, metric, value * scale, entity, tags, source)
        for index, metric, scale in wanted
        if (value := num(fields[index])) is not None
    ]


def system(label: str, values: list[float | None], interval: int) -> list[tuple[str, float]]:
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
