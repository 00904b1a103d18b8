"""The command line: options -> :func:`oomsleuth.analyze` -> :func:`oomsleuth.renderers` -> exit
code. Errors become exit codes here and nowhere else.

Exit codes: 0 = OOM events found, 1 = input read but no OOM event in it, 2 = bad usage or
unreadable input. Set OOMSLEUTH_DEBUG=1 to see a traceback for an internal error.
"""

from __future__ import annotations

import contextlib
import enum
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

import oomsleuth
from oomsleuth._version import __version__
from oomsleuth.errors import (
    EXIT_FOUND,
    EXIT_INTERRUPTED,
    EXIT_NONE,
    EXIT_USAGE,
    OomsleuthError,
    printable,
)
from oomsleuth.output import atomic, refuse_inputs


def _click_exceptions() -> Any:
    """click's exceptions: typer carries its own click since 0.2x, older ones use click."""
    try:
        return importlib.import_module("typer._click.exceptions")
    except ImportError:  # pragma: no cover - an older typer
        return importlib.import_module("click.exceptions")


click = _click_exceptions()

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Post-mortem forensics for Linux OOM kills: find every OOM kill in kernel logs.",
)


class Format(str, enum.Enum):
    terminal = "terminal"
    json = "json"
    html = "html"
    md = "md"


SUFFIX_FORMATS = {
    ".json": Format.json,
    ".html": Format.html,
    ".htm": Format.html,
    ".md": Format.md,
    ".markdown": Format.md,
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"oomsleuth {__version__}")
        raise typer.Exit(EXIT_FOUND)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """oomsleuth: who was killed, who triggered it, and why."""


@app.command()
def analyze(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Log files, directories (searched for kern.log*, messages*, syslog*, dmesg*, "
            "journal exports), compressed .gz/.xz/.bz2/.zst files, or - for stdin.",
            show_default=False,
        ),
    ],
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
            help="History to correlate with (repeatable): sar/sadf text, binary sa files, atop "
            "-P text or raw files, pidstat -r, PSI/cgroup samples, Prometheus query_range JSON, "
            "time,series,value CSV; a file or a folder.",
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
) -> None:
    """Find every OOM kill in the given logs and report it."""
    if "-" in paths and sys.stdin.isatty():
        _say("reading a log from the terminal: paste it, then press Ctrl-D "
             "(or pipe one in: dmesg | oomsleuth analyze -)")  # fmt: skip
    try:
        report = oomsleuth.analyze(
            paths,
            history=history or (),
            boot_time=boot_time,
            tz=tz_name,
            year=year,
            window=window,
            redact=redact,
            on_warning=_warn,
        )
        if fmt is None:
            fmt = SUFFIX_FORMATS.get(output.suffix.lower(), Format.terminal) if output else None
        color = False if (no_color or output is not None) else None
        with _opened(output, report) as out:
            oomsleuth.render(report, (fmt or Format.terminal).value, out, width=width, color=color)
            out.flush()
    except OomsleuthError as exc:
        _say(f"error: {exc.message}")
        raise typer.Exit(exc.exit_code) from None
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        _quiet_stdout()
    raise typer.Exit(EXIT_FOUND if report.has_events else EXIT_NONE)


def _say(message: str) -> None:
    """One line on stderr, with control characters from file names or logs made visible."""
    sys.stderr.write(f"oomsleuth: {printable(message)}\n")
    sys.stderr.flush()


def _warn(message: str) -> None:
    _say(f"warning: {message}")


@contextlib.contextmanager
def _opened(output: Path | None, report: oomsleuth.Report) -> Iterator[TextIO]:
    if output is None:
        yield sys.stdout
        return
    read = [*report.sources, *(s for s, _ in (report.history.sources if report.history else ()))]
    refuse_inputs(output, read)
    with atomic(output) as stream:
        yield stream


def _quiet_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's flush at exit does
    not fail again."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main() -> None:
    """Console-script entry point: errors become one line and an exit code, here only."""
    try:
        code = app(prog_name="oomsleuth", standalone_mode=False)
    except click.NoArgsIsHelpError:  # bare `oomsleuth`: typer has shown the help
        code = EXIT_FOUND
    except click.UsageError as exc:
        _say(f"error: {exc.format_message()} (see oomsleuth {_command(exc)}--help)")
        code = EXIT_USAGE
    except click.ClickException as exc:
        _say(f"error: {exc.format_message()}")
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        _say("interrupted")
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        code = EXIT_FOUND
    except Exception as exc:  # pragma: no cover - the last line of defence
        if os.environ.get("OOMSLEUTH_DEBUG"):
            raise
        _say(f"internal error: {type(exc).__name__}: {exc} (set OOMSLEUTH_DEBUG=1 for details)")
        code = EXIT_USAGE
    sys.exit(code if isinstance(code, int) else EXIT_FOUND)


def _command(exc: Any) -> str:
    name = exc.ctx.info_name if exc.ctx is not None and exc.ctx.parent is not None else None
    return f"{name} " if name else ""
