"""atop's parseable output (``atop -r FILE -P MEM,SWP,PAG,PSI,PRG,PRM``), read by position.

Lines are ``LABEL host epoch YYYY/MM/DD HH:MM:SS interval fields...``; ``SEP`` ends a sample,
``RESET`` starts one whose counters run since boot. What each field means (``man atop`` and
``parseable.c`` 2.3 to 2.13; versions append fields, so missing or extra trailing ones are fine)
is in :mod:`oomsleuth.history.atop_fields`::

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

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone, tzinfo
from itertools import islice, repeat
from operator import indexOf

from oomsleuth.history import FormatInfo
from oomsleuth.history.atop_fields import num, prg_fields, prm, split_process, system
from oomsleuth.history.common import WarnLimiter, batched
from oomsleuth.model import Sample, Warning_

_HEAD = re.compile(r"[A-Za-z]{3} \S+ \d+ \d{4}/\d\d/\d\d \d\d:\d\d:\d\d -?\d+(?: |$)")
_WANTED = ("PRM ", "PRG ", "MEM ", "SWP ", "PAG ", "PSI ")  # most frequent first
MAX_WARNINGS = 20  # per code; one summary warning says how many more there were
MORE_WARNINGS = "{n} more like it"
_NONE: tuple[Sample, ...] = ()  # what most PRG lines give


def sniff(head: list[str]) -> bool:
    return any(_HEAD.match(line) for line in head)


FORMAT = FormatInfo(
    name="atop",
    description="atop parseable output (atop -r FILE -P MEM,SWP,PAG,PSI,PRG,PRM)",
    sniff=sniff,
)


class _Reader:
    """What the lines of one ``atop -P`` text share beyond their own: the source, the warning
    limiter, whether the sample's counters run since boot (``RESET``: no rates), and the comm
    and labels of each pid from PRG lines, for PRM lines (PRG comes before PRM; the previous
    sample's names cover a PRM that comes first)."""

    def __init__(self, source: str, warning: WarnLimiter) -> None:
        self.source, self.warning = source, warning
        self.since_boot = False
        self.now: dict[int, tuple[str, dict[str, str]]] = {}
        self.before: dict[int, tuple[str, dict[str, str]]] = {}

    def mark(self, line: str) -> None:
        """``SEP`` ends a sample; ``RESET`` starts one whose counters run since boot."""
        if line == "SEP":
            self.before, self.now, self.since_boot = self.now, {}, False
        else:
            self.since_boot = True

    def process(
        self, label: str, rest: str, when: datetime, interval: int, lineno: int
    ) -> Sequence[Sample]:
        """The samples of a PRG line (an exit code) or a PRM line (interval 0: no rates)."""
        proc = split_process(rest, label)
        if proc is None:
            self.warning(lineno, "atop-unparsable-line", f"{label} line: no pid (name) state")
            return _NONE
        pid, comm, state, tail, zmode = proc
        if label == "PRM":
            known = self.now.get(pid) or self.before.get(pid)
            extra = known[1] if known and known[0] == comm else {}
            samples = prm(when, pid, comm, state, tail, extra, interval, self.source)
            if samples is None:
                self.warning(lineno, "atop-short-line", f"PRM line of pid {pid} is cut short")
            return samples or _NONE
        exit_code, is_process, extra = prg_fields(tail, zmode)
        self.now[pid] = (comm, extra)
        if state == "E" and exit_code and is_process:  # 0: a normal exit
            tags = (("comm", comm), *sorted(extra.items()))
            return [Sample(when, "proc_exit_code", exit_code, f"pid:{pid}", tags, self.source)]
        return _NONE

    def host(
        self, label: str, rest: str, when: datetime, interval: int, lineno: int
    ) -> list[Sample]:
        """The host-wide samples of a MEM, SWP, PAG or PSI line (interval 0: no rates)."""
        if label == "PSI" and not rest.startswith("y "):
            return []  # "n": no PSI on that kernel
        values = [num(f) for f in rest.split()]
        host = system(label, values, interval)
        samples = [Sample(when, metric, value, None, (), self.source) for metric, value in host]
        if label != "PSI" and (not values or values[0] is None or values[0] <= 0):
            self.warning(lineno, "atop-short-line", f"{label} line without a page size")
        return samples


def parse(
    lines: Iterable[str],
    *,
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool] = lambda t: True,
    warn: Callable[[Warning_], None] = lambda w: None,
) -> Iterator[Sample]:
    """Samples from ``atop -P`` text. ``tz`` is unused: the epoch field is exact."""
    return parse_blocks(batched(lines), source=source, tz=tz, keep=keep, warn=warn)


