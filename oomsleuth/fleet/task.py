"""What a Dask worker does for one host: bring its files where :func:`oomsleuth.analyze` can read
them, analyse them together, and return flat rows. Never raises: a file that breaks the analysis
is found by analysing the host's files one by one, becomes an error row (host, file, reason),
and the host's other files are still analysed.

- a local path is read where it is;
- an fsspec URL (``s3://``, ``gs://``, ``file://``) is streamed by the worker into a private
  temporary folder (object storage has no paths to hand to ``analyze``), its modification time
  kept (syslog's year comes from it), and removed afterwards; rows name the URL;
- a host's share of a central log is written to that folder as a file of the same name holding
  only its lines; rows give the central log's own line numbers.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import oomsleuth
from oomsleuth.errors import OomsleuthError
from oomsleuth.fleet.hosts import Host, Part, filesystem, host_lines, is_url, local_name, open_lines
from oomsleuth.fleet.rows import Row, error_row, report_rows
from oomsleuth.model.record import field, record

UNREADABLE = "cannot read "  # how analyze's warnings about a file it could not read begin
MAX_PROBES = 200  # files analysed one by one to find the broken one; more: one error row


@record(frozen=True, slots=True)
class Options:
    """What every host is analysed with (``oomsleuth analyze``'s options)."""

    tz: str | None = None
    year: int | None = None
    window: str = "30m:5m"


@record(slots=True)
class Local:
    """A host's files as local paths, and how to name what analyze says back."""

    paths: list[str] = field(default_factory=list)
    renames: list[tuple[str, str]] = field(default_factory=list)  # local prefix -> original
    lines: dict[str, list[int]] = field(default_factory=dict)  # split copy -> original lines


def analyze_host(host: Host, options: Options) -> list[Row]:
    """The rows of one host; error rows instead of an exception."""
    try:
        with tempfile.TemporaryDirectory(prefix="oomsleuth-fleet-") as scratch:
            local = materialize(host, Path(scratch))
            try:
                return _named(_analyzed(host.name, local.paths, options), local)
            except Exception as exc:
                return _named(_probed(host.name, local.paths, options, exc), local)
    except Exception as exc:  # the host's files could not even be fetched or split
        source = host.parts[0].path if len(host.parts) == 1 else None
        return [error_row(host.name, source, _reason(exc))]


def _analyzed(name: str, paths: list[str], options: Options) -> list[Row]:
    """The host's rows, and an error row for each of its files analyze could not read (in a
    folder, such a file costs analyze a warning, not the run)."""
    heard: list[str] = []
    report = oomsleuth.analyze(
        paths,
        tz=options.tz,
        year=options.year,
        window=options.window,
        on_warning=heard.append,
        excerpts=False,  # (a row names no line but the kill's)
    )
    rows = report_rows(report, name)
    unread = [m.split(UNREADABLE, 1)[1] for m in heard if UNREADABLE in m]
    if unread:
        files = sorted((str(p) for path in paths for p in _files(Path(path))), key=len)
        rows += [_unread_row(name, files, text) for text in unread]
    return rows


def _unread_row(name: str, files: list[str], text: str) -> Row:
    """``text`` is ``PATH: reason``: the host's file it names (the longest that fits)."""
    path = next((f for f in reversed(files) if text.startswith(f + ": ")), None)
    return error_row(name, path, text[len(path) + 2 :] if path else text)


def _ignore(message: str) -> None:
    """Other warnings about inputs (files skipped in a folder) are not rows."""


def _probed(name: str, paths: list[str], options: Options, first: Exception) -> list[Row]:
    """The host failed as a whole: find the files that fail alone, analyse the others."""
    files = [str(p) for path in paths for p in _files(Path(path))]
    if len(files) > MAX_PROBES or len(files) <= 1:
        return [error_row(name, files[0] if len(files) == 1 else None, _reason(first))]
    rows: list[Row] = []
    good: list[str] = []
    for path in files:
        try:
            oomsleuth.analyze(
                [path], tz=options.tz, year=options.year, on_warning=_ignore, excerpts=False
            )
            good.append(path)
        except Exception as exc:
            rows.append(error_row(name, path, _reason(exc)))
    if not rows:  # each file is fine alone: the failure is of the whole
        return [error_row(name, None, _reason(first))]
    if good:
        try:
            rows += _analyzed(name, good, options)
        except Exception as exc:
            rows.append(error_row(name, None, _reason(exc)))
    return rows


def _files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OomsleuthError):
        return exc.message
    kind = type(exc)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    return f"{name}: {exc}"


def _named(rows: list[Row], local: Local) -> list[Row]:
    """Rows named after the original files and their lines, not the worker's copies."""
    for row in rows:
        source = row["source"]
        if source is None:
            continue
        lines = local.lines.get(source)
        if lines is not None:
            for key in ("line", "report_line", "report_end_line"):
                n = row[key]
                row[key] = lines[n - 1] if isinstance(n, int) and 0 < n <= len(lines) else None
        for prefix, original in local.renames:
            if source == prefix or source.startswith((prefix + "/", prefix + ":")):
                row["source"] = original + source[len(prefix) :]
                break
    return rows


def materialize(host: Host, scratch: Path) -> Local:
    """Local paths for every part of ``host`` (copies in ``scratch`` where needed)."""
    local = Local()
    for number, part in enumerate(host.parts):
        if part.field is None and not is_url(part.path):
            local.paths.append(part.path)
            continue
        folder = scratch / str(number)
        folder.mkdir()
        target = folder / local_name(part.path)
        if part.field is not None:
            local.lines[str(target)] = _split_copy(part, target)
        else:
            _fetch(part.path, target)
        local.paths.append(str(target))
        local.renames.append((str(target), part.path))
    return local


def _split_copy(part: Part, target: Path) -> list[int]:
    """Write the lines of ``part.field`` to ``target``; their line numbers in the original."""
    numbers: list[int] = []
    with open_lines(part.path) as lines, target.open("w", errors="surrogateescape") as out:
        for number, line, host in host_lines(lines, part.path):
            if host == part.field:
                out.write(line)
                numbers.append(number)
    _keep_mtime(part.path, target)
    return numbers


def _fetch(url: str, target: Path) -> None:
    fs, path = filesystem(url)
    fs.get(path, str(target), recursive=True)
    if target.is_file():
        _keep_mtime(url, target)


def _keep_mtime(url: str, target: Path) -> None:
    """The copy dated as the original (syslog prints no year: analyze takes it from mtime)."""
    try:
        fs, path = filesystem(url)
        info = fs.info(path)
    except (OSError, ValueError):
        return
    when = info.get("mtime") or info.get("LastModified") or info.get("updated")
    stamp = when.timestamp() if hasattr(when, "timestamp") else when
    if isinstance(stamp, (int, float)):
        os.utime(target, (stamp, stamp))
