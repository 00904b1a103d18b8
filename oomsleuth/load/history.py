"""The history inputs' I/O: find files, convert binary sa/atop files with the real tools,
sniff each file's format and stream it through its reader, keeping only the event windows.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from datetime import tzinfo
from pathlib import Path

from oomsleuth.errors import HistoryError
from oomsleuth.history.registry import Reader, sniff
from oomsleuth.history.windows import Windows
from oomsleuth.load import atop_raw, sa_binary
from oomsleuth.load.files import Input
from oomsleuth.model import History, Sample, Warning_, Where

HEAD_LINES = 60
# a compact Prometheus query_range response is one line: read it whole, up to this size
JSON_LINE_BYTES = 256 << 20


def _files(arg: str) -> list[Path]:
    path = Path(arg)
    if path.is_dir():
        found = []
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found += [Path(root) / n for n in sorted(names) if not n.startswith(".")]
        if not found:
            raise HistoryError(f"no history files in {arg}")
        return found
    if not path.exists():
        raise HistoryError(f"cannot read history {arg}: no such file or directory")
    return [path]


def _binary_lines(path: Path) -> Iterator[str] | None:
    """sa and atop raw files, converted by the real sadf/atop; None for anything else."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise HistoryError(f"cannot read history {path}: {exc.strerror or exc}") from None
    if sa_binary.is_sa_binary(head):
        return sa_binary.sa_to_lines(path)
    if atop_raw.is_atop_raw(head):
        return atop_raw.atop_to_lines(path)
    return None


def _sniffed(lines: Iterator[str]) -> tuple[Reader | None, Iterator[str]]:
    head = list(itertools.islice(lines, HEAD_LINES))
    return sniff(head), itertools.chain(head, lines)


def load_history(
    args: list[str], windows: Windows, tz: tzinfo, warn: Callable[[str], None]
) -> History:
    """Every history input, read through its format's reader; samples outside ``windows``
    are dropped as they are read. A file of unknown format is skipped with a warning."""
    samples: list[Sample] = []
    sources: list[tuple[str, str]] = []
    warnings: list[Warning_] = []
    for arg in args:
        files = _files(arg)
        for path in files:
            name = str(path)
            raw = _binary_lines(path)
            lines = raw if raw is not None else Input(name, path, JSON_LINE_BYTES).lines()
            reader, stream = _sniffed(iter(lines))
            if reader is None:
                if len(files) == 1:
                    raise HistoryError(
                        f"{name}: not a history format oomsleuth reads "
                        "(see docs/history-formats.md)"
                    )
                warn(f"skipped {name}: not a history format oomsleuth reads")
                continue
            before = len(samples)
            samples.extend(
                reader.parse(stream, source=name, tz=tz, keep=windows.keep, warn=warnings.append)
            )
            sources.append((name, reader.name))
            if len(samples) == before and windows:
                warnings.append(
                    Warning_(
                        Where(name, 0),
                        "history-outside-window",
                        "no sample of this history file falls in the window around any OOM event",
                    )
                )
    restarts = tuple((s.time, s.source) for s in samples if s.metric == "restart")
    return History(
        samples=tuple(s for s in samples if s.metric != "restart"),
        sources=tuple(sources),
        warnings=tuple(warnings),
        restarts=restarts,
    )
