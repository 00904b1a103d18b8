"""systemd-oomd (systemd src/oom/oomd-manager.c, oomd-util.c): its kills of whole cgroups, and
the cgroups it weighed before choosing one.

    systemd-oomd[588]: Marked /user.slice/.../app-code.scope for killing due to memory pressure
        for /user.slice/user-1000.slice/user@1000.service being 82.63% > 50.00% for > 20s with
        reclaim activity
    systemd-oomd[588]: Considered 61 cgroups for killing, top candidates were:
    systemd-oomd[588]:         Path: /user.slice/.../app-code.scope
    systemd-oomd[588]:                 Pressure: Avg10: 84.56 Avg60: 33.68 Avg300: 8.29 Total: 32s
    systemd-oomd[588]:                 Current Memory Usage: 24.8G

``Killed`` (v247-v252) and ``Marked ... for killing`` (v253+) are kills, for memory pressure or
for swap; the candidate dump that follows a kill (v253+) or comes just before it (older) is
attached to it (``candidates``), so each candidate's usage and pressure are evidence; the debug
``oomd attempting to kill PID`` is a notice. A kill is handed out once its dump has ended (the
next line that is not part of it).
"""

from __future__ import annotations

import re

from oomsleuth.model import LogLine, OomdCandidate, UserspaceKill
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import replace
from oomsleuth.parsers.userspace_lines import make_kill, to_int

_KILLED = lazy_compile(
    r"(?:Killed (?P<cg>/.*?)|Marked (?P<marked>/.*?) for killing) "
    r"due to (?P<why>(?:memory|swap) .*?)\.?"
)
_PID = lazy_compile(r"oomd attempting to kill (?P<pid>\d+) with (?P<sig>\S+)")  # LOG_DEBUG
_CONSIDERED = lazy_compile(r"Considered \d+ cgroups for killing, top candidates were:")
_FIELD = lazy_compile(r"(?P<key>[A-Z][A-Za-z ]+): (?P<value>.*)")
_SIZE = lazy_compile(r"(?P<n>\d+(?:\.\d+)?)(?P<unit>[BKMGTPE]?)")
_AVG10 = lazy_compile(r"Avg10: (\d+(?:\.\d+)?)")
_UNITS = {"B": 1 / 1024, "": 1 / 1024, "K": 1, "M": 1024, "G": 1024**2, "T": 1024**3}


def _kb(text: str) -> int | None:
    """systemd's FORMAT_BYTES (``24.8G``, ``512.0M``, ``100B``) in kB."""
    match = _SIZE.fullmatch(text.strip())
    if match is None or match["unit"] not in _UNITS:
        return None
    return round(float(match["n"]) * _UNITS[match["unit"]])


def _number(pattern: re.Pattern[str], text: str) -> float | None:
    match = pattern.search(text)
    return float(match[1]) if match else None


def _near(a: LogLine, b: LogLine) -> bool:
    """Two lines logged within a second of each other (as far as their stamps tell)."""
    if a.wall is not None and b.wall is not None:
        return abs((a.wall - b.wall).total_seconds()) <= 1.0
    if a.uptime_s is not None and b.uptime_s is not None:
        return abs(a.uptime_s - b.uptime_s) <= 1.0
    return b.lineno - a.lineno <= 40  # no stamps: the dump is only a few lines long


def _together(kill: UserspaceKill, line: LogLine) -> bool:
    """A dump right after a kill (v253+) belongs to it."""
    s = kill.stamp
    here = LogLine(kill.where.source, kill.where.line, "", "", s.uptime_s, s.wall)
    return _near(here, line)


class SystemdOomd:
    """Feed it systemd-oomd's lines; kills come out once their candidate dump is read."""

    def __init__(self) -> None:
        self._pending: UserspaceKill | None = None
        self._candidates: list[OomdCandidate] = []
        self._in_dump = False
        self._dumped_at: LogLine | None = None

    def parse(self, line: LogLine, text: str) -> list[UserspaceKill] | None:
        match = _KILLED.fullmatch(text)
        if match:
            dumped = self._dumped_at
            early = self._pending is None and dumped is not None and _near(dumped, line)
            before = tuple(self._candidates) if early else ()  # systemd before v253 dumps first
            out = self.flush()
            kill = make_kill(
                line,
                "systemd-oomd",
                cgroup=match["cg"] or match["marked"],
                signal="SIGKILL",
                reason=match["why"],
            )
            self._pending = replace(kill, candidates=before)
            return out
        if _CONSIDERED.fullmatch(text):
            out = [] if self._pending and _together(self._pending, line) else self.flush()
            self._in_dump, self._candidates, self._dumped_at = True, [], line
            return out
        if self._in_dump and (field := _FIELD.fullmatch(text)):
            self._field(field["key"], field["value"])
            return []
        pid = _PID.fullmatch(text)
        if pid:  # one process of a cgroup kill: kept for correlation, not a kill of its own
            return [make_kill(line, "systemd-oomd", kind="notice", pid=to_int(pid["pid"]),
                              signal=pid["sig"], reason="process of a cgroup kill")]  # fmt: skip
        return [] if text.startswith("oomd dry-run:") else None

    @property
    def holds_kill(self) -> bool:
        """A kill is pending: :meth:`flush` would hand it out."""
        return self._pending is not None

    def continues(self, text: str, ident: str | None) -> bool:
        """True when the line may belong to the kill being read: its candidate dump, or the
        kill line that follows a dump (systemd before v253 dumped first)."""
        if ident not in (None, "systemd-oomd"):
            return False
        if self._pending is None:
            return True  # nothing to hand out; a dump may be gathering for the next kill
        return bool(_CONSIDERED.fullmatch(text) or (self._in_dump and _FIELD.fullmatch(text)))

    def _field(self, key: str, value: str) -> None:
        if key == "Path":
            self._candidates.append(OomdCandidate(value.strip()))
            return
        if not self._candidates:
            return
        last = self._candidates[-1]
        if key == "Current Memory Usage":
            last = replace(last, memory_kb=_kb(value))
        elif key == "Swap Usage":
            last = replace(last, swap_kb=_kb(value))
        elif key == "Pressure":
            last = replace(last, pressure_avg10=_number(_AVG10, value))
        elif key == "Memory Pressure Limit":
            last = replace(last, pressure_limit_pct=_number(re.compile(r"(\d+(?:\.\d+)?)"), value))
        elif key == "Pgscan":
            last = replace(last, pgscan=to_int(value.strip()))
        self._candidates[-1] = last

    def flush(self) -> list[UserspaceKill]:
        """The pending kill with its candidates (at the end of its dump, or of the input)."""
        kill, self._pending = self._pending, None
        if kill is None:
            return []
        candidates, self._candidates, self._in_dump = tuple(self._candidates), [], False
        return [replace(kill, candidates=kill.candidates or candidates)]
