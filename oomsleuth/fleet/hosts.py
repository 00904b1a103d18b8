"""The unit of work of ``oomsleuth fleet``: one host, all its files together (so copies of one
kill in several framings and the time anchors of one host meet in one :func:`oomsleuth.analyze`).

What each PATH gives (local paths, globs, and fsspec URLs such as ``s3://bucket/logs/``,
``gs://...``, ``file:///...``, read where they lie):

- a folder holding files directly (a host's ``/var/log`` copy, a sosreport folder): one host,
  named after the folder;
- a folder holding only folders and archives (a fleet): each child is a host, named after it
  (any tree below a child belongs to that host);
- an archive or bundle (``.tar*``, ``.tgz``, ``.zip``, a sosreport tarball): one host, named
  after the file without its archive suffixes;
- a log file: read once here to find the host field of its lines (syslog, RFC 3339, journal
  text forms, as the framer reads them); lines of several hosts make one host each (a central
  syslog split by host), one host field names the file's host, none leaves the file's name.

Units with the same name are merged: the same host's lines in several central logs, or a host
folder plus its share of a central log, are analysed together. Globs are expanded here.
"""

from __future__ import annotations

import bz2
import gzip
import importlib
import io
import lzma
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from oomsleuth.errors import InputError
from oomsleuth.frame import frame_lines
from oomsleuth.model.record import record

ARCHIVE_SUFFIXES = (".tar", ".tgz", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst", ".zip", ".txz")
_MAGIC: tuple[tuple[bytes, Callable[..., Any]], ...] = (
    (b"\x1f\x8b", gzip.open),
    (b"\xfd7zXZ\x00", lzma.open),
    (b"BZh", bz2.open),
)


@record(frozen=True, slots=True)
class Part:
    """One path of a host: a local path or URL; ``field``: only the lines of this host field."""

    path: str
    field: str | None = None


@record(frozen=True, slots=True)
class Host:
    name: str
    parts: tuple[Part, ...]
    size_bytes: int = 0  # what the host's logs weigh (its share of a central log)


def is_url(path: str) -> bool:
    return "://" in path


def filesystem(path: str) -> tuple[Any, str]:
    """The fsspec filesystem of ``path`` and the path inside it."""
    fs, inner = _module("fsspec.core").url_to_fs(path)
    return fs, str(inner)


def _module(name: str) -> Any:
    """An optional dependency (the fleet extra), untyped."""
    return importlib.import_module(name)


def discover(paths: Iterable[str]) -> list[Host]:
    """Every host of ``paths``, merged by name, in name order. Raises InputError for a path
    that does not exist or a glob that matches nothing."""
    found: dict[str, list[Host]] = {}
    for given in paths:
        for host in _hosts_of(given):
            found.setdefault(host.name, []).append(host)
    return [_merged(name, hosts) for name, hosts in sorted(found.items())]


def _merged(name: str, hosts: list[Host]) -> Host:
    parts = tuple(dict.fromkeys(p for h in hosts for p in h.parts))
    return Host(name, parts, sum(h.size_bytes for h in hosts))


def _hosts_of(given: str) -> Iterator[Host]:
    fs, path = filesystem(given)
    matches = sorted(fs.glob(path)) if any(c in path for c in "*?[") else [path]
    if not matches or not fs.exists(matches[0]):
        raise InputError(f"no such file or folder: {given}")
    for match in matches:
        url = _unstrip(fs, given, match)
        if fs.isdir(match):
            yield from _folder(fs, match, url)
        elif _is_archive(match):
            yield Host(_stem(match), (Part(url),), fs.size(match))
        else:
            try:
                yield from list(split_by_host(url, _stem(match)))
            except Exception:  # damaged: its worker says how, in an error row
                yield Host(_stem(match), (Part(url),), fs.size(match))


def _unstrip(fs: Any, given: str, path: str) -> str:
    """The path as workers must open it: a URL again for remote filesystems."""
    return fs.unstrip_protocol(path) if is_url(given) else path


def _folder(fs: Any, path: str, url: str) -> Iterator[Host]:
    children = fs.ls(path, detail=True)
    loose = [c for c in children if c["type"] != "directory" and not _is_archive(c["name"])]
    if loose or not children:
        yield Host(_stem(path), (Part(url),), _du(fs, path))
        return
    for child in sorted(children, key=lambda c: c["name"]):
        name = child["name"]
        size = _du(fs, name) if child["type"] == "directory" else int(child.get("size") or 0)
        yield Host(_stem(name), (Part(_unstrip(fs, url, name)),), size)


def _du(fs: Any, path: str) -> int:
    try:
        return int(fs.du(path, total=True))
    except (OSError, ValueError):
        return 0


def _is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def _stem(path: str) -> str:
    name = path.rstrip("/").rsplit("/", 1)[-1] or path
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


# -- a central log: which lines are whose --------------------------------------------------


def split_by_host(url: str, stem: str) -> Iterator[Host]:
    """The hosts of one log file, by the host field of its lines (one pass, streamed)."""
    sizes: dict[str, int] = {}
    total = 0
    with open_lines(url) as lines:
        for _, line, host in host_lines(lines, url):
            total += len(line)
            if host is not None:
                sizes[host] = sizes.get(host, 0) + len(line)
    if len(sizes) <= 1:
        yield Host(next(iter(sizes), stem), (Part(url),), total)
        return
    for host, size in sizes.items():
        yield Host(host, (Part(url, host),), size)


def host_lines(lines: Iterable[str], source: str) -> Iterator[tuple[int, str, str | None]]:
    """(line number, physical line, host field) of every line; a line that prints no host
    (a continuation, a banner) belongs to the host of the line before it."""
    raw: dict[int, str] = {}

    def kept() -> Iterator[str]:
        for number, line in enumerate(lines, 1):
            raw[number] = line
            yield line

    current: str | None = None
    done = 1
    for logical in frame_lines(kept(), source):
        while done < logical.lineno:
            yield done, raw.pop(done), current
            done += 1
        current = logical.host or current
    for number in sorted(raw):
        yield number, raw.pop(number), current


@contextmanager
def open_lines(url: str) -> Iterator[Iterator[str]]:
    """The text lines of a file or URL, decompressed by its magic bytes (gzip, xz, bzip2);
    undecodable bytes kept as surrogate escapes, so writing them back gives the same bytes."""
    try:
        with _module("fsspec").open(url, "rb") as raw:
            head = raw.read(8)
            raw.seek(0)
            opener = next((o for magic, o in _MAGIC if head.startswith(magic)), None)
            binary = opener(raw) if opener is not None else raw
            yield iter(
                io.TextIOWrapper(binary, encoding="utf-8", errors="surrogateescape", newline="\n")
            )
    except OSError as exc:
        raise InputError(f"cannot read {url}: {exc}") from None


def local_name(url: str) -> str:
    """The file name a worker gives its copy of ``url``."""
    return os.path.basename(url.rstrip("/")) or "log"
