"""The JSON report of a log read in two halves, written ahead by both processes: the second
half's process (:mod:`oomsleuth.load.parse_halves`), which holds that half's reports already,
stays once the halves are joined, and places them on the clock, correlates them and writes
their events and incidents as JSON text, while this process does the same for the first half.
Called by :mod:`oomsleuth.api` only (``analyze(..., ahead="json")``, then ``render``).

The exchange, once joined: this process sends the boot segments and the index of the child's
first report; each places its own reports' stamps, the child sends its stamps, this process
sends what the first half's reports showed of their scopes; each correlates its own reports,
the child sends its incidents (the Report is whole, as ``analyze`` always gives it), then the
texts of its events and incidents, read when the document's writer reaches them.

Why the child's part is exactly what this process would make of it:

- **clock**: a report's stamps are placed by :class:`~oomsleuth.clock.Clock` from the boot
  segments and the time context alone, one report at a time. The child is sent the joined
  scanner's segments and inherited the context (made before the fork); its reports are
  unpacked from the very values this process unpacks (:func:`scan_halves.reports_of`).
- **what comes between** (:func:`oomsleuth.api._parsed`): the suspend-drift check only adds
  warnings (written here); the merge of copies must have changed nothing, or the child is
  stopped; nothing narrows or renames events (no ``--since``, no host facts: checked before).
- **correlation** of a report reads the report, what its scope saw before it (the reports'
  :class:`~oomsleuth.correlate.scopes.Scopes`, read in order: the child goes on from the first
  half's, sent with the reports they name), the userspace kills (sent, on the clock), the
  history and host facts (none: checked) and the window (sent).
- **text**: each event and incident as the document's writer writes a member
  (:func:`oomsleuth.renderers.json.dumps` at depth 0), put in its place by
  :func:`oomsleuth.model.document.document_items`. The texts go to :func:`written` for the one
  Report they were made for (the same object: a changed report is rendered here).

A child lost at any step, or failing, costs nothing but time: what it did not send is made here.
``tests/test_ahead.py`` compares the JSON with the one-process run on every fixture and corpus
log cut at its reports, a log with two boots, the child lost at each step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from oomsleuth.model import Report

if TYPE_CHECKING:  # (imported where used: most runs never work ahead)
    from oomsleuth.api_ahead_child import Resume
    from oomsleuth.clock import Clock, TimeContext
    from oomsleuth.correlate.scopes import Earlier
    from oomsleuth.load.forking import Pending
    from oomsleuth.model import History, HostFacts, Incident, OomReport

FORMATS = ("json",)  # what can be written ahead
T = TypeVar("T")


class Ahead:
    """Both sides of the work ahead (:class:`oomsleuth.load.parse_halves.Follow`)."""

    def __init__(self, ctx: TimeContext, before: timedelta) -> None:
        self.ctx, self.before = ctx, before
        self.tail: Pending | None = None  # the child, once the halves are joined
        self.base = 0  # the lines before its half
        self.first = 0  # the reports before its half
        self.earlier: list[Earlier] = []  # this half's reports' (scopes.index)

    def child(self, half: Any, talk: Any) -> object:
        """In the child: :func:`oomsleuth.api_ahead_child.work`."""
        from oomsleuth.api_ahead_child import work

        return work(half, talk, self.ctx)

    # here
    def joined(self, tail: Pending, base: int, joined: Report) -> None:
        """The halves joined: the child is sent the boot segments and the index its first
        report will have (no segments: it is stopped)."""
        self.tail, self.base = tail, base
        self.first = sum(1 for r in joined.reports if r.where.line <= base)
        if joined.segments:
            self._send((joined.segments, self.first))
        else:  # (the clock makes segments of all events then)
            self.stop()

    def resolve(self, result: Report) -> Report:
        """``resolve_times(result)``, the second half's stamps as the child placed them; the
        child sent what it needs to correlate its reports meanwhile."""
        from oomsleuth.clock import Clock, resolve_times
        from oomsleuth.clock.resolve import stamped

        head = result.reports[: self.first]
        if self.tail is None or any(r.where.line > self.base for r in head):
            self.stop()
            return resolve_times(result, self.ctx)
        clock = Clock(result.segments, self.ctx)  # (the first half's first: the child's are
        placed = [stamped(r, clock.stamps(r)) for r in head]  # placed meanwhile)
        self._send(self._resume(placed, clock, result))
        theirs = self._receive(dict)
        if theirs is None:
            self.stop()
        return resolve_times(result, self.ctx, {r.where.line: r for r in placed} | (theirs or {}))

    def _resume(self, head: list[OomReport], clock: Clock, result: Report) -> Resume:
        """What the child goes on from: the scopes of the first half's reports, those it may
        name, the userspace kills on the clock and the window."""
        from oomsleuth.api_ahead_child import Resume
        from oomsleuth.correlate.scopes import Scopes
        from oomsleuth.model.record import replace

        scopes = Scopes()
        self.earlier = [scopes.add(i, r, head) for i, r in enumerate(head)]
        named = {j: head[j] for j in scopes.named()}
        users = tuple(replace(u, stamp=clock.stamp(u.where, u.stamp)) for u in result.userspace)
        return Resume(scopes, named, users, self.before)

    def stop(self) -> None:
        """No work ahead: the child stopped."""
        if self.tail is not None:
            self.tail.cancel()
            self.tail = None

    def correlate(self, report: Report) -> tuple[Report, Elsewhere | None]:
        """``correlate(report)``, the second half's incidents made by the child; the texts it
        writes, for :func:`written`."""
        from oomsleuth.correlate import correlate
        from oomsleuth.model.record import replace

        ours, theirs = range(self.first), range(self.first, len(report.reports))
        if self.tail is None or not theirs or len(self.earlier) != self.first:
            self.stop()
            return correlate(report, before=self.before), None
        own = correlate(report, before=self.before, ids=ours, earlier=self.earlier)
        got = self._incidents(list(theirs))
        if got is None:  # made here
            self.stop()
            got = correlate(report, before=self.before, ids=theirs).incidents
        done = replace(own, incidents=own.incidents + got)
        texts = None if self.tail is None else Elsewhere(self.tail, theirs, done)
        self.tail = None
        return done, texts

    def _incidents(self, theirs: list[int]) -> tuple[Incident, ...] | None:
        got = self._receive(tuple)
        if got is None or [i.report_id for i in got] != theirs:
            return None
        return got

    def _receive(self, kind: type[T]) -> T | None:
        """The child's next message, if it is a ``kind``."""
        from oomsleuth.load.forking import ChildLost

        if self.tail is None:
            return None
        try:
            got = self.tail.receive()
        except ChildLost:
            return None
        return got if isinstance(got, kind) else None

    def _send(self, message: object) -> None:
        from oomsleuth.load.forking import ChildLost

        if self.tail is None:
            return
        try:
            self.tail.send(message)
        except ChildLost:
            self.tail.cancel()
            self.tail = None


