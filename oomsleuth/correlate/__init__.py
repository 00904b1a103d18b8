"""Correlation: parse results plus history -> incidents with verdicts. Pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from oomsleuth.history.windows import DEFAULT_BEFORE
from oomsleuth.model import History, Report


def correlate(
    result: Report, history: History | None = None, *, before: timedelta = DEFAULT_BEFORE
) -> Report:
    """The result with its incidents: trigger, victims, culprit, suspects, cascade."""
    from oomsleuth.correlate.incidents import build

    history = history or History()
    return replace(result, incidents=build(result, history, before=before), history=history)
