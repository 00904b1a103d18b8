"""``oomsleuth fleet``: every OOM kill of many hosts, on Dask, in one table and one overview."""

# No `from __future__ import annotations` in the CLI: typer would evaluate every annotation
# string anew at each start (~8 ms); evaluated once here, they cost next to nothing.

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer

import oomsleuth
from oomsleuth.cli import _say, app
from oomsleuth.errors import EXIT_FOUND, EXIT_NONE, OomsleuthError, printable


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[int, int, str], None] | None]:
    """A transient line on stderr counting the hosts done, when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=True)
    with console.status("starting the cluster…") as status:

        def tick(done: int, total: int, host: str) -> None:
            # a Text, never markup: no [tag] or :emoji: of a host name is interpreted
            status.update(Text(f"{done:,}/{total:,} hosts analysed (last: {printable(host)})"))

        yield tick


@app.command()
def fleet(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Host folders (one per host, or a folder of them), globs, archives and bundles, "
            "central syslog files (split by their host field), fsspec URLs (s3://, gs://, "
            "file://).",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The kill table: .jsonl or .parquet (by extension)."),
    ],
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="A Dask scheduler's address (tcp://host:8786). Default: a local cluster of "
            "processes, one worker per core.",
            show_default=False,
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the fleet overview page (self-contained HTML)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Workers of the local cluster (default: cores)."),
    ] = None,
    tz_name: Annotated[
        str | None,
        typer.Option(
            "--tz",
            help="Time zone of logs that print local time without a zone (default: the "
            "workers' zone).",
        ),
    ] = None,
    year: Annotated[
        int | None,
        typer.Option("--year", min=1970, max=9999, help="Year of syslog lines (default: mtime)."),
    ] = None,
    window: Annotated[
        str, typer.Option("--window", help="History kept around each OOM event: BEFORE[:AFTER].")
    ] = "30m:5m",
) -> None:
    r"""Every OOM kill of many hosts in one table (and one overview page), on Dask.

    Needs the fleet extra: pip install 'oomsleuth\[fleet]'.
    """
    try:
        with _progress() as tick:
            result = oomsleuth.fleet(
                paths,
                output,
                html=html,
                scheduler=scheduler,
                workers=workers,
                tz=tz_name,
                year=year,
                window=window,
                on_progress=tick,
            )
    except OomsleuthError as exc:
        _say(f"error: {exc.message}")
        raise typer.Exit(exc.exit_code) from None
    kills, errors, hosts = len(result.kills), len(result.errors), len(result.hosts)
    failed = f", {_n(errors, 'error row')}" if errors else ""
    _say(
        f"{_n(kills, 'OOM event')} on {_n(hosts, 'host')}{failed} in {result.seconds:.1f} s "
        f"-> {output}" + (f", {html}" if html else "")
    )
    raise typer.Exit(EXIT_FOUND if kills else EXIT_NONE)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"
