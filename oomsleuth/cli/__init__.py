"""The command line: options -> the public API (:func:`oomsleuth.analyze`, :func:`oomsleuth.render`,
:func:`oomsleuth.collect`) -> exit code. Errors become exit codes here and nowhere else. One module
per command (:mod:`oomsleuth.cli.analyze`, :mod:`oomsleuth.cli.collect`).

Exit codes: 0 = OOM events found, 1 = input read but no OOM event in it, 2 = bad usage or
unreadable input. Set OOMSLEUTH_DEBUG=1 to see a traceback for an internal error.
"""

# No `from __future__ import annotations` in the CLI: typer would evaluate every annotation
# string anew at each start (~8 ms); evaluated once here, they cost next to nothing.

import contextlib
import enum
import importlib
import os
import sys
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from typer.core import TyperGroup

import oomsleuth
from oomsleuth import _startup
from oomsleuth._version import __version__
from oomsleuth.errors import (
    EXIT_FOUND,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    printable,
)


def _click_exceptions() -> Any:
    """click's exceptions: typer carries its own click since 0.2x, older ones use click."""
    try:
        return importlib.import_module("typer._click.exceptions")
    except ImportError:  # pragma: no cover - an older typer
        return importlib.import_module("click.exceptions")


click = _click_exceptions()

# Commands whose module is imported, and whose click command typer builds, only when the command
# line names them or every command is listed (--help): a run of `analyze` makes neither (~8 M
# instructions, 3% of its start-up). ORDER: the order of `oomsleuth --help`.
LAZY_COMMANDS = {"collect": "oomsleuth.cli.collect", "fleet": "oomsleuth.cli.fleet"}
ORDER = {"analyze": 0, "collect": 1, "fleet": 2}


class _Commands(MutableMapping[str, Any]):
    """The root group's commands by name: the built ones, and each lazy one built on first
    access (its module registers it on :data:`app`; made as typer makes the others)."""

    def __init__(self, built: MutableMapping[str, Any]) -> None:
        self._built = dict(built)

    def __getitem__(self, name: str) -> Any:
        if name not in self._built and name in LAZY_COMMANDS:
            self._built[name] = _lazy_command(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def _names(self) -> list[str]:
        names = [*self._built, *(n for n in LAZY_COMMANDS if n not in self._built)]
        return sorted(names, key=lambda n: ORDER.get(n, len(ORDER)))

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


def _lazy_command(name: str) -> Any:
    from typer.main import get_command_from_info

    importlib.import_module(LAZY_COMMANDS[name])  # its @app.command() registers it
    info = next(
        c
        for c in app.registered_commands
        if (c.name or getattr(c.callback, "__name__", None)) == name
    )
    return get_command_from_info(
        info,
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=app.rich_markup_mode,
    )


class _Root(TyperGroup):
    """typer's group, with :class:`_Commands` for its commands."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands = _Commands(self.commands)


app = typer.Typer(
    cls=_Root,
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
    _startup.resume()  # a command runs now: the collector is back (see oomsleuth._startup)


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
    from oomsleuth.output import atomic, refuse_inputs  # (a report to stdout needs neither)

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
        if code == EXIT_INTERRUPTED:  # typer turned Ctrl-C into a silent exit 130
            _say("interrupted")
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
    finally:
        _startup.resume()  # (when no command ran: help, usage errors)
    sys.exit(code if isinstance(code, int) else EXIT_FOUND)


def _command(exc: Any) -> str:
    name = exc.ctx.info_name if exc.ctx is not None and exc.ctx.parent is not None else None
    return f"{name} " if name else ""


# the commands register themselves on `app` (collect and fleet when first asked for)
from oomsleuth.cli import analyze  # noqa: E402, F401

__all__ = ["Format", "app", "main"]
