"""``below dump system|process|cgroup -O json`` and ``-O csv`` (facebookincubator/below), read
as its source writes them (``below/dump/src``, ``render/src/default_configs.rs``): no capture.

Columns and JSON keys are the titles below prints, read by name (any ``--fields``, ``--detail``,
``--everything`` mix); JSON is one sample a line, CSV one header and a comma after every cell::

    [{"Datetime":"2026-11-25 23:30:00","Total":"23.5 GB",...,"Timestamp":"1795645800"}  system
    [[{"Pid":"4242","Comm":"leaker","RSS":"1.5 GB","Cgroup":"/system.slice/x.service",...}]
    [{"Name":"<root>",...,"children":[{"Name":"system.slice",...,"children":[...]}]}  (a tree)
    ,{...}]                     (the next lines; the last one closes the array)
    Datetime,Pid,Ppid,Comm,...,Timestamp,Cmdline,Exe Path,      (CSV header, then rows)

Values are strings: human sizes (``1.5 GB``, base 1024, 2-3 digits: ``--raw`` gives bytes),
``12.34%``, ``3.00/s``, ``?``. ``Timestamp`` (epoch) is preferred to ``Datetime`` (local time,
placed in ``tz``). Cgroup OOM events are rates (``Events Kill/s``: kills / interval, rounded
up): they become running totals from the first sample (``cg_oom_kill_count``), adding the
fewest kills the rate allows. The system's ``OOM Kills`` (``/proc/vmstat``, since boot) gives
``oom_kill_count`` per interval; its fall, or a new ``Boot Time Epoch``, is a restart.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, tzinfo
from typing import Any

from oomsleuth.history import FormatInfo
from oomsleuth.history.common import MEMINFO, WarnLimiter, parse_stamp
from oomsleuth.model import Sample, Warning_
from oomsleuth.model.patterns import lazy_compile

_MEMINFO_TITLES = ["Total", "Free", "Available", "Buffers", "Cached", "Swap Cached", "Active"]
_MEMINFO_TITLES += ["Inactive", "Anon Pages", "Shmem", "Slab", "Dirty", "Swap Total", "Swap Free"]
_BYTES = {  # title -> metric, values in bytes (kB once read); system: /proc/meminfo's keys
    "system": {
        t: MEMINFO["Mem" + t if t in ("Total", "Free", "Available") else t.replace(" ", "")]
        for t in _MEMINFO_TITLES
    },
    "process": {
        "RSS": "proc_rss_kb",
        "Anon": "proc_anon_kb",
        "VM Size": "proc_vsz_kb",
        "Swap": "proc_swap_kb",
    },
    "cgroup": {
        "Mem Total": "cg_mem_current_kb",
        "Mem Swap": "cg_swap_current_kb",
        "Mem Anon": "cg_anon_kb",
        "Mem File": "cg_file_kb",
        "Mem Shmem": "cg_shmem_kb",
        "Mem Max": "cg_mem_max_kb",
        "Mem High": "cg_mem_high_kb",
    },
}
_PLAIN = {  # title -> metric, values as they are (rates, percent)
    "system": {
        "Pgscan Kswapd": "pgscank_s",
        "Pgscan Direct": "pgscand_s",
        "Swap In": "pswpin_s",
        "Swap Out": "pswpout_s",
        "Page In": "pgpgin_kb_s",
        "Page Out": "pgpgout_kb_s",
    },
    "process": {"Minflt": "proc_minflt_s", "Majflt": "proc_majflt_s"},
    "cgroup": {"Mem Some Pressure": "cg_psi_some_avg10", "Mem Pressure": "cg_psi_full_avg10"},
}
# what below's human sizes take a unit for: swapped pages 4 KiB, /proc/vmstat kB 512-byte sectors
_SHOWN_AS = {"Swap In": 4096.0, "Swap Out": 4096.0, "Page In": 512.0, "Page Out": 512.0}
_EVENTS = {"Events Kill/s": "cg_oom_kill_count", "Events OOM/s": "cg_oom_count"}
_ROOT_PSI = {"cg_psi_some_avg10": "psi_mem_some_avg10", "cg_psi_full_avg10": "psi_mem_full_avg10"}
_SIZE = lazy_compile(r"(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?) ?(B|KB|MB|GB|TB|PB|EB)")
_UNITS = {u: 1024.0**i for i, u in enumerate(("B", "KB", "MB", "GB", "TB", "PB", "EB"))}
_KEYS = lazy_compile(r'"(?:Datetime|Timestamp)"\s*:\s*"')
_TITLES = lazy_compile(r'"(?:Pid|RSS|Name|Full Path|Mem Total|Total|Free|Available)"\s*:')
_TEXT_COLUMNS = ("Cmdline", "Exe Path", "Comm", "Cgroup", "Full Path", "Name")


def _kind(titles: Iterable[str]) -> str | None:
    names = set(titles)
    if not names & {"Timestamp", "Datetime"}:
        return None
    if "Pid" in names:
        return "process"
    if names & {"Name", "Full Path", "Inode Number"}:
        return "cgroup"
    return "system" if names & {"Total", "Free", "Available", "OOM Kills"} else None


def sniff(head: list[str]) -> bool:
    first = next((line.strip() for line in head if line.strip()), "")
    if first[:1] in "[{":
        return bool(_KEYS.search(first) and _TITLES.search(first))
    return _kind(first.split(",")) is not None


FORMAT = FormatInfo("below", "below dump system|process|cgroup -O json or -O csv", sniff)


def _amount(text: str) -> tuple[float, bool] | None:
    """``1.5 GB`` -> (bytes, True); ``12.34%``, ``3.00/s``, ``7 pages/s``, ``42`` -> (x, False)."""
    text = text.strip().removesuffix("/s").removesuffix(" pages").removesuffix("%")
    if m := _SIZE.fullmatch(text):
        return float(m[1]) * _UNITS[m[2]], True
    try:
        value = float(text)
    except ValueError:
        return None  # "?", "max"
    return (value, False) if math.isfinite(value) else None


class _Below:
    """The state of one dump: its kind, and the counters that span samples."""

    def __init__(self, source: str, tz: tzinfo, keep: Callable[[datetime], bool]) -> None:
        self.source, self.tz, self.keep = source, tz, keep
        self.kind: str | None = None
        self.events: dict[tuple[str, str], tuple[datetime, float]] = {}
        self.kills: float | None = None  # the last sample's OOM Kills and Boot Time Epoch
        self.boot: float | None = None
        self.no_path = False  # CSV cgroup rows named by their last component

    def row(self, row: dict[str, str], when: datetime, entity: str | None) -> Iterator[Sample]:
        kind = self.kind or "system"
        values: dict[str, float] = {}
        for title, metric in _BYTES[kind].items():
            if (got := _amount(row.get(title, "?"))) is not None and got[0] >= 0:
                values[metric] = got[0] / 1024
        for title, metric in _PLAIN[kind].items():
            if (got := _amount(row.get(title, "?"))) is not None:
                values[metric] = got[0] / _SHOWN_AS.get(title, 1.0) if got[1] else got[0]
        if kind == "system":
            yield from self.system(row, when, values)
        elif kind == "cgroup" and entity is not None:
            yield from self.cgroup(row, when, entity, values)
        elif (pid := row.get("Pid", "").strip()).isdigit():
            tags = tuple(
                (label, row[title].strip())
                for title, label in (("Cgroup", "cgroup"), ("Cmdline", "cmdline"), ("Comm", "comm"))
                if row.get(title, "?").strip() not in ("", "?")
            )
            if self.keep(when):
                for metric, value in values.items():
                    yield Sample(when, metric, value, f"pid:{pid}", tags, self.source)

    def system(
        self, row: dict[str, str], when: datetime, values: dict[str, float]
    ) -> Iterator[Sample]:
        steals = [_amount(row.get(t, "?")) for t in ("Pgsteal Kswapd", "Pgsteal Direct")]
        if steals[0] is not None and steals[1] is not None:
            values["pgsteal_s"] = steals[0][0] + steals[1][0]
        if "swap_total_kb" in values and "swap_free_kb" in values:
            values["swap_used_kb"] = values["swap_total_kb"] - values["swap_free_kb"]
        kills, boot = (_amount(row.get(t, "?")) for t in ("OOM Kills", "Boot Time Epoch"))
        restart = boot is not None and self.boot is not None and abs(boot[0] - self.boot) > 2
        if kills is not None and self.kills is not None:
            restart |= kills[0] < self.kills
            if kills[0] >= self.kills:
                values["oom_kill_count"] = kills[0] - self.kills
        self.kills = kills[0] if kills else None
        self.boot = boot[0] if boot else self.boot
        if self.keep(when):
            if restart:
                yield Sample(when, "restart", 0.0, source=self.source)
            for metric, value in values.items():
                yield Sample(when, metric, value, source=self.source)

    def cgroup(
        self, row: dict[str, str], when: datetime, entity: str, values: dict[str, float]
    ) -> Iterator[Sample]:
        for title, metric in _EVENTS.items():
            if (got := _amount(row.get(title, "?"))) is not None:
                values[metric] = self.running_total(entity, metric, got[0], when)
        if not self.keep(when):
            return
        for metric, value in values.items():
            yield Sample(when, metric, value, entity, (), self.source)
        for metric, host in _ROOT_PSI.items():
            if entity == "cgroup:/" and metric in values:
                yield Sample(when, host, values[metric], None, (), self.source)

    def running_total(self, entity: str, metric: str, rate: float, when: datetime) -> float:
        """The kills (or OOM events) so far: the fewest that give below's rounded-up rate."""
        last = self.events.get((entity, metric))
        total = 0.0
        if last is not None:
            seconds = (when - last[0]).total_seconds()
            total = last[1] + (math.floor((rate - 1) * max(seconds, 0)) + 1 if rate > 0 else 0)
        self.events[entity, metric] = (when, total)
        return total


