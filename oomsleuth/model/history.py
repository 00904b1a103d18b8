"""What hosts keep: samples from sysstat, atop, pidstat, PSI samplers, Prometheus, below."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oomsleuth.model.lines import Warning_


@dataclass(frozen=True, slots=True)
class Sample:
    """One measurement from a history source, on the wall clock.

    ``entity`` is None for a host-wide metric, ``"pid:1234"`` for a process, ``"cgroup:/path"``
    for a cgroup and ``"container:<id or name>"`` for a container. ``labels`` carry what names the
    entity to a person (``comm``, ``pod``, ``namespace``, ``container``, ``cmdline``...).
    Metric names are canonical (see ``oomsleuth/history/metrics.py``); units are in the name.
    """

    time: datetime  # aware
    metric: str
    value: float
    entity: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    source: str = ""

    def label(self, name: str) -> str | None:
        for key, value in self.labels:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class History:
    """The history kept around the OOM events (only the windows that matter)."""

    samples: tuple[Sample, ...] = ()
    sources: tuple[tuple[str, str], ...] = ()  # (source name, format name)
    warnings: tuple[Warning_, ...] = ()
    restarts: tuple[tuple[datetime, str], ...] = ()  # (time, source): "LINUX RESTART" etc.
