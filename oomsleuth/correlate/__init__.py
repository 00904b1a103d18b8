"""Correlation: a report on the wall clock plus history -> incidents with verdicts. Pure: it
imports nothing but the model."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from oomsleuth.model import History, HostFacts, Report
from oomsleuth.model.record import replace

if TYPE_CHECKING:
    from oomsleuth.correlate.scopes import Earlier

DEFAULT_BEFORE = timedelta(minutes=30)  # as the CLI's --window default: history before a kill


def correlate(
    result: Report,
    history: History | None = None,
    *,
    before: timedelta = DEFAULT_BEFORE,
    facts: tuple[HostFacts, ...] = (),
    ids: Sequence[int] | None = None,
    earlier: Sequence[Earlier] | None = None,
) -> Report:
    """The result with its incidents: trigger, victims, culprit, suspects, cascade, and what
    the host's settings (``facts``, from the live host or a bundle) did in each. ``ids``: the
    incidents of those reports alone, each as the whole would give it (``earlier``: the
    reports' :func:`~oomsleuth.correlate.scopes.index`, when known)."""
    from oomsleuth.correlate.findings import attach
    from oomsleuth.correlate.incidents import build
    from oomsleuth.correlate.reasons import attach_reasons

    history = history or History()
    built = build(result, history, before=before, ids=ids, earlier=earlier)
    incidents = attach(built, result, history, facts)
    incidents = attach_reasons(incidents, result.reports)
    return replace(result, incidents=incidents, history=history, host_facts=facts)
