"""The history this host keeps, where the tools keep it, each file dated by the span it covers.

- sysstat: ``/var/log/sysstat/sa??`` (Debian) and ``/var/log/sa/sa??`` (RHEL), one file per day
  of the month, binary (read through ``sadf``); ``sar??`` text files beside them too;
- atop: ``/var/log/atop/atop_YYYYMMDD`` (raw, read through ``atop -r``), one per day;
- the oomsleuth sampler: ``/var/log/oomsleuth.samples*`` and ``/var/log/oomsleuth/*.samples``.

A daily file covers the day before its last write (``sa``) or the day its name says (atop). Only
the files whose span meets the window around a kill are read: a month of archives stays fast.
below's store is read with ``below dump`` where below is installed.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from oomsleuth.load.evidence import Dated
from oomsleuth.load.files import Input
from oomsleuth.model.patterns import lazy_compile

_SA = lazy_compile(r"^sar?\d\d$")
_ATOP = lazy_compile(r"^atop_(\d{8})$")
SAMPLERS = ("oomsleuth.samples*", "oomsleuth/*.samples", "oomsleuth/*.samples.*")


def discover(root: Path, tz: tzinfo) -> list[Dated]:
    """Every history file of the known places, with the span it covers."""
    logs = root / "var" / "log"
    out: list[Dated] = []
    for folder in (logs / "sysstat", logs / "sa"):
        for path in _files(folder):
            if _SA.match(path.name):
                end = _mtime(path, tz)
                out.append((Input(str(path), path), end - timedelta(days=1, hours=1), end))
    for path in _files(logs / "atop"):
        m = _ATOP.match(path.name)
        if m:
            try:
                day = datetime.strptime(m[1], "%Y%m%d").replace(tzinfo=tz)
            except ValueError:
                continue
            out.append((Input(str(path), path), day, day + timedelta(days=1, hours=1)))
    for pattern in SAMPLERS:
        for path in sorted(logs.glob(pattern)):
            if path.is_file():
                out.append((Input(str(path), path), None, _mtime(path, tz)))
    return out


def _files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_file())
    except OSError:
        return []


def _mtime(path: Path, tz: tzinfo) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz)


def meets(dated: Dated, windows: list[tuple[datetime, datetime]]) -> bool:
    """True when the file's span meets one of the windows (start, end) around the events."""
    _, start, end = dated
    for w_start, w_end in windows:
        if (start is None or start <= w_end) and (end is None or end >= w_start):
            return True
    return False
