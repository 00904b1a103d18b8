"""Bundles: archives and folders that hold a host's evidence, read whole (docs/bundles.md).

- an archive (tar, compressed or not, or zip: :mod:`oomsleuth.load.archive`) is scanned once,
  nothing extracted (:mod:`oomsleuth.load.tree`); then it is read as a sosreport
  (:mod:`oomsleuth.load.sosreport`), an ``oomsleuth collect`` bundle
  (:mod:`oomsleuth.load.bundle_read`), or else as any archive of logs: members chosen by their
  heads (or their names, for logs), as in a folder;
- a folder that is a sosreport or a bundle (or holds only one) is read the same way;
- a plain folder that holds history beside its logs gives both; one without history is left to
  :func:`oomsleuth.load.paths.resolve_inputs` (None), which reads its logs;
- any other path is not a bundle (None): a log, compressed or not.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from oomsleuth.errors import InputError
from oomsleuth.load.files import decompressed, read_errors
from oomsleuth.load.paths import once, walk_folder

if TYPE_CHECKING:
    from oomsleuth.load.evidence import Evidence

Say = Callable[[str], None]
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def bundle_evidence(path: str, *, warn: Say, info: Say) -> Evidence | None:
    """The evidence of ``path`` when it is a bundle (module doc), else None. Raises InputError
    when it is one but holds no log, or cannot be read at all (zstd without its module, a zip
    without its directory)."""
    where = Path(path)
    if where.is_dir():
        if _is_bundle_folder(where):
            return _read_tree(where, path, "folder", warn, info)
        return _plain_folder(path, warn, info)
    kind = archive_kind(where) if where.is_file() else None
    return None if kind is None else _read_tree(where, path, kind, warn, info)


def archive_kind(path: Path) -> str | None:
    """``zip`` or ``tar`` when ``path`` is an archive, else None (a log, compressed or not).
    Raises InputError when it is zstd-compressed and the zstandard module is missing. (Here,
    not in :mod:`oomsleuth.load.archive`: every plain log is asked, few are archives.)"""
    try:
        with path.open("rb") as raw:
            if raw.read(4) in ZIP_MAGIC:
                return "zip"
            raw.seek(0)
            head = decompressed(raw, str(path)).read(512)
    except read_errors():
        return None  # unreadable or damaged: reading it as a log will say what is wrong
    return "tar" if head[257:262] == b"ustar" else None


def _is_bundle_folder(folder: Path) -> bool:
    """A sosreport or an oomsleuth bundle, or a folder that holds only one."""
    try:
        entries = [e for e in os.scandir(folder) if not e.name.startswith(".")]
    except OSError:
        return False
    if len(entries) == 1 and entries[0].is_dir(follow_symlinks=False):
        folder = Path(entries[0].path)
    sos = (folder / "sos_commands").is_dir() and (
        (folder / "version.txt").is_file() or (folder / "sos_reports").is_dir()
    )
    if sos:
        return True
    from oomsleuth.load.bundle_read import is_manifest

    return is_manifest(folder / "manifest.json")


def _plain_folder(path: str, warn: Say, info: Say) -> Evidence | None:
    """A folder's logs and history when it holds history; else None (resolve_inputs then reads
    it again and gives the warnings, so they are heard once)."""
    from oomsleuth.load.evidence import Evidence

    said: list[str] = []
    try:
        found = walk_folder(path, said.append, info)
    except InputError:
        return None
    if not found.history:
        return None
    for message in said:
        warn(message)
    return Evidence(logs=once(found.logs, warn), history=found.history)


def _read_tree(where: Path, label: str, kind: str, warn: Say, info: Say) -> Evidence:
    """The archive or bundle folder read whole (:mod:`oomsleuth.load.bundle_tree`, imported
    here: most runs read a plain log)."""
    from oomsleuth.load.bundle_tree import tree_evidence

    return tree_evidence(where, label, kind, warn, info)
