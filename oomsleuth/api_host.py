"""The host side of the pipeline: where the evidence comes from when no path is given (this
host, now) or a bundle holds facts, what those facts add (boot time, live cgroup state, dated
history), and ``oomsleuth collect``, which keeps that evidence in a bundle. Called by
:mod:`oomsleuth.api` only."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from oomsleuth.clock import TimeContext
from oomsleuth.errors import UsageError, log_warning
from oomsleuth.model import HostFacts, Report, Stamp
from oomsleuth.model.outcomes import event_moments
from oomsleuth.model.record import replace

if TYPE_CHECKING:
    from oomsleuth.history.windows import Windows
    from oomsleuth.load.evidence import Evidence
    from oomsleuth.load.files import Input

PathLike = str | os.PathLike[str]


def narrowed(report: Report, since: datetime | None) -> Report:
    """Without the events before ``since`` (--since on the live host; the journal is asked
    for that span already, syslog files and /dev/kmsg are not)."""
    if since is None:
        return report

    def kept(stamp: Stamp) -> bool:
        return stamp.wall is None or stamp.wall.tzinfo is None or stamp.wall >= since

    return replace(
        report,
        reports=tuple(r for r in report.reports if kept(r.stamp)),
        userspace=tuple(u for u in report.userspace if kept(u.stamp)),
        alloc_failures=tuple(a for a in report.alloc_failures if kept(a.stamp)),
    )


def hosted(report: Report, evidence: Evidence, paths: int) -> Report:
    """Events with no host name of their own (dmesg, /dev/kmsg, the journal's kernel records)
    named after the host whose facts were read, when every log came from it: this host (no
    path) or the one bundle given."""
    names = {f.hostname for f in evidence.facts}
    if paths > 1 or len(evidence.facts) != 1 or None in names:
        return report
    [name] = names

    def fill(stamp: Stamp) -> Stamp:
        return stamp if stamp.host else replace(stamp, host=name)

    return replace(
        report,
        reports=tuple(
            replace(
                r,
                stamp=fill(r.stamp),
                kills=tuple(replace(k, stamp=fill(k.stamp)) for k in r.kills),
            )
            for r in report.reports
        ),
        userspace=tuple(replace(u, stamp=fill(u.stamp)) for u in report.userspace),
        alloc_failures=tuple(replace(a, stamp=fill(a.stamp)) for a in report.alloc_failures),
    )


def dated(evidence: Evidence, windows: Windows) -> list[str | Input]:
    """The host's daily history files whose span meets a window around an event."""
    if not evidence.dated_history:
        return []
    from oomsleuth.load.host_history import meets

    return [d[0] for d in evidence.dated_history if meets(d, windows.spans)]


def with_cgroups(evidence: Evidence, report: Report) -> tuple[HostFacts, ...]:
    """The facts, with the live state of the cgroups the reports named (live host only)."""
    facts = tuple(evidence.facts)
    if evidence.read_cgroups is None or not facts:
        return facts
    paths = [p for r in report.reports for p in (r.oom_memcg, r.task_memcg) if p]
    return (replace(facts[0], cgroups=evidence.read_cgroups(paths)), *facts[1:])


def evidence_of(
    paths: list[str],
    warn: Callable[[str], None],
    info: Callable[[str], None] | None,
    *,
    since: str | datetime | None,
    boots: str | None,
    tz: tzinfo,
) -> Evidence:
    """The evidence of the paths, or of this host when there is none."""
    if not paths:
        from oomsleuth.load.host import host_evidence

        return host_evidence(since=since, boots=boots, tz=tz, warn=warn, info=info)
    if since is not None or boots is not None:
        raise UsageError("--since and --boot narrow this host's evidence: give no path with them")
    from oomsleuth.load.evidence import gather

    return gather(paths, warn=warn, info=info)


def facts_boot(ctx: TimeContext, facts: list[HostFacts]) -> TimeContext:
    """Without --boot-time, the boot time a bundle or this host recorded (/proc/stat btime)."""
    if ctx.boot_time is not None:
        return ctx
    boot = next((f.boot_time for f in facts if f.boot_time is not None), None)
    return ctx if boot is None else replace(ctx, boot_time=boot, boot_source="boot-time")


def collect(
    output: PathLike,
    *,
    since: str | datetime = "-7d",
    max_bytes: int = 256 << 20,
    redact: bool = False,
    tz: str | tzinfo | None = None,
    window: str = "30m:5m",
    on_warning: Callable[[str], None] | None = None,
    on_info: Callable[[str], None] | None = None,
) -> dict[str, object]:
    """``oomsleuth collect``: this host's evidence of the period ``since`` (kernel and killer
    logs, the history around the OOM events, sysctls, swap, the state of the cgroups the kills
    named) in one gzip tarball at ``output``, written atomically, at most ``max_bytes`` of
    content. ``oomsleuth analyze OUTPUT`` reads it back. Returns its manifest."""
    from oomsleuth._version import __version__
    from oomsleuth.api import analyze, time_context
    from oomsleuth.history.windows import Windows, parse_window
    from oomsleuth.load.collect import write_bundle
    from oomsleuth.load.collect_plan import plan
    from oomsleuth.load.host import host_evidence, parse_since
    from oomsleuth.output import atomic_binary

    warn = on_warning or log_warning
    ctx = time_context(tz=tz)
    start = parse_since(since, ctx.tz)
    report = analyze(since=start, tz=ctx.tz, window=window, on_warning=lambda _: None)
    evidence = host_evidence(since=start, tz=ctx.tz, warn=warn, info=on_info)
    before, after = parse_window(window)
    windows = Windows(event_moments(report), before, after).spans
    facts = report.host_facts[0] if report.host_facts else evidence.facts[0]
    evidence.facts = [facts]
    now = datetime.now(ctx.tz)
    transform = None
    if redact:
        from oomsleuth.redact import text_redactor

        transform = text_redactor(report, (facts.hostname,) if facts.hostname else ())
    members = plan(evidence, windows, start, now, Path("/"), rename=transform)
    manifest = _manifest(facts, start, now, redact, max_bytes, __version__, ctx.tz)
    top = f"oomsleuth-{facts.hostname or 'host'}-{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
    if redact:
        top = f"oomsleuth-host-{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
    with atomic_binary(Path(output)) as stream:
        return write_bundle(
            stream, top, members, manifest, max_bytes=max_bytes, transform=transform
        )


def _manifest(
    facts: HostFacts,
    since: datetime,
    now: datetime,
    redacted: bool,
    max_bytes: int,
    version: str,
    zone: tzinfo,
) -> dict[str, object]:
    uname = " ".join(os.uname())
    return {
        "format": "oomsleuth-bundle",
        "version": 1,
        "oomsleuth": version,
        "host": None if redacted else facts.hostname,
        "boot_id": facts.boot_id,
        "btime": facts.boot_time.isoformat() if facts.boot_time else None,
        "uname": facts.kernel if redacted else uname,
        "timezone": _zone_name(zone),
        "collected": now.isoformat(),
        "since": since.isoformat(),
        "cgroup_version": facts.cgroup_version,
        "redacted": redacted,
        "max_bytes": max_bytes,
        "unreadable": list(facts.unreadable),
    }


def _zone_name(zone: tzinfo) -> str | None:
    name = os.environ.get("TZ")
    if name:
        return name
    with contextlib.suppress(OSError):
        return Path("/etc/timezone").read_text().strip() or None
    return zone.tzname(None)
