"""sysstat ``sadf -d`` (semicolon CSV) and ``sadf -j`` (JSON) output.

``sadf -d`` sample input and what it gives::

    # hostname;interval;timestamp;kbmemfree;kbavail;kbmemused;%memused;...
    vm;1;2026-11-25 23:01:10 UTC;23818476;23874028;531360;2.15;...
        -> Sample(2026-11-25 23:01:10 UTC, "mem_free_kb", 23818476.0), "mem_available_kb", ...
    vm;-1;2026-11-25 23:01:16 UTC;LINUX-RESTART	(2 CPU)    -> Sample(..., "restart", 0.0)

Each ``#`` header starts a section; columns are read by name (the names ``sar`` prints, see
``sar.COLUMNS``), so any activity mix works (``-- -A``, ``-h`` on one line); sections without a
memory column are skipped after one look at each line. Timestamps: ``... UTC`` (the default),
without a zone (``-T``/``-t``: local, placed in ``tz``) or seconds since the epoch (``-U``).

``sadf -j`` sample input::

    {"sysstat": {"hosts": [{"nodename": "vm", ..., "statistics": [
        {"timestamp": {"date": "2026-11-25", "time": "23:01:10", "utc": 1, "interval": 1},
         "memory": {"memfree": 23818476, "avail": 23874028, ...}, "paging": {...},
         "swap-pages": {...}, "queue": {...}, "psi": {"psi-mem": {"some_avg10": 0.0, ...}}}, ...],
      "restarts": [{"boot": {"date": "2026-11-25", "time": "23:01:16", "utc": 1, ...}}]}]}}

It is read without loading the document: each ``{"timestamp": ...}`` statistics item and each
``"boot"`` restart object is cut out of a sliding buffer with ``json.JSONDecoder.raw_decode``.
Samples are placed in ``tz`` (UTC stamps converted, zoneless ones taken as local).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone, tzinfo
from itertools import chain
from math import isfinite
from typing import Any

from oomsleuth.history import FormatInfo
from oomsleuth.history.common import WarnLimiter
from oomsleuth.history.sar import checked_row, plan, warn_limiter
from oomsleuth.model import Sample, Warning_
from oomsleuth.model.patterns import lazy_compile

# sadf -j activity -> {key: canonical metric}
JSON_KEYS: dict[str, dict[str, str]] = {
    "memory": {
        "memfree": "mem_free_kb",
        "avail": "mem_available_kb",
        "memused": "mem_used_kb",
        "buffers": "buffers_kb",
        "cached": "cached_kb",
        "commit": "commit_kb",
        "commit-percent": "commit_pct",
        "active": "active_kb",
        "inactive": "inactive_kb",
        "dirty": "dirty_kb",
        "anonpg": "anon_kb",
        "slab": "slab_kb",
        "swpfree": "swap_free_kb",
        "swpused": "swap_used_kb",
        "swpcad": "swap_cached_kb",
    },
    "hugepages": {"hugused": "hugepages_used_kb"},
    "swap-pages": {"pswpin": "pswpin_s", "pswpout": "pswpout_s"},
    "paging": {
        "pgpgin": "pgpgin_kb_s",
        "pgpgout": "pgpgout_kb_s",
        "fault": "fault_s",
        "majflt": "majflt_s",
        "pgfree": "pgfree_s",
        "pgscank": "pgscank_s",
        "pgscand": "pgscand_s",
        "pgsteal": "pgsteal_s",
        "vmeff-percent": "vmeff_pct",
    },
    "queue": {"ldavg-1": "load_1", "runq-sz": "runq_sz", "blocked": "blocked"},
    "psi-mem": {
        f"{kind}_avg{span}": f"psi_mem_{kind}_avg{span}"
        for kind in ("some", "full")
        for span in (10, 60, 300)
    },
}
_STAMP = lazy_compile(r"(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?: (\S+))?$")
_JSON_START = lazy_compile(r'\{\s*"timestamp"\s*:|"boot"\s*:\s*(?=\{)')
_JSON_HEAD = lazy_compile(r'\s*\{\s*"sysstat"\s*:')
_MAX_ITEM = 1 << 25  # chars one JSON item may take before we give up on it
_TAIL = 256  # chars kept between lines: a start marker may straddle them


def sniff(head: list[str]) -> bool:
    text = "\n".join(line for line in head[:10] if line.strip())
    if _JSON_HEAD.match(text):
        return True
    for raw in head:
        line = raw.strip()
        if line.startswith("# hostname;interval;timestamp;"):
            return True
        cells = line.split(";", 3)
        if len(cells) == 4 and cells[1].lstrip("-").isdigit() and _stamp(cells[2]) is not None:
            return True
    return False


FORMAT = FormatInfo(
    name="sadf", description="sysstat sadf -d (CSV) and sadf -j (JSON) output", sniff=sniff
)


def _stamp(text: str, tz: tzinfo = timezone.utc) -> datetime | None:
    if text.isdigit():
        try:
            return datetime.fromtimestamp(int(text), timezone.utc).astimezone(tz)
        except (ValueError, OverflowError, OSError):
            return None
    match = _STAMP.match(text)
    if match is None or match[7] not in (None, "UTC", "GMT"):
        return None
    y, mo, d, h, mi, sec = (int(match[i]) for i in range(1, 7))
    try:
        if match[7]:
            return datetime(y, mo, d, h, mi, sec, tzinfo=timezone.utc).astimezone(tz)
        return datetime(y, mo, d, h, mi, sec, tzinfo=tz)
    except ValueError:
        return None


def parse(
    lines: Iterable[str],
    *,
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool] = lambda t: True,
    warn: Callable[[Warning_], None] = lambda w: None,
) -> Iterator[Sample]:
    warner = warn_limiter(source, warn)
    it = iter(lines)
    head: list[str] = []
    for raw in it:
        head.append(raw)
        if raw.strip():
            break
    lines = chain(head, it)
    if head and head[-1].lstrip().startswith("{"):
        yield from _parse_json(lines, source, tz, keep, warner)
    else:
        yield from _parse_csv(lines, source, tz, keep, warner)


def _parse_csv(
    lines: Iterable[str],
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool],
    warner: WarnLimiter,
) -> Iterator[Sample]:
    columns: list[tuple[int, str]] = []
    width = 0
    for lineno, raw in enumerate(lines, 1):
        try:
            line = raw.rstrip("\r\n")
            if line.startswith("#"):
                names = line[1:].strip().split(";")
                columns, width = plan(names), len(names)
                if names[0] != "hostname":  # a note, e.g. from oomsleuth.load.sa_binary
                    warner(lineno, "sadf-note", line[1:].strip())
                continue
            if not columns and "RESTART" not in line:
                continue  # a section of no interest, or junk
            cells = line.split(";")
            if len(cells) < 4:
                if line.strip():
                    warner(lineno, "sadf-bad-row", f"not a sadf -d row: {line[:80]!r}")
                continue
            when = _stamp(cells[2], tz)
            if when is None:
                warner(lineno, "sadf-bad-time", f"cannot read the timestamp {cells[2][:40]!r}")
                continue
            if cells[3].startswith("LINUX-RESTART") or cells[3].startswith("LINUX RESTART"):
                if keep(when):
                    yield Sample(when, "restart", 0.0, source=source)
                continue
            if not columns or cells[3].startswith("COM ") or not keep(when):
                continue
            yield from checked_row(warner, lineno, "sadf", when, columns, width, cells, line)
        except Exception as exc:  # a parser never raises on odd input
            warner(lineno, "sadf-parse-error", repr(exc))


class _JsonItems:
    """Cuts statistics items and restart ``boot`` objects out of sadf -j text, line by line.

    A failed decode with no later item start is taken as an item cut by the line end: the next
    attempt waits until the buffer has doubled, so a long item costs linear time overall.
    """

    def __init__(self, warner: WarnLimiter) -> None:
        self.warner, self.decoder = warner, json.JSONDecoder()
        self.parts: list[str] = []  # text not looked at yet, joined when enough has come
        self.buf, self.size, self.need = "", 0, 0

    def feed(self, text: str, lineno: int, final: bool = False) -> Iterator[Any]:
        self.parts.append(text)
        self.size += len(text)
        if self.size < self.need and not final:
            return
        buf, pos, self.need = self.buf + "".join(self.parts), 0, 0
        self.parts.clear()
        while (match := _JSON_START.search(buf, pos)) is not None:
            begin = match.start() if match[0].startswith("{") else match.end()
            try:
                obj, pos = self.decoder.raw_decode(buf, begin)
            except json.JSONDecodeError as exc:
                following = _JSON_START.search(buf, match.end())
                if following is None and final:
                    self.warner(lineno, "sadf-truncated", "the JSON ends inside an item")
                elif following is None and len(buf) - begin < _MAX_ITEM:
                    self.buf = buf[match.start() :]
                    self.size = len(self.buf)
                    self.need = min(2 * self.size, _MAX_ITEM + 1)
                    return  # most likely cut by the line end: wait for more text
                else:
                    self.warner(lineno, "sadf-bad-json", f"unreadable item: {exc}")
                pos = following.start() if following else len(buf)
                continue
            yield obj
        self.buf = buf[max(pos, len(buf) - _TAIL) :]
        self.size = len(self.buf)


def _json_time(stamp: Any, tz: tzinfo) -> datetime | None:
    if not isinstance(stamp, dict):
        return None
    when = _stamp(f"{stamp.get('date')} {stamp.get('time')}", timezone.utc)
    if when is None:
        return None
    if stamp.get("utc", 1):
        return when.astimezone(tz)
    return when.replace(tzinfo=tz)


def _parse_json(
    lines: Iterable[str],
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool],
    warner: WarnLimiter,
) -> Iterator[Sample]:
    items = _JsonItems(warner)
    lineno = 0
    objects = (
        (n, obj)
        for n, raw in enumerate(chain(lines, [None]), 1)
        for obj in items.feed("" if raw is None else raw + "\n", n, final=raw is None)
    )
    for lineno, obj in objects:
        try:
            if not isinstance(obj, dict):
                continue
            restart = "timestamp" not in obj
            when = _json_time(obj if restart else obj["timestamp"], tz)
            if when is None:
                warner(lineno, "sadf-bad-time", f"cannot read the timestamp of {str(obj)[:80]}")
                continue
            if not keep(when):
                continue
            if restart:
                yield Sample(when, "restart", 0.0, source=source)
                continue
            psi = obj.get("psi")
            if isinstance(psi, dict) and "psi-mem" in psi:
                obj = {**obj, "psi-mem": psi["psi-mem"]}
            values: dict[str, float] = {}
            for activity, keys in JSON_KEYS.items():
                data = obj.get(activity)
                if not isinstance(data, dict):
                    continue
                for key, metric in keys.items():
                    value = data.get(key)
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        values[metric] = float(value)
            values = {m: v for m, v in values.items() if isfinite(v)}
            if "swap_free_kb" in values and "swap_used_kb" in values:
                values["swap_total_kb"] = values["swap_free_kb"] + values["swap_used_kb"]
            for metric, value in values.items():
                yield Sample(when, metric, value, source=source)
        except Exception as exc:  # a parser never raises on odd input
            warner(lineno, "sadf-parse-error", repr(exc))
