"""The child's side of :mod:`oomsleuth.api_ahead` (whose doc says why its work is exact): the
second half's reports on the clock, correlated and written as JSON text, in the forked process
that parsed them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple, cast

from oomsleuth.clock import Clock, TimeContext
from oomsleuth.correlate import correlate
from oomsleuth.correlate.scopes import Earlier, Scopes
from oomsleuth.model import OomReport, Report, UserspaceKill
from oomsleuth.model.document_parts import incident_json

CHUNK = 64  # reports' texts a message (~0.8 MB of a dense log's)


class Resume(NamedTuple):
    """What the child goes on from to correlate its reports, from the first half's."""

    scopes: Scopes  # what the first half's reports showed of each scope
    named: dict[int, OomReport]  # the first half's reports ``scopes`` may name (by index)
    userspace: tuple[UserspaceKill, ...]  # all, on the clock
    before: timedelta  # the window


def work(half: Any, talk: Any, ctx: TimeContext) -> int | None:
    """The second half's reports on the clock (their stamps sent), correlated (the incidents
    sent) and written (their texts sent); how many, or None when the parent stops it (or has
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
        mine = [stamped(r, placed[r.where.line]) for r in own]
        resume = talk.recv()
    except EOFError:
        return None
    return _written(mine, first, resume, talk) if isinstance(resume, Resume) else None


def _written(mine: list[OomReport], first: int, resume: Resume, talk: Any) -> int:
    """Its reports (from index ``first``) correlated as they would be after the first half's
    (the incidents sent), then written: their events' texts and their incidents' sent, in
    order, ``CHUNK`` reports a message. Returns how many."""
    view: list[OomReport | None] = [None] * first + list(mine)
    for j, report in resume.named.items():
        view[j] = report
    reports = cast(tuple[OomReport, ...], tuple(view))  # (those it correlates, and they name)
    ids = range(first, len(view))
    earlier = [resume.scopes.add(i, reports[i], reports) for i in ids]
    result = Report(reports=reports, userspace=resume.userspace)
    incidents = correlate(
        result, before=resume.before, ids=ids, earlier=cast(list[Earlier], [None] * first) + earlier
    ).incidents
    talk.send(incidents)
    said = [(i, events_of(reports[i], i)) for i in ids]
    written = [(inc.report_id, text(incident_json(inc))) for inc in incidents]
    for tag, texts in (("events", said), ("incidents", written)):
        for at in range(0, len(texts), CHUNK):  # (the pipe holds one: read as they are needed)
            talk.send((tag, dict(texts[at : at + CHUNK])))
    return len(ids)


def events_of(report: OomReport, i: int) -> list[str]:
    from oomsleuth.model.document import report_events

    return [text(event) for event in report_events(report, i)]


def text(member: Any) -> str:
    from oomsleuth.model.document import clean
    from oomsleuth.renderers.json import dumps

    return dumps(member, 2, fast=True, clean=clean)
