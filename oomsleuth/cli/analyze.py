"""``oomsleuth analyze``: find every OOM kill in the given logs, bundles or this host, and report
it."""

# No `from __future__ import annotations` in the CLI: typer would evaluate every annotation
# string anew at each start (~8 ms); evaluated once here, they cost next to nothing.

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

import oomsleuth
from oomsleuth.cli import SUFFIX_FORMATS, Format, _opened, _quiet_stdout, _say, _warn, app
from oomsleuth.errors import EXIT_FOUND, EXIT_NONE, OomsleuthError


@app.command()
def analyze(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Log files, folders (logs and history found by content), archives and bundles "
            "(sosreports, oomsleuth collect tarballs, .tar*/.zip of logs), compressed "
            ".gz/.xz/.bz2/.zst files, or - for stdin. None: this host, now (its journal or "
            "syslog files or /dev/kmsg, its history, its settings).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            help="Output format (default: from the -o file's extension, else terminal).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report to this file instead of stdout."),
    ] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain text, no colour.")] = False,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Replace host names, user names, IPs, pod, container and unit names and other "
            "cgroup path components with stable pseudonyms, in every format (numbers and "
            "kernel facts are kept).",
        ),
    ] = False,
    width: Annotated[
        int | None, typer.Option("--width", min=40, help="Terminal width (default: detect).")
    ] = None,
    year: Annotated[
        int | None,
        typer.Option(
            "--year",
            min=1970,
            max=9999,
            help="Year of syslog lines, which print none (default: from the file's mtime).",
        ),
    ] = None,
    history: Annotated[
        list[str] | None,
        typer.Option(
            "--history",
            help="History to correlate with (repeatable): sar/sadf text, sadf -j/-x, binary sa "
            "files, atop -P/-J text or raw files, pidstat -r, PSI/cgroup samples, below dump "
            "JSON/CSV, Prometheus query_range JSON, time,series,value CSV; a file or a folder.",
            show_default=False,
        ),
    ] = None,
    window: Annotated[
        str,
        typer.Option(
            "--window",
            help="History kept around each OOM event: BEFORE[:AFTER], e.g. 30m:5m or 2h.",
        ),
    ] = "30m:5m",
    boot_time: Annotated[
        str | None,
        typer.Option(
            "--boot-time",
            help="When the machine booted (ISO 8601, epoch seconds, or 'now' for this machine): "
            "puts plain dmesg stamps of the last boot on the wall clock.",
            show_default=False,
        ),
    ] = None,
    tz_name: Annotated[
        str | None,
        typer.Option(
            "--tz",
            help="Time zone of logs that print local time without a zone, e.g. Europe/Paris "
            "(default: this machine's zone).",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="This host only: events from this time on (2026-12-01, '2026-12-01 10:00', "
            "today, yesterday, -2h, '3d ago', @EPOCH), as journalctl --since.",
            show_default=False,
        ),
    ] = None,
    boot: Annotated[
        str | None,
        typer.Option(
            "--boot",
            "-b",
            help="This host only: the journal's boot to read (0 this boot, -1 the one before, "
            "a boot id, or all), as journalctl -b. Default: every boot the journal keeps.",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Say on stderr what was read, and as what.")
    ] = False,
) -> None:
    """Find every OOM kill in the given logs, bundles or this host, and report it."""
    paths = paths or []
    if "-" in paths and sys.stdin.isatty():
        _say("reading a log from the terminal: paste it, then press Ctrl-D "
             "(or pipe one in: dmesg | oomsleuth analyze -)")  # fmt: skip
    if fmt is None:  # from the output's suffix, else the terminal's
        fmt = SUFFIX_FORMATS.get(output.suffix.lower() if output else "", Format.terminal)
    try:
        with _progress() as tick:
            report = oomsleuth.analyze(
                paths,
                history=history or (),
                boot_time=boot_time,
                tz=tz_name,
                year=year,
                window=window,
                redact=redact,
                since=since,
                boots=boot,
                on_warning=_warn,
                on_info=_say if verbose else None,
                on_progress=tick,
                excerpts=fmt is Format.html,  # (only the HTML report shows a report's lines)
                ahead=fmt.value,  # (rendered next, as that)
            )
        color = False if (no_color or output is not None) else None
        with _opened(output, report) as out:
            oomsleuth.render(report, fmt.value, out, width=width, color=color)
            out.flush()
    except OomsleuthError as exc:
        _say(f"error: {exc.message}")
        raise typer.Exit(exc.exit_code) from None
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        _quiet_stdout()
    raise typer.Exit(EXIT_FOUND if report.has_events else EXIT_NONE)


def _progress() -> contextlib.AbstractContextManager[Any]:
    """The status line while stderr is a terminal (:mod:`oomsleuth.cli.progress`, imported only
    then), else nothing."""
    if not sys.stderr.isatty():
        return contextlib.nullcontext()
    from oomsleuth.cli.progress import progress

    return progress()
