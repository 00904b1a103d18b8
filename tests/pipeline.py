"""Run the public API the way a user does, on text the test holds in memory.

``analyze_lines`` writes each source to a file of the given name in a fresh folder and calls
:func:`oomsleuth.analyze` there, so source names in the report stay the names the test chose.
Files get ``mtime`` when given (it decides the year of syslog lines). Everything runs on UTC
unless the test says otherwise.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import oomsleuth
from oomsleuth.model import Report

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def write_lines(path: Path, lines: Iterable[str], mtime: datetime | None = None) -> Path:
    text = "".join(f"{line}\n" for line in lines)
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


@contextlib.contextmanager
def inside(folder: Path) -> Iterator[None]:
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(cwd)


def analyze_lines(
    sources: Mapping[str, Iterable[str]] | Iterable[str],
    *,
    mtime: datetime | None = None,
    mtimes: Mapping[str, datetime] | None = None,
    history: Mapping[str, Iterable[str]] | None = None,
    **kw: Any,
) -> Report:
    """:func:`oomsleuth.analyze` over in-memory sources ({name: lines}, or one list of lines
    named ``log``), with optional in-memory history files."""
    named = dict(sources) if isinstance(sources, Mapping) else {"log": sources}
    kw.setdefault("tz", "UTC")
    with tempfile.TemporaryDirectory() as tmp, inside(Path(tmp)):
        for name, lines in named.items():
            write_lines(Path(name), lines, (mtimes or {}).get(name, mtime))
        for name, lines in (history or {}).items():
            write_lines(Path(name), lines)
        return oomsleuth.analyze(list(named), history=list(history or {}), **kw)


def analyze_files(paths: Iterable[Path | str], **kw: Any) -> Report:
    """:func:`oomsleuth.analyze` with source names relative to the checkout (as the goldens
    show them), on UTC and syslog year 2024 unless told otherwise."""
    kw.setdefault("tz", "UTC")
    kw.setdefault("year", 2024)
    kw.setdefault("on_warning", lambda _: None)
    kw["history"] = [_relative(p) for p in kw.get("history", ())]
    with inside(ROOT):
        return oomsleuth.analyze([_relative(p) for p in paths], **kw)


def _relative(path: Path | str) -> str:
    return os.path.relpath(ROOT / path, ROOT)


def document(path: Path, **kw: Any) -> dict[str, Any]:
    """The JSON document of one log, as ``oomsleuth analyze LOG --format json`` prints it."""
    doc: dict[str, Any] = oomsleuth.analyze([path], on_warning=lambda _: None, **kw).to_dict()
    return doc
