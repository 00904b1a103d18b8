"""Folders and archives walked member by member, nothing extracted to disk.

An archive is recognised by its magic bytes, not its name
(:func:`oomsleuth.load.bundles.archive_kind`): zip (``PK``), or tar (``ustar`` at
offset 257 of the stream, once a gzip, xz, bzip2 or zstd layer is taken off: ``.tar``,
``.tar.gz``/``.tgz``, ``.tar.xz``, ``.tar.bz2``, ``.tar.zst``). A gzip-compressed single log is
not an archive. :func:`scan` streams the members past a visitor once, which may read each one's
head (or a small file whole) as it goes by; a member chosen as an input is read again later, on
its own, through :attr:`Member.opener` (a tar member by skipping the decompressed stream to its
data, a zip member through zipfile's random access), so memory stays flat whatever the sizes.

Member names are text from the archive: they are never used as paths on this machine, and are
shown escaped (:func:`oomsleuth.errors.printable`). A damaged archive (truncated, corrupt) ends
the scan with one warning; the members before the damage are kept.
"""

from __future__ import annotations

import io
import os
import stat
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, cast

from oomsleuth.errors import InputError, printable
from oomsleuth.load.files import Input, Opener, decompressed, read_errors, reason
from oomsleuth.model.record import record

if TYPE_CHECKING:
    import tarfile
    import zipfile

    from _typeshed import WriteableBuffer

_SKIP_CHUNK = 1 << 20
Say = Callable[[str], None]


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@record(frozen=True, slots=True)
class Member:
    """One file of a folder or an archive. ``rel``: its path inside, ``/``-separated, without a
    leading ``./``; ``name``: what messages call it (the file's path, or ``ARCHIVE:member``,
    escaped); ``link``: the target of a symbolic link (then it has no content)."""

    rel: str
    name: str
    size: int
    opener: Opener | None = None
    path: Path | None = None
    link: str | None = None

    def input(self) -> Input:
        return Input(self.name, self.path, opener=self.opener)


# the visitor: a member, and its content while the call lasts (None for a link)
Visit = Callable[[Member, "_Readable | None"], None]


def scan(path: Path, label: str, kind: str, visit: Visit, warn: Say) -> None:
    """Every member of the folder, tar or zip ``path`` (``label``: its name in messages), in
    order, through ``visit``."""
    if kind == "folder":
        _scan_folder(path, visit, warn)
    elif kind == "zip":
        _scan_zip(path, label, visit, warn)
    else:
        _scan_tar(path, label, visit, warn)


def _clean(name: str) -> str:
    while name.startswith(("./", "/")):
        name = name[2:] if name.startswith("./") else name[1:]
    return name


def _scan_folder(root: Path, visit: Visit, warn: Say) -> None:
    def on_error(exc: OSError) -> None:
        warn(f"skipped {printable(str(exc.filename))}: {reason(exc)}")

    for folder, dirs, files in os.walk(root, onerror=on_error):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for filename in sorted(files):
            full = Path(folder) / filename
            rel = full.relative_to(root).as_posix()
            try:
                st = full.lstat()
                if stat.S_ISLNK(st.st_mode):
                    visit(Member(rel, str(full), 0, link=os.readlink(full)), None)
                elif stat.S_ISREG(st.st_mode):
                    with full.open("rb") as reader:
                        visit(Member(rel, str(full), st.st_size, path=full), reader)
            except OSError as exc:
                warn(f"skipped {printable(str(full))}: {reason(exc)}")


