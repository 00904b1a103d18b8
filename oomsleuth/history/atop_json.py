"""atop's JSON output (``atop -r FILE -J MEM,SWP,PAG,PSI,PRG,PRM``, atop 2.8 on): one object a
sample, one sample a line, read with the same field meanings as ``atop -P``
(:mod:`oomsleuth.history.atop_fields`), so both give the same samples::

    {"host": "vm", "timestamp": 1795647972, "elapsed": 1,
     "MEM": {"physmem": 25276510208, "freemem": 24476475392, "cachemem": ..., ...},
     "SWP": {...}, "PAG": {"pgscans": 0, "allocstall": 0, ..., "oomkills": 0},
     "PSI": {"psi": "y", "ms10": 0.1, ..., "mstot": 0, "mf10": 0.1, ...},
     "PRG": [{"pid": 5, "name": "(leak (x) y)", "state": "S", "tgid": 5, "exitcode": 0,
              "btime": "1795647970", "cmdline": "(python w.py)", "isproc": 1, ...}, ...],
     "PRM": [{"pid": 5, "vmem": 20712, "rmem": 16964, "minflt": 1025, "vswap": 0, ...}, ...]}
        -> mem_total_kb=24684092 (bytes / 1024), ...; entity="pid:5", labels comm="leak (x) y",
           tgid="5", cmdline="python w.py": proc_rss_kb=16964, proc_vsz_kb=20712, ...

Sizes of MEM and SWP are bytes; PAG counts pages and PRM kB, as in ``-P``. JSON has no page
size: it is the largest of 64, 16 and 4 KiB dividing every MEM size (4 KiB without MEM), and
only ``pgpgin_kb_s``/``pgpgout_kb_s`` use it. JSON has no ``RESET`` line either: a sample whose
interval starts at or before every process's start (``btime``) runs since boot (without PRG: the
first sample, and one whose interval does not start at the sample before). atop's JSON writer
has a bug that writes ``[, {`` when it skips the first task: that is read too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone, tzinfo
from math import gcd
from typing import Any

from oomsleuth.history import FormatInfo
from oomsleuth.history.atop_fields import prm, system
from oomsleuth.history.common import WarnLimiter
from oomsleuth.model import Sample, Warning_
from oomsleuth.model.patterns import lazy_compile

_HEAD = lazy_compile(
    r'\s*\{\s*"host"\s*:\s*"[^"]*"\s*,\s*"timestamp"\s*:\s*\d+\s*,\s*"elapsed"\s*:'
)
_EMPTY_FIRST = lazy_compile(r"\[\s*,\s*")  # atop's "[, {": the first task of a list was skipped
_MEM_KEYS = ("physmem", "freemem", "cachemem", "buffermem", "slabmem", "cachedrt")
_MEM_MORE = ("slabreclaim", "vmwballoon", "shmem")  # fields 7 to 9 of atop -P MEM
_PAGE_SIZES = (65536, 16384, 4096)
_PRM_KEYS = ("vmem", "rmem", "vexec", "vgrow", "rgrow", "minflt", "majflt")
_PRM_MORE = ("vlibs", "vdata", "vstack", "vswap")
_PSI_KEYS = ("cs10", "cs60", "cs300", "cstot", "ms10", "ms60", "ms300", "mstot")
_PSI_MORE = ("mf10", "mf60", "mf300", "mftot")
_DECODER = json.JSONDecoder(strict=False)  # a tab in a command line is a control character


def sniff(head: list[str]) -> bool:
    return any(_HEAD.match(line) for line in head[:10])


FORMAT = FormatInfo(
    name="atop-json",
    description="atop JSON output (atop -r FILE -J MEM,SWP,PAG,PSI,PRG,PRM)",
    sniff=sniff,
)


def _num(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _kb(data: dict[str, Any], keys: Iterable[str]) -> list[float | None]:
    return [None if (v := _num(data.get(k))) is None else v / 1024 for k in keys]


def _page_size(mem: dict[str, Any], default: int) -> int:
    """The page size that MEM's byte counts (pages x page size) share."""
    common = 0
    for key in (*_MEM_KEYS, *_MEM_MORE, "availablemem"):
        value = mem.get(key)
        if isinstance(value, int) and value > 0:
            common = gcd(common, value)
    return next((p for p in _PAGE_SIZES if common and common % p == 0), default)


def _host_values(label: str, data: dict[str, Any], page: int) -> list[float | None]:
    """The fields of the ``atop -P`` line of ``label`` (MEM and SWP in kB: page size 1024)."""
    if label == "MEM":
        values = [1024.0, *_kb(data, _MEM_KEYS), *_kb(data, _MEM_MORE)]
        values += [None] * 14 + _kb(data, ["availablemem"])  # field 24: atop 2.10 on
    elif label == "SWP":
        values = [1024.0, *_kb(data, ("totswap", "freeswap", "swcac", "committed", "commitlim"))]
    elif label == "PAG":
        keys = ("pgscans", "allocstall", "", "swins", "swouts", "oomkills", "compacts")
        values = [float(page), *(_num(data.get(k, 0)) for k in keys)]
        values += [_num(data.get(k)) for k in ("migrates", "numamigs", "pgins", "pgouts")]
    else:  # PSI: "y" first, as in -P
        values = [None, *(_num(data.get(k)) for k in (*_PSI_KEYS, *_PSI_MORE))]
    return values