def parse_blocks(
    blocks: Iterable[list[str]],
    *,
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool] = lambda t: True,
    warn: Callable[[Warning_], None] = lambda w: None,
) -> Iterator[Sample]:
    """:func:`parse` over lists of lines: the lines of a sample ``keep`` refused are skipped a
    run at a time (one C-level ``startswith`` a line, no Python step)."""
    warning = WarnLimiter(warn, source, MAX_WARNINGS, more=MORE_WARNINGS)
    state = reading(source, warning, keep)
    yield from read_blocks(blocks, state)
    warning.close(state.lines)


def reading(source: str, warning: WarnLimiter, keep: Callable[[datetime], bool]) -> _State:
    """The state of a reading at the start of a text, for :func:`read_blocks`."""
    return _State(_Reader(source, warning), keep)


def read_blocks(blocks: Iterable[list[str]], state: _State) -> Iterator[Sample]:
    """The samples of ``blocks`` read on from ``state`` (its ``lines``: the lines read, which
    number the warnings). :mod:`oomsleuth.load.history_split` reads a text in parts with it."""
    lineno = state.lines
    for block in blocks:
        i, n = 0, len(block)
        while i < n:
            if state.skip:
                i += _skipped(block, i, state.skip)
                if i == n:
                    break
            i += 1
            yield from state.line(block[i - 1], lineno + i)
        lineno += n
        state.lines = lineno


def _skipped(block: list[str], start: int, skip: tuple[str, ...]) -> int:
    """How many lines from ``block[start]`` on start with one of ``skip``."""
    starts = map(str.startswith, islice(block, start, None), repeat(skip))
    try:
        return indexOf(starts, False)
    except ValueError:
        return len(block) - start


class _State:
    """Where a reading is: the sample's epoch and time, whether ``keep`` took it, and the
    ``LABEL host epoch `` of each wanted label of a refused sample (its lines are skipped)."""

    def __init__(self, reader: _Reader, keep: Callable[[datetime], bool]) -> None:
        self.reader, self.keep = reader, keep
        self.last_epoch, self.when, self.kept = "\x00", datetime.min, False  # no epoch yet
        self.skip: tuple[str, ...] = ()
        self.lines = 0

    @property
    def settled(self) -> bool:
        """True once a sample's time was read: from a ``SEP`` line on, the state then depends
        only on the lines since the ``SEP`` before it (see :mod:`oomsleuth.load.history_split`)."""
        return self.last_epoch != "\x00"

    def line(self, raw: str, lineno: int) -> Sequence[Sample]:
        """The samples of one line that is not a refused sample's."""
        reader, warning = self.reader, self.reader.warning
        line = raw.rstrip("\r\n")
        if line == "SEP" or line == "RESET":
            reader.mark(line)
            return _NONE
        if not line.strip():
            return _NONE
        if line.startswith("# "):  # a note from external_atop (atop itself never writes "#")
            warning(lineno, "atop-note", line[2:200])
            return _NONE
        if line.startswith(_WANTED):  # fast path, no allocation: a sample keep() refused
            if not self.kept and line.startswith(self.last_epoch, line.find(" ", 4) + 1):
                return _NONE
        elif _HEAD.match(line):
            return _NONE  # CPU, PRC, DSK, NET...: valid, not about memory
        parts = line.split(" ", 6)
        if not _HEAD.match(line) or len(parts) < 7:
            _unreadable(warning, lineno, line, parts[0])
            return _NONE
        label, _, epoch, _, _, interval_text, rest = parts
        if epoch + " " != self.last_epoch:
            if (t := _epoch(epoch, warning, lineno)) is None:
                return _NONE
            self.when, self.last_epoch, self.kept = t, epoch + " ", self.keep(t)
            host = parts[1]
            self.skip = () if self.kept else tuple(f"{w}{host} {self.last_epoch}" for w in _WANTED)
        if not self.kept:
            return _NONE
        interval = int(interval_text)
        interval = interval if interval > 0 and not reader.since_boot else 0  # 0: no rates
        if label in ("PRG", "PRM"):
            return reader.process(label, rest, self.when, interval, lineno)
        return reader.host(label, rest, self.when, interval, lineno)


def _unreadable(warning: WarnLimiter, lineno: int, line: str, label: str) -> None:
    if _HEAD.match(line):
        warning(lineno, "atop-short-line", f"{label} line without fields")
    else:
        warning(lineno, "atop-unparsable-line", f"not atop -P output: {line[:80]!r}")


def _epoch(epoch: str, warning: WarnLimiter, lineno: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    except (ValueError, OverflowError, OSError):
        warning(lineno, "atop-bad-time", f"epoch {epoch[:20]} is out of range")
        return None
