"""Stamped file samples: ``<time> [<path>] <content>``, one line per line read from a file.

What ``scripts/oomsleuth-sampler`` writes, and what a shell loop writes::

    2026-11-25T22:51:00.123456+00:00 /proc/pressure/memory some avg10=0.00 avg60=0.00 ...
    1795646000.5 /sys/fs/cgroup/system.slice/app.service/memory.current 104857600
    1795646000 some avg10=1.50 avg60=0.20 avg300=0.01 total=123456   (no path: host PSI)
    full avg10=0.80 avg60=0.10 avg300=0.00 total=65432               (no stamp: the line above's)

``<time>`` is ISO 8601 (``T`` or one space; naive stamps are placed in ``tz``) or epoch seconds
(13 digits: milliseconds). ``<path>:<content>`` (``grep -H``) is read too. A line without a
stamp continues the line before it (``echo "$(date +%s) $(cat FILE)"``). Files: host PSI,
``/proc/meminfo`` and the cgroup v1/v2 memory files (entity ``cgroup:<path below the mount>``).
A fall of the host PSI ``some`` total (kept since boot) is reported as a ``restart``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone, tzinfo

from oomsleuth.history import FormatInfo
from oomsleuth.history.common import MEMINFO, UNLIMITED_BYTES, WarnLimiter, parse_stamp
from oomsleuth.model import Sample, Warning_
from oomsleuth.model.patterns import lazy_compile

_DATE = lazy_compile(r"\d{4}-\d\d-\d\d")
_PSI = lazy_compile(
    r"(some|full)\s+avg10=([\d.]+)\s+avg60=([\d.]+)\s+avg300=([\d.]+)\s+total=(\d+)\s*"
)
_MEMINFO = lazy_compile(r"(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?\s*")
_STAT = lazy_compile(r"(\w+)\s+(\d+)\s*")
_CG_ROOT = lazy_compile(r"^(?:/sys/fs/cgroup|/cgroup|/dev/cgroup)(?:/memory|/unified)?(?=/|$)")

CG_VALUE = {
    "memory.current": "cg_mem_current_kb",
    "memory.usage_in_bytes": "cg_mem_current_kb",
    "memory.max": "cg_mem_max_kb",
    "memory.limit_in_bytes": "cg_mem_max_kb",
    "memory.high": "cg_mem_high_kb",
    "memory.swap.current": "cg_swap_current_kb",
}
# memory.stat key -> (metric, rank): v2 keys, v1 keys, v1 hierarchical total_* keys (preferred)
CG_STAT = {
    "anon": ("cg_anon_kb", 0),
    "file": ("cg_file_kb", 0),
    "shmem": ("cg_shmem_kb", 0),
    "rss": ("cg_anon_kb", 0),
    "cache": ("cg_file_kb", 0),
    "total_rss": ("cg_anon_kb", 1),
    "total_cache": ("cg_file_kb", 1),
    "total_shmem": ("cg_shmem_kb", 1),
}
_CG_FILES = {*CG_VALUE, "memory.stat", "memory.pressure"}


def cgroup_entity(directory: str) -> str:
    """``/sys/fs/cgroup/memory/a/b`` -> ``cgroup:/a/b`` (the path the kernel's OOM report names)."""
    return "cgroup:" + (_CG_ROOT.sub("", directory).rstrip("/") or "/")


def _split(line: str, tz: tzinfo) -> tuple[datetime | None, str, str]:
    """(time, stamp text, rest) of a line; time None when the line has no stamp."""
    first, rest = (*line.split(None, 1), "")[:2]
    if _DATE.fullmatch(first):  # "2026-11-25 22:51:00[+zone] ..."
        second, rest = (*rest.split(None, 1), "")[:2]
        first = f"{first} {second}"
    return parse_stamp(first, tz), first, rest.lstrip()


def _path_and_content(rest: str) -> tuple[str | None, str]:
    if not rest.startswith("/"):
        return None, rest
    token, content = (*rest.split(None, 1), "")[:2]
    path, colon, head = token.partition(":")
    if colon and (path == "/proc/meminfo" or path.startswith(("/proc/pressure/", "/sys/fs/"))):
        return path, f"{head} {content}".strip()  # grep -H FILE
    return token, content.strip()


class _Parser:
    def __init__(self, source: str, keep: Callable[[datetime], bool], warn: WarnLimiter) -> None:
        self.source, self.keep, self.warn = source, keep, warn
        self.stat_key: tuple[datetime, str] | None = None
        self.stat: dict[str, tuple[float, int]] = {}
        self.swap: dict[str, float] = {}  # SwapTotal and SwapFree of the time swap_time
        self.swap_time: datetime | None = None
        self.psi_total: float | None = None
        self.unknown: set[str] = set()

    def sample(self, t: datetime, metric: str, value: float, entity: str | None = None) -> Sample:
        return Sample(time=t, metric=metric, value=value, entity=entity, source=self.source)

    def flush_stat(self) -> Iterator[Sample]:
        if self.stat_key is not None:
            t, path = self.stat_key
            entity = cgroup_entity(path.rpartition("/")[0])
            for metric, (value, _) in self.stat.items():
                yield self.sample(t, metric, value, entity)
        self.stat_key, self.stat = None, {}

    def restart(self, t: datetime, content: str) -> Iterator[Sample]:
        """A fall of the host PSI ``some`` total means the host booted again."""
        m = _PSI.match(content)
        if m and m[1] == "some":
            total = float(m[5])
            if self.psi_total is not None and total < self.psi_total and self.keep(t):
                yield self.sample(t, "restart", 0.0)
            self.psi_total = total

    def line(self, n: int, t: datetime, path: str | None, content: str) -> Iterator[Sample]:
        name = path.rpartition("/")[2] if path else ""
        if self.stat_key is not None and (name != "memory.stat" or self.stat_key != (t, path)):
            yield from self.flush_stat()
        if path in (None, "/proc/pressure/memory") and (m := _PSI.fullmatch(content)):
            for i, avg in ((2, "avg10"), (3, "avg60"), (4, "avg300"), (5, "total_us")):
                yield self.sample(t, f"psi_mem_{m[1]}_{avg}", float(m[i]))
            return
        if path in (None, "/proc/meminfo") and (m := _MEMINFO.fullmatch(content)):
            yield from self.meminfo(t, m[1], float(m[2]))
            return
        if name in _CG_FILES and path is not None:
            yield from self.cgroup(n, t, path, name, content)
            return
        if path and path.startswith("/proc/pressure/") and name != "memory":
            return  # cpu and io pressure: not memory
        if path is not None and name in ("memory.oom_control", "memory.events"):
            key, _, value = content.partition(" ")
            if key == "oom_kill" and value.strip().isdigit() and self.keep(t):
                entity = cgroup_entity(path.rpartition("/")[0])
                yield self.sample(t, "cg_oom_kill_count", float(value), entity)
            return  # v1 oom_control / v2 memory.events: only the kill counter matters
        what = path or "line without a file"
        if what not in self.unknown and len(self.unknown) < 1000:
            self.unknown.add(what)
            self.warn(n, "unknown-content", f"cannot read {what}: {content[:80]!r}")

    def meminfo(self, t: datetime, key: str, kb: float) -> Iterator[Sample]:
        if (metric := MEMINFO.get(key)) is None:
            return
        yield self.sample(t, metric, kb)
        if key in ("SwapTotal", "SwapFree"):
            if self.swap_time != t:
                self.swap_time, self.swap = t, {}
            self.swap[key] = kb
            if len(self.swap) == 2:
                yield self.sample(t, "swap_used_kb", self.swap["SwapTotal"] - self.swap["SwapFree"])

    def cgroup(self, n: int, t: datetime, path: str, name: str, content: str) -> Iterator[Sample]:
        entity = cgroup_entity(path.rpartition("/")[0])
        if name == "memory.pressure":
            if (m := _PSI.fullmatch(content)) is not None:
                yield self.sample(t, f"cg_psi_{m[1]}_avg10", float(m[2]), entity)
                return
        elif name == "memory.stat":
            if (m := _STAT.fullmatch(content)) is not None:
                if (mapped := CG_STAT.get(m[1])) is not None:
                    metric, rank = mapped
                    if rank >= self.stat.get(metric, (0.0, -1))[1]:
                        self.stat[metric] = (int(m[2]) / 1024, rank)
                    self.stat_key = (t, path)
                return
        elif content == "max":
            return  # no limit
        elif content.isdigit():
            value = int(content)
            if value < UNLIMITED_BYTES:
                yield self.sample(t, CG_VALUE[name], value / 1024, entity)
            return
        self.warn(n, "bad-value", f"cannot read {path}: {content[:80]!r}")


def parse(
    lines: Iterable[str],
    *,
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool] = lambda t: True,
    warn: Callable[[Warning_], None] = lambda w: None,
) -> Iterator[Sample]:
    """Stream samples from stamped file lines (see the module docstring)."""
    limiter = WarnLimiter(warn, source)
    p = _Parser(source, keep, limiter)
    stamp_text, kept, path = "", False, None
    t: datetime | None = None
    n = 0
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        new_t, new_stamp, rest = _split(line, tz)
        if new_t is not None:
            if new_stamp != stamp_text:
                stamp_text, kept = new_stamp, keep(new_t)
            t = new_t
            path, content = _path_and_content(rest)
        elif t is not None and (
            _PSI.fullmatch(line) or _MEMINFO.fullmatch(line) or _STAT.fullmatch(line)
        ):
            content = line  # a later line of a multi-line file under one stamp
        else:
            limiter(n, "bad-line", f"no time stamp: {line[:80]!r}")
            continue
        if path is None or path == "/proc/pressure/memory":
            yield from p.restart(t, content)
        if kept:
            yield from p.line(n, t, path, content)
    yield from p.flush_stat()
    limiter.close(n)


def sniff(head: list[str]) -> bool:
    """Most non-blank lines stamped, and at least one a memory file or a PSI line."""
    stamped = known = total = 0
    for raw in head:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        total += 1
        t, _, rest = _split(line, timezone.utc)
        if t is None:
            continue
        stamped += 1
        path, content = _path_and_content(rest)
        name = path.rpartition("/")[2] if path else ""
        files = ("/proc/pressure/memory", "/proc/meminfo")
        known += (
            path in files or name in _CG_FILES or bool(path is None and _PSI.fullmatch(content))
        )
    return known > 0 and stamped * 2 > total


FORMAT = FormatInfo(
    name="psi",
    description="stamped file samples '<time> <path> <line>' (oomsleuth-sampler, shell loops "
    "over /proc/pressure/memory, /proc/meminfo and cgroup memory files)",
    sniff=sniff,
)
