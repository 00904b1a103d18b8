"""Readers of the history hosts keep: one module per format, one contract each.

Every format module defines::

    FORMAT = FormatInfo(name="sar", description="...", sniff=sniff)
    def sniff(head: list[str]) -> bool          # the first ~50 lines of a file
    def parse(lines: Iterable[str], *, source: str, tz: tzinfo,
              keep: Callable[[datetime], bool] = lambda t: True,
              warn: Callable[[Warning_], None] = lambda w: None) -> Iterator[Sample]

``parse`` streams: it never holds more than a few lines, yields ``Sample`` objects (metric names
from ``oomsleuth.history.metrics``; times aware, naive stamps placed in ``tz``), drops samples
for which ``keep(time)`` is False as early as it can (before building them), never raises on odd
input (a warning instead), and reports restarts (sysstat ``LINUX RESTART``) as samples of the
metric ``restart`` with value 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FormatInfo:
    name: str
    description: str
    sniff: Callable[[list[str]], bool]
