"""``oomsleuth collect``: the host's evidence in one tarball (docs/bundles.md), written to a stream
the caller makes atomic. Each member says what it is, where it came from and by which command in
``manifest.json``; what does not fit in ``max_bytes`` is named in ``left_out``. With a
``transform`` (``--redact``) every text member is rewritten line by line, compressed rotations
included (they are then stored as text).
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from oomsleuth.errors import InputError
from oomsleuth.load.files import Input, read_errors
from oomsleuth.model.record import record

SPOOL_BYTES = 16 << 20  # members of unknown size (a journal stream) are spooled; past this, to disk


@record(frozen=True)
class Member:
    """One file of the bundle: its name inside, what it is, where from, by which command."""

    arcname: str
    what: str
    origin: str
    content: Input | bytes
    command: str | None = None
    text: bool = True  # a log or a text file (rewritten by a transform); False: binary history


def write_bundle(
    stream: IO[bytes],
    top: str,
    members: Iterable[Member],
    manifest: dict[str, Any],
    *,
    max_bytes: int,
    transform: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """Write the bundle to ``stream`` (gzip tar); returns the manifest written into it."""
    files: list[dict[str, Any]] = []
    left_out: list[dict[str, str]] = []
    used = 0
    unreadable: tuple[type[BaseException], ...] = (InputError, *read_errors())
    with tarfile.open(fileobj=stream, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for member in members:
            try:
                used = _add(tar, top, member, transform, max_bytes - used, files) + used
            except _TooBig as exc:
                left_out.append({"what": member.arcname, "why": str(exc)})
            except unreadable as exc:
                why = exc.message if isinstance(exc, InputError) else str(exc)
                left_out.append({"what": member.arcname, "why": f"unreadable: {why}"})
        manifest = {**manifest, "files": files, "left_out": left_out}
        data = (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode()
        _put(tar, f"{top}/manifest.json", io.BytesIO(data), len(data))
    return manifest


class _TooBig(Exception):
    pass


def _add(
    tar: tarfile.TarFile,
    top: str,
    member: Member,
    transform: Callable[[str], str] | None,
    room: int,
    files: list[dict[str, Any]],
) -> int:
    """Add one member; the bytes it took. Raises _TooBig when it does not fit in ``room``."""
    arcname = member.arcname
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as spool:
        if isinstance(member.content, bytes):
            spool.write(member.content if transform is None else _rewrite_bytes(member, transform))
        elif transform is not None and member.text:
            arcname = _plain_name(arcname)
            for line in member.content.lines():
                spool.write((transform(line) + "\n").encode("utf-8", "surrogateescape"))
        else:
            with ExitStack() as stack:
                _copy(member.content.open(stack), spool, room)
        size = spool.tell()
        if size > room:
            raise _TooBig(f"over the size limit ({size} bytes, {max(room, 0)} left)")
        spool.seek(0)
        _put(tar, f"{top}/{arcname}", spool, size)
    entry = {"path": arcname, "what": member.what, "from": member.origin, "bytes": size}
    files.append({**entry, "command": member.command} if member.command else entry)
    return size


def _copy(source: Any, target: IO[bytes], limit: int) -> None:
    copied = 0
    while chunk := source.read(1 << 16):
        target.write(chunk)
        copied += len(chunk)
        if copied > limit:
            raise _TooBig(f"over the size limit (more than {max(limit, 0)} bytes left)")


def _rewrite_bytes(member: Member, transform: Callable[[str], str]) -> bytes:
    assert isinstance(member.content, bytes)
    if not member.text:
        return member.content
    text = member.content.decode("utf-8", "surrogateescape")
    return "\n".join(transform(line) for line in text.split("\n")).encode(
        "utf-8", "surrogateescape"
    )


def _plain_name(arcname: str) -> str:
    for suffix in (".gz", ".xz", ".bz2", ".zst"):
        if arcname.endswith(suffix):
            return arcname[: -len(suffix)]
    return arcname


def _put(tar: tarfile.TarFile, name: str, data: IO[bytes], size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(time.time()), 0o644
    tar.addfile(info, data)


def host_files(root: Path) -> list[tuple[str, Path]]:
    """The host files a bundle keeps: (name in ``host/``, path)."""
    proc, sys = root / "proc", root / "sys"
    return [
        ("swaps", proc / "swaps"),
        ("meminfo", proc / "meminfo"),
        ("vmstat", proc / "vmstat"),
        ("zoneinfo", proc / "zoneinfo"),
        ("pressure-memory", proc / "pressure" / "memory"),
        ("zswap-enabled", sys / "module" / "zswap" / "parameters" / "enabled"),
        ("boot_id", proc / "sys" / "kernel" / "random" / "boot_id"),
    ]