def _cgroup_rows(tree: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Every cgroup of a JSON tree with its path (``Full Path``, else the names from the root)."""
    stack: list[tuple[Any, str | None]] = [(tree, None)]
    while stack:
        node, above = stack.pop()
        if not isinstance(node, dict):
            continue
        name = str(node.get("Name", "?"))
        path = node.get("Full Path") or (
            "" if above is None or name == "<root>" else f"{above.rstrip('/')}/{name}"
        )
        yield node, str(path) or "/"
        children = node.get("children")
        if isinstance(children, list):
            stack += [(child, str(path)) for child in reversed(children)]


def _json_rows(line: str) -> list[tuple[dict[str, Any], str | None]]:
    """The rows of one JSON line: ``[{...}``, ``,{...}``, ``,[...]]``, ``jq -c '.[]'`` lines."""
    text = line.strip().removeprefix(",")
    for i, attempt in enumerate((text, text[1:], text[:-1], text[1:-1])):
        try:
            value = json.loads(attempt)  # the first line opens the dump's array, the last closes it
            break
        except ValueError:
            if i == 3:
                raise
    rows: list[tuple[dict[str, Any], str | None]] = []
    for item in value if isinstance(value, list) else [value]:
        for node in item if isinstance(item, list) else [item]:  # a process sample is a list
            if isinstance(node, dict):
                rows += _cgroup_rows(node) if "children" in node else [(node, None)]
    return rows


def _csv_row(line: str, header: list[str]) -> dict[str, str] | None:
    """A row by the header's titles; a comma inside a command line (below does not quote) is
    given back to the text column it belongs to."""
    cells = line.rstrip("\r\n").removesuffix(",").split(",")
    extra = len(cells) - len(header)
    if extra > 0:
        at = next((header.index(c) for c in _TEXT_COLUMNS if c in header), None)
        if at is None:
            return None
        cells[at : at + extra + 1] = [",".join(cells[at : at + extra + 1])]
    return dict(zip(header, cells, strict=False)) if extra >= 0 else None


def parse(
    lines: Iterable[str],
    *,
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool] = lambda t: True,
    warn: Callable[[Warning_], None] = lambda w: None,
) -> Iterator[Sample]:
    warner = WarnLimiter(warn, source, 20, more="{n} more like it")
    state = _Below(source, tz, keep)
    header: list[str] | None = None
    is_json = False  # the first line says: JSON ("[{", "[[", or "{" / "[" of jq -c) or CSV
    lineno = 0
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line == "]":
            continue
        try:
            if header is None and (is_json or line[0] in "[{"):
                is_json, rows = True, _json_rows(line)
            elif header is None:
                header = line.removesuffix(",").split(",")
                state.kind = _kind(header)
                if state.kind is None:
                    warner(lineno, "below-no-header", f"not a below dump header: {line[:80]!r}")
                    return
                state.no_path = state.kind == "cgroup" and "Full Path" not in header
                continue
            else:
                row = _csv_row(raw, header)
                if row is None:
                    warner(lineno, "below-bad-line", f"{line[:80]!r} does not fit the header")
                    continue
                rows = [(row, None)]
            yield from _rows(state, rows, lineno, warner)
        except ValueError as exc:
            warner(lineno, "below-bad-json", f"cannot read {line[:60]!r}: {exc}")
        except Exception as exc:  # a parser never raises on odd input
            warner(lineno, "below-parse-error", repr(exc)[:200])
    warner.close(lineno)


def _rows(
    state: _Below, rows: list[tuple[dict[str, Any], str | None]], lineno: int, warner: WarnLimiter
) -> Iterator[Sample]:
    for obj, path in rows:
        row = {str(k): str(v) for k, v in obj.items() if not isinstance(v, (list, dict))}
        state.kind = state.kind or _kind(row)
        when = parse_stamp((row.get("Timestamp") or row.get("Datetime", "")).strip(), state.tz)
        if when is None:
            warner(lineno, "below-bad-time", "a row without a readable Timestamp or Datetime")
            continue
        if state.kind == "cgroup" and path is None:
            path = row.get("Full Path") or row.get("Name", "?")
            if state.no_path:
                warner(lineno, "below-no-path", "no Full Path column: cgroups named by Name")
                state.no_path = False
        entity = None if path is None else "cgroup:" + ("/" if path in ("", "<root>") else path)
        yield from state.row(row, when, entity)
