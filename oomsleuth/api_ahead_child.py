"""The child's side of :mod:`oomsleuth.api_ahead` (whose doc says why its work is exact): the
second half's reports on the clock, correlated and written as JSON text, in the forked process
that parsed them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from oomsleuth.clock import Clock, TimeContext
from oomsleuth.correlate import correlate
from oomsleuth.correlate.scopes import Earlier
from oomsleuth.model import OomReport, Report
from oomsleuth.model.document_parts import incident_json

Texts = dict[int, tuple[list[str], str]]  # report index -> its events' texts, its incident's


class Plan(NamedTuple):
    """What the child needs, beside its own reports, to correlate them."""

    ids: dict[int, int]  # a report's first line -> its index among all reports
    reports: int  # how many reports in all
    earlier: dict[int, tuple[int | None, tuple[int, int] | None, datetime | None]]
    named: dict[int, OomReport]  # the first half's reports its reports' ``earlier`` names
    userspace: tuple[Any, ...]
    before: timedelta


def work(half: Any, talk: Any, ctx: TimeContext) -> Texts | None:
    """The second half's reports on the clock (their stamps sent) and their events written,
    then correlated (the incidents sent) and written; None when the parent stops it (or has
    gone)."""
    from oomsleuth.clock.resolve import stamped
    from oomsleuth.scan_halves import reports_of

    try:
        got = talk.recv()
        if got is None:
            return None
        segments, first = got
        clock = Clock(segments, ctx)
        own = sorted(reports_of(half), key=lambda r: r.where.line)
        placed = {r.where.line: clock.stamps(r) for r in own}
        talk.send(placed)
        mine = {r.where.line: stamped(r, placed[r.where.line]) for r in own}
        events = {first + k: events_of(r, first + k) for k, r in enumerate(mine.values())}
        plan = talk.recv()
    except EOFError:
        return None
    return None if plan is None else _written(mine, events, plan, talk)


def _written(
    mine: dict[int, OomReport], events: dict[int, list[str]], plan: Plan, talk: Any
) -> Texts | None:
    """In the child: its reports correlated (the incidents sent), then written."""
    if plan.ids != {line: first for line, first in zip(mine, events, strict=True)}:
        return None  # (not the reports it was sent for: this process makes them)
    view: list[OomReport | None] = [None] * plan.reports
    for line, report in mine.items():
        view[plan.ids[line]] = report
    for j, report in plan.named.items():
        view[j] = report
    earlier: list[Earlier | None] = [None] * plan.reports
    for i, (previous, repeats, last) in plan.earlier.items():
        earlier[i] = Earlier(None if previous is None else view[previous], repeats, last)
    reports = cast(tuple[OomReport, ...], tuple(view))  # (those it correlates, and they name)
    result = Report(reports=reports, userspace=plan.userspace)
    ids = sorted(plan.earlier)
    incidents = correlate(
        result, before=plan.before, ids=ids, earlier=cast(Sequence[Earlier], earlier)
    ).incidents
    talk.send(incidents)
    return {inc.report_id: (events[inc.report_id], text(incident_json(inc))) for inc in incidents}


def events_of(report: OomReport, i: int) -> list[str]:
    from oomsleuth.model.document import report_events

    return [text(event) for event in report_events(report, i)]


def text(member: Any) -> str:
    from oomsleuth.model.document import clean
    from oomsleuth.renderers.json import dumps

    return dumps(member, 2, fast=True, clean=clean)
