"""``oomsleuth collect``: keep this host's evidence in one tarball before logs rotate."""

# No `from __future__ import annotations` in the CLI: typer would evaluate every annotation
# string anew at each start (~8 ms); evaluated once here, they cost next to nothing.

from pathlib import Path
from typing import Annotated

import typer

import oomsleuth
from oomsleuth.cli import _say, _warn, app
from oomsleuth.errors import EXIT_FOUND, EXIT_USAGE, OomsleuthError

_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def _size(text: str) -> int:
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    unit = _UNITS.get(t[-1:], 1)
    number = t[:-1] if t[-1:] in _UNITS else t
    if not number.isdigit() or int(number) <= 0:
        raise typer.BadParameter(f"{text!r}: give a size such as 256M or 1G")
    return int(number) * unit


@app.command()
def collect(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The bundle to write (.tar.gz).", show_default=False),
    ],
    since: Annotated[
        str,
        typer.Option("--since", help="Keep the evidence of this period (as analyze --since)."),
    ] = "-7d",
    max_size: Annotated[
        str, typer.Option("--max-size", help="At most this much content (e.g. 256M, 1G).")
    ] = "256M",
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Pseudonymise host names, IPs, home users and cgroup/unit names in every text "
            "file of the bundle (as analyze --redact).",
        ),
    ] = False,
    window: Annotated[
        str, typer.Option("--window", help="History kept around each OOM event: BEFORE[:AFTER].")
    ] = "30m:5m",
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Say on stderr what was read.")
    ] = False,
) -> None:
    """Keep this host's OOM evidence in one tarball before logs rotate.

    Kernel and killer logs, the history around the kills, memory settings and cgroup state;
    `oomsleuth analyze BUNDLE` reads it back."""
    try:
        manifest = oomsleuth.collect(
            output,
            since=since,
            max_bytes=_size(max_size),
            redact=redact,
            window=window,
            on_warning=_warn,
            on_info=_say if verbose else None,
        )
    except OomsleuthError as exc:
        _say(f"error: {exc.message}")
        raise typer.Exit(exc.exit_code) from None
    files, left = manifest.get("files", []), manifest.get("left_out", [])
    assert isinstance(files, list) and isinstance(left, list)
    size = sum(int(f["bytes"]) for f in files)
    _say(f"wrote {output}: {len(files)} files, {size} bytes of content")
    for item in left:
        _warn(f"left out {item['what']}: {item['why']}")
    raise typer.Exit(EXIT_FOUND if files else EXIT_USAGE)
