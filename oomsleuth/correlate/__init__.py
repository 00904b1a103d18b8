"""Correlation: a report on the wall clock plus history -> incidents with verdicts. Pure: it
imports nothing but the model."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from oomsleuth.model import History, Report

DEFAULT_BEFORE = timedelta(minutes=30)  # as the CLI's --window default: history before a kill


def correlate(
    result: Report, history: History | None = None, *, before: timedelta = DEFAULT_BEFORE
) -> Report:
    """The result with its incidents: trigger, victims, culprit, suspects, cascade."""
    from oomsleuth.correlate.incidents import build

    history = history or History()
    return replace(result, incidents=build(result, history, before=before), history=history)
