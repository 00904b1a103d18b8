"""The public API: :func:`analyze`, :func:`scan` and :func:`render` (re-exported by the package).

The one pipeline, load -> frame -> parse -> clock -> correlate -> render, is wired here (with
:mod:`~oomsleuth.api_host` for the host's side, :mod:`~oomsleuth.api_scan` for the logs') and
nowhere else; the CLI, the tests and the fleet workers call these three functions.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from oomsleuth._collector import rare_full_collections
from oomsleuth.api_host import (
    collect,
    dated,
    evidence_of,
    facts_boot,
    hosted,
    narrowed,
    with_cgroups,
)
from oomsleuth.clock import (
    LIVE_BOOT_TIME,
    Clock,
    TimeContext,
    check_suspend_drift,
    merge_copies,
    parse_boot_time,
    resolve_times,
)
from oomsleuth.clock.local_zone import LocalZone
from oomsleuth.errors import UsageError, log_warning
from oomsleuth.model import Event, History, Report, Warning_
from oomsleuth.model.outcomes import event_moments
from oomsleuth.model.record import replace

if TYPE_CHECKING:
    from oomsleuth.api_ahead import Ahead
    from oomsleuth.load.files import Input

PathLike = str | os.PathLike[str]
Progress = Callable[[str, int, int, "int | None"], None]
__all__ = ["FORMATS", "analyze", "collect", "render", "scan", "time_context"]
FORMATS = ("terminal", "json", "html", "md")


@rare_full_collections()
def analyze(
    inputs: PathLike | Iterable[PathLike] = (),
    *,
    history: PathLike | Iterable[PathLike] = (),
    boot_time: str | datetime | None = None,
    tz: str | tzinfo | None = None,
    year: int | None = None,
    window: str = "30m:5m",
    redact: bool = False,
    since: str | datetime | None = None,
    boots: str | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_info: Callable[[str], None] | None = None,
    on_progress: Progress | None = None,
    excerpts: bool = True,
    ahead: str | None = None,
) -> Report:
    """Everything ``oomsleuth analyze`` does, as a model: every OOM event in ``inputs`` (paths,
    folders, archives and bundles such as sosreports, ``-`` for stdin; none: this host, now) on
    the wall clock, with incidents correlated against ``history`` and the history and host
    facts a bundle or the host holds.

    ``boot_time``: ISO 8601, epoch seconds, ``now`` (this machine) or an aware datetime;
    ``tz``: the zone of logs that print local time (default: this machine's); ``year``: the
    year of syslog lines; ``window``: history kept around each event, ``BEFORE[:AFTER]``.
    Warnings about the inputs themselves (files skipped in a folder, history outside the
    window) go to ``on_warning`` (default: the ``oomsleuth`` logger); warnings about the log's
    content are in the report. ``since``/``boots`` narrow the live host's evidence (as
    journalctl's ``--since``/``--boot``); ``on_info`` hears what was read and skipped;
    ``on_progress(source, lines, bytes_read, size)`` is called after each block of input read
    (``size``: a plain file's, else None), for a progress display. ``excerpts=False``: no
    report keeps its own log lines (``OomReport.lines``, which only the HTML report shows):
    a third less memory a report and 5-8% less time. ``ahead="json"``: the report is to be
    rendered as JSON next (by :func:`render`): a log read in two halves has its second half's
    JSON written by the process that parsed it, meanwhile (the same text, sooner).
    Raises :class:`~oomsleuth.errors.OomsleuthError`.
    ``analyze(...).to_dict()`` is the JSON document of ``oomsleuth analyze --format json``.
    """
    from oomsleuth.api_ahead import ahead_of, correlated
    from oomsleuth.history.windows import Windows, parse_window

    warn = on_warning or log_warning
    ctx = time_context(tz=tz, year=year, boot_time=boot_time)
    before, after = parse_window(window)
    evidence = evidence_of(_paths(inputs), warn, on_info, since=since, boots=boots, tz=ctx.tz)
    sources = evidence.logs
    ctx = facts_boot(ctx, evidence.facts)
    ctx.mtimes.update(_mtimes([(s.name, s.path) for s in sources if s.path is not None]))
    history_paths: list[str | Input] = [*_paths(history), *evidence.history]
    plain = not (history_paths or evidence.facts or since or boots or redact)
    follow = ahead_of(ahead, ctx, before, len(sources), plain)
    parsed = _parsed(sources, ctx, history_paths, warn, on_progress, excerpts, follow)
    report = narrowed(parsed, evidence.since)
    report = hosted(report, evidence, len(_paths(inputs)))
    windows = Windows(event_moments(report), before, after)
    history_paths += dated(evidence, windows)
    past = None
    if history_paths:
        from oomsleuth.load.history import load_history

        past = load_history(history_paths, windows, ctx.tz, warn)
        report = _offsets(report, past, history_paths, ctx, warn)
    facts = with_cgroups(evidence, report)
    report = correlated(follow, report, past, before, facts)
    if redact:
        from oomsleuth.redact import redact as redacted

        report = redacted(report)
    return report


def _parsed(
    sources: list[Input],
    ctx: TimeContext,
    history_paths: list[str | Input],
    warn: Callable[[str], None],
    tick: Progress | None = None,
    excerpts: bool = True,
    follow: Ahead | None = None,
) -> Report:
    """The sources parsed, on the wall clock, copies of one kill merged (``follow``: stopped
    when that merged any)."""
    from oomsleuth import api_scan

    damage: list[Warning_] = []

    def problem(w: Warning_) -> None:
        damage.append(w)
        warn(w.message)

    parsed = api_scan.parse(sources, problem, tick, excerpts, follow)
    if damage:
        parsed = replace(parsed, warnings=parsed.warnings + tuple(damage))
    if history_paths and ctx.boot_time is None:
        parsed = _aligned(parsed, history_paths, ctx)
    report = resolve_times(parsed, ctx) if follow is None else follow.resolve(parsed)
    drift = check_suspend_drift(report, ctx.tz)
    if drift:
        report = replace(report, warnings=report.warnings + tuple(drift))
    merged = merge_copies(report)
    if follow is not None and merged is not report:
        follow.stop()
    return merged


def scan(
    lines: Iterable[str],
    *,
    source: str = "<lines>",
    year: int | None = None,
    tz: str | tzinfo | None = None,
    boot_time: str | datetime | None = None,
) -> Iterator[Event]:
    """Stream the OOM events of any iterable of text lines (a file object, a generator over a
    bucket object, a Dask partition): each kernel report (:class:`~oomsleuth.model.OomReport`)
    once it can no longer change, each userspace kill when complete, with its wall-clock time
    where the lines seen so far anchor it (or ``boot_time``). Memory stays flat however many
    lines. No correlation and no duplicate merging across sources: that is :func:`analyze`."""
    from oomsleuth.scanner import Scanner

    ctx = time_context(tz=tz, year=year, boot_time=boot_time)
    scanner = Scanner()
    for event in scanner.events(source, lines):
        yield Clock(scanner.tracker.segments(), ctx).event(event)


@rare_full_collections()
def render(
    report: Report,
    format: str,
    stream: TextIO,
    *,
    width: int | None = None,
    color: bool | None = None,
) -> None:
    """Write ``report`` to ``stream`` as ``terminal``, ``json``, ``html`` or ``md``.
    ``width``/``color`` apply to the terminal (None: detect; ``NO_COLOR`` is respected)."""
    if format == "json":
        from oomsleuth.api_ahead import written
        from oomsleuth.renderers.json import JsonRenderer

        JsonRenderer().render(report, stream, written(report))
    elif format == "html":
        from oomsleuth.renderers.html import HtmlRenderer

        HtmlRenderer().render(report, stream)
    elif format == "md":
        from oomsleuth.renderers.markdown import MarkdownRenderer

        MarkdownRenderer().render(report, stream)
    elif format == "terminal":
        from oomsleuth.load.forking import side_by_side
        from oomsleuth.renderers.terminal import TerminalRenderer

        if os.environ.get("NO_COLOR"):
            color = False
        TerminalRenderer(width=width, color=color, side_by_side=side_by_side).render(report, stream)
    else:
        raise UsageError(f"unknown format {format!r} (one of: {', '.join(FORMATS)})")


def _aligned(parsed: Report, history: list[str | Input], ctx: TimeContext) -> Report:
    """Boots no line places, placed by lining their kills up with the history (clock.align)."""
    from oomsleuth.clock.align import align_boots, wanted
    from oomsleuth.load.history import load_traces

    pids, names, cgroups = wanted(parsed)
    if not pids:
        return parsed
    traces = load_traces(history, ctx.tz, pids=pids, names=names, cgroups=cgroups)
    return align_boots(parsed, traces)


def _offsets(
    report: Report,
    past: History,
    history: list[str | Input],
    ctx: TimeContext,
    warn: Callable[[str], None],
) -> Report:
    """A fixed offset between the log's clock and a history source's, named (clock.offset)."""
    from oomsleuth.clock.offset import check, suspects, wanted
    from oomsleuth.load.history import load_traces

    kills = suspects(report, past)
    if not kills:
        return report
    pids, names, cgroups = wanted(kills)
    traces = load_traces(history, ctx.tz, pids=pids, names=names, cgroups=cgroups)
    checked = check(report, kills, traces, ctx.tz)
    for w in checked.warnings[len(report.warnings) :]:
        warn(w.message)
    return checked


def time_context(
    *,
    tz: str | tzinfo | None = None,
    year: int | None = None,
    boot_time: str | datetime | None = None,
) -> TimeContext:
    """What the caller knows about time, checked: raises UsageError for a bad zone or boot."""
    zone = _named_zone(tz) if isinstance(tz, str) else tz
    if zone is None:
        if tz is not None:
            raise UsageError(f"unknown time zone {tz!r} (try an IANA name like Europe/Paris)")
        zone = LocalZone()  # tzlocal(), loaded when a wall clock needs it
    boot: datetime | None = boot_time if isinstance(boot_time, datetime) else None
    if isinstance(boot_time, str):
        try:
            boot = parse_boot_time(boot_time, zone)
        except ValueError as exc:
            raise UsageError(f"--boot-time: {exc}") from None
    if boot == LIVE_BOOT_TIME:
        from oomsleuth.load.host import live_boot_time

        boot = live_boot_time()
        if boot is None:
            raise UsageError("--boot-time now: cannot read btime from /proc/stat")
    if isinstance(boot, datetime) and boot.tzinfo is None:
        boot = boot.replace(tzinfo=zone)
    return TimeContext(tz=zone, year=year, now=datetime.now(timezone.utc), boot_time=boot)


def _paths(given: PathLike | Iterable[PathLike]) -> list[str]:
    if isinstance(given, (str, os.PathLike)):
        return [os.fspath(given)]
    return [os.fspath(p) for p in given]


def _named_zone(name: str) -> tzinfo | None:
    from dateutil import tz as dateutil_tz

    return dateutil_tz.gettz(name)


def _mtimes(paths: Iterable[tuple[str, Path]]) -> dict[str, datetime]:
    """Each file's mtime, in UTC (its user converts to the zone: none is loaded for this)."""
    out: dict[str, datetime] = {}
    for name, path in paths:
        with contextlib.suppress(OSError):
            out[name] = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    return out