def _scan_tar(path: Path, label: str, visit: Visit, warn: Say) -> None:
    import tarfile  # here, not at import: most runs read no archive

    count, last = 0, ""
    broken: tuple[type[BaseException], ...] = (tarfile.TarError, zlib.error, *read_errors())
    try:
        with path.open("rb") as raw:
            stream = decompressed(raw, label)
            # an uncompressed tar is read again by seeking; a compressed one by skipping
            seekable = isinstance(stream, io.BufferedReader)
            with tarfile.open(fileobj=cast("IO[bytes]", stream), mode="r|") as tar:
                while (entry := tar.next()) is not None:
                    # stream mode keeps every header it read (TarFile.members): memory would grow
                    cast("Any", tar).members.clear()
                    count, last = count + 1, printable(entry.name)
                    _visit_tar(path, label, tar, entry, seekable, visit)
    except broken as exc:
        if count == 0:
            damage = f"a damaged tar archive ({reason(exc)}; {_NO_ARCHIVE % 'tar'})"
            raise InputError(f"cannot read {label}: {damage}") from None
        warn(
            f"{label} is damaged in or after its member {count} ({last}): {reason(exc)}; "
            "the members before the damage are read, the rest could not be"
        )


def _visit_tar(
    path: Path, label: str, tar: tarfile.TarFile, entry: tarfile.TarInfo, seek: bool, visit: Visit
) -> None:
    rel = _clean(entry.name)
    name = f"{label}:{printable(entry.name)}"
    if entry.issym() or entry.islnk():
        visit(Member(rel, name, 0, link=entry.linkname), None)
    elif entry.isreg() and not entry.issparse():
        opener = _tar_opener(path, label, entry.offset_data, entry.size, seek)
        reader = tar.extractfile(entry)
        if reader is not None:
            visit(Member(rel, name, entry.size, opener), reader)


def _tar_opener(path: Path, label: str, offset: int, size: int, seek: bool) -> Opener:
    @contextmanager
    def opener() -> Iterator[_Readable]:
        with path.open("rb") as raw:
            if seek:
                raw.seek(offset)
                yield _Slice(raw, size)
            else:
                stream = decompressed(raw, label)
                left = offset
                while left:
                    chunk = stream.read(min(left, _SKIP_CHUNK))
                    if not chunk:
                        raise EOFError("the archive ends before this member")
                    left -= len(chunk)
                yield _Slice(stream, size)

    return opener


class _Slice(io.RawIOBase):
    """``size`` bytes of ``stream`` from where it stands; ends early with EOFError."""

    def __init__(self, stream: _Readable, size: int) -> None:
        self._stream = stream
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        out = memoryview(buffer).cast("B")
        if self._left <= 0 or not len(out):
            return 0
        data = self._stream.read(min(len(out), self._left))
        if not data:
            raise EOFError("the archive ends inside this member")
        out[: len(data)] = data
        self._left -= len(data)
        return len(data)


# what a file with an archive's magic bytes that opens as no archive is, as the refusal of a
# compressed header with no readable stream says it (load/paths.py)
_NO_ARCHIVE = "binary data: a %s header, but no readable archive"


def _zip_errors() -> tuple[type[BaseException], ...]:
    import zipfile

    return (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error)


def _scan_zip(path: Path, label: str, visit: Visit, warn: Say) -> None:
    import zipfile  # here, not at import: most runs read no archive

    broken: tuple[type[BaseException], ...] = (*_zip_errors(), *read_errors(), UnicodeError)
    try:
        archive = zipfile.ZipFile(path)
    except broken as exc:
        raise InputError(
            f"cannot read {label}: a damaged zip archive ({reason(exc)}; {_NO_ARCHIVE % 'zip'})"
        ) from None
    with archive:
        for entry in archive.infolist():
            if entry.is_dir():
                continue
            name = f"{label}:{printable(entry.filename)}"
            member = Member(_clean(entry.filename), name, entry.file_size, _zip_opener(path, entry))
            try:
                if stat.S_ISLNK(entry.external_attr >> 16):
                    link = archive.read(entry)[:4096].decode()
                    visit(Member(member.rel, name, 0, link=link), None)
                    continue
                with archive.open(entry) as reader:
                    visit(member, reader)
            except broken as exc:
                warn(f"skipped {name}: {reason(exc)}")


def _zip_opener(path: Path, entry: zipfile.ZipInfo) -> Opener:
    @contextmanager
    def opener() -> Iterator[_Readable]:
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive, archive.open(entry) as member:
                yield member
        except _zip_errors() as exc:
            raise OSError(0, reason(exc)) from None

    return opener
