"""Correlation: parse results plus history -> incidents with verdicts. Pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from oomsleuth.history.windows import DEFAULT_BEFORE
from oomsleuth.models import History, ParseResult


def event_moments(result: ParseResult) -> list[datetime]:
    """The wall-clock moments of every OOM event that has one (history windows centre on them)."""
    out = []
    for report in result.reports:
        stamps = [k.stamp for k in report.kills] or [report.stamp]
        out += [s.wall for s in stamps if s.wall is not None and s.wall.tzinfo is not None]
    out += [u.stamp.wall for u in result.userspace if u.stamp.wall and u.stamp.wall.tzinfo]
    return out


def correlate(
    result: ParseResult, history: History | None = None, *, before: timedelta = DEFAULT_BEFORE
) -> ParseResult:
    """The result with its incidents: trigger, victims, culprit, suspects, cascade."""
    from oomsleuth.correlate.incidents import build

    history = history or History()
    return replace(result, incidents=build(result, history, before=before), history=history)
