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

A module may also define ``parse_blocks(blocks: Iterable[list[str]], ...)``, the same reader
over the lines a list at a time as the loader reads them (``Input.line_blocks``): it can skip
lines it has no use for with C-level calls over a list instead of a Python step a line (atop:
the lines of a sample ``keep`` refused; sar: runs of rows far from every window). ``keep`` may
carry ``spans``, the (start, end) windows outside which it is always False
(:mod:`oomsleuth.history.band`); a reader that skips samples without asking ``keep`` must still
ask it about the earliest and the latest of them (``history-outside-window`` says that span).
"""

from __future__ import annotations

from collections.abc import Callable

from oomsleuth.model.record import record


@record(frozen=True, slots=True)
class FormatInfo:
    name: str
    description: str
    sniff: Callable[[list[str]], bool]