class Elsewhere:
    """The child's texts (:class:`oomsleuth.model.rendered.Elsewhere`), read a message at a
    time as the document's writer asks for them (its events' in order, then its incidents'),
    so that this process holds one message's; those it did not send (lost) made here."""

    def __init__(self, tail: Pending, ids: Sequence[int], report: Report) -> None:
        self.ids = frozenset(ids)
        self.report = report
        self._tail: Pending | None = tail
        self._read: dict[str, dict[Any, Any]] = {"events": {}, "incidents": {}}
        self._tag = "events"  # what the child sends now

    def events(self, report_id: int) -> list[str]:
        got = self._text("events", report_id)
        if isinstance(got, list):
            return got
        from oomsleuth.api_ahead_child import events_of

        return events_of(self.report.reports[report_id], report_id)

    def incident(self, report_id: int) -> str:
        got = self._text("incidents", report_id)
        if isinstance(got, str):
            return got
        from oomsleuth.api_ahead_child import text
        from oomsleuth.model.document_parts import incident_json

        return text(incident_json(self.report.incidents[report_id]))

    def close(self) -> None:
        if self._tail is not None:
            self._tail.cancel()
            self._tail = None

    def _text(self, tag: str, report_id: int) -> object:
        """The text sent for the report, reading on to its message (None: not sent)."""
        read = self._read[tag]
        while report_id not in read and self._tail is not None and self._tag <= tag:
            try:  # ("events" < "incidents": the order they come in)
                got_tag, got = cast(tuple[str, dict[int, Any]], self._tail.receive())
            except Exception:  # (lost: the rest made here)
                self.close()
                break
            self._tag = got_tag
            read = self._read[got_tag] = got
            if got_tag == "incidents" and max(self.ids) in got:
                self._done()
        return self._read[tag].get(report_id)

    def _done(self) -> None:
        """All read: the child's end (its count) taken."""
        tail, self._tail = self._tail, None
        with contextlib.suppress(Exception):
            cast("Pending", tail).result()


def ahead_of(
    ahead: str | None, ctx: TimeContext, before: timedelta, sources: int, plain: bool
) -> Ahead | None:
    """Work ahead for ``ahead`` (a format), when it can be done: one log, and ``plain`` (no
    history, host facts, ``--since``, ``--boot`` or redaction); ``before``: the window."""
    return Ahead(ctx, before) if ahead in FORMATS and sources == 1 and plain else None


def correlated(
    ahead: Ahead | None,
    report: Report,
    past: History | None,
    before: timedelta,
    facts: tuple[HostFacts, ...],
) -> Report:
    """``correlate(report, past, facts)``, ahead when ``ahead`` was joined and nothing since
    stops it (history or host facts found); the texts kept for :func:`written`."""
    from oomsleuth.correlate import correlate

    keep(None)
    if ahead is not None and not (past or facts):
        done, texts = ahead.correlate(report)
        keep(texts)
        return done
    if ahead is not None:
        ahead.stop()
    return correlate(report, past, before=before, facts=facts)


_KEPT: list[Elsewhere] = []  # the texts of the last report analyzed ahead


def keep(texts: Elsewhere | None) -> None:
    """The texts for :func:`written` (those kept before are dropped, their child stopped)."""
    while _KEPT:
        _KEPT.pop().close()
    if texts is not None:
        _KEPT.append(texts)


def written(report: Report) -> Elsewhere | None:
    """The texts written ahead for ``report`` (that very object), once; else None."""
    if _KEPT and _KEPT[0].report is report:
        return _KEPT.pop()
    return None