def _inside(text: Any) -> str:
    """``(leak (x) y)`` -> ``leak (x) y``: atop writes names and command lines in parentheses."""
    name = str(text) if text is not None else ""
    return name[1:-1] if name.startswith("(") and name.endswith(")") else name


class _Reader:
    """What the lines of one ``atop -J`` text share: the page size, the time of the sample
    before (to tell one that runs since boot), the source and the warning limiter."""

    def __init__(self, source: str, warning: WarnLimiter) -> None:
        self.source, self.warning = source, warning
        self.page = 4096
        self.before: int | None = None

    def decode(self, lineno: int, line: str) -> dict[str, Any] | None:
        obj: Any = None
        try:
            obj = _DECODER.decode(line)
        except ValueError:
            try:
                obj = _DECODER.decode(_EMPTY_FIRST.sub("[", line))
            except ValueError as exc:
                self.warning(lineno, "atop-bad-json", f"not JSON ({exc}): {line[:80]!r}")
                return None
        if not isinstance(obj, dict) or not all(isinstance(obj.get(k), int) for k in _STAMP):
            self.warning(lineno, "atop-unparsable-line", f"not atop -J output: {line[:80]!r}")
            return None
        return dict(obj)

    def since_boot(self, stamp: int, elapsed: int, tasks: list[dict[str, Any]]) -> bool:
        starts = [int(t["btime"]) for t in tasks if str(t.get("btime", "")).isdigit()]
        before, self.before = self.before, stamp
        if starts:
            return stamp - elapsed <= min(starts)
        return before is None or stamp - elapsed != before

    def sample(self, obj: dict[str, Any], when: datetime, interval: int) -> Iterator[Sample]:
        if isinstance(mem := obj.get("MEM"), dict):
            self.page = _page_size(mem, self.page)
        for label in ("MEM", "SWP", "PAG", "PSI"):
            data = obj.get(label)
            if isinstance(data, dict) and (label != "PSI" or data.get("psi") == "y"):
                for metric, value in system(label, _host_values(label, data, self.page), interval):
                    yield Sample(when, metric, value, None, (), self.source)
        known: dict[int, dict[str, Any]] = {}
        for task in _tasks(obj, "PRG"):
            known[task["pid"]] = task
            yield from self.exit(task, when)
        for mem in _tasks(obj, "PRM"):
            yield from self.memory(mem, known.get(mem["pid"], {}), when, interval)

    def exit(self, task: dict[str, Any], when: datetime) -> Iterator[Sample]:
        code = task.get("exitcode")
        if task.get("state") == "E" and code and isinstance(code, int) and task.get("isproc"):
            tags = (("comm", _inside(task.get("name"))), *sorted(_labels(task).items()))
            yield Sample(when, "proc_exit_code", code, f"pid:{task['pid']}", tags, self.source)

    def memory(
        self, mem: dict[str, Any], task: dict[str, Any], when: datetime, interval: int
    ) -> list[Sample]:
        """The samples of a PRM entry, through the ``-P`` reader's own function."""
        pid = mem["pid"]
        comm = _inside(task.get("name", f"({mem.get('cmd', '')})"))
        fields = [self.page, *(mem.get(k) for k in (*_PRM_KEYS, *_PRM_MORE))]
        fields += [task.get("tgid", pid), "y" if task.get("isproc", 1) else "n"]
        tail = " ".join("x" if f is None else str(f) for f in fields)
        state = str(task.get("state", "?"))
        samples = prm(when, pid, comm, state, tail, _labels(task), interval, self.source)
        return samples or []


_STAMP = ("timestamp", "elapsed")


def _tasks(obj: dict[str, Any], label: str) -> list[dict[str, Any]]:
    tasks = obj.get(label)
    if not isinstance(tasks, list):
        return []
    return [t for t in tasks if isinstance(t, dict) and isinstance(t.get("pid"), int)]


def _labels(task: dict[str, Any]) -> dict[str, str]:
    """cmdline, cgroup (atop 2.10 on) and container (``cid``) of a PRG entry, when known."""
    labels = {"cmdline": _inside(task.get("cmdline"))}
    labels["cgroup"] = str(task.get("cgroup", "-"))
    labels["container"] = str(task.get("cid", "-"))
    return {k: v for k, v in labels.items() if v and v not in ("-", "_")}


def parse(
    lines: Iterable[str],
    *,
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool] = lambda t: True,
    warn: Callable[[Warning_], None] = lambda w: None,
) -> Iterator[Sample]:
    """Samples from ``atop -J`` text. ``tz`` is unused: the epoch is exact."""
    warning = WarnLimiter(warn, source, 20, more="{n} more like it")
    reader = _Reader(source, warning)
    lineno = 0
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        try:
            obj = reader.decode(lineno, line)
            if obj is None:
                continue
            stamp, elapsed = obj["timestamp"], obj["elapsed"]
            boot = reader.since_boot(stamp, elapsed, _tasks(obj, "PRG"))
            when = datetime.fromtimestamp(stamp, timezone.utc)
            if keep(when):
                yield from reader.sample(obj, when, 0 if boot or elapsed <= 0 else elapsed)
        except (ValueError, OverflowError, OSError) as exc:
            warning(lineno, "atop-bad-time", f"epoch out of range: {exc}")
        except Exception as exc:  # a parser never raises on odd input
            warning(lineno, "atop-unparsable-line", repr(exc)[:200])
    warning.close(lineno)
