"""Turn what the user named (paths, directories, '-') into inputs, each checked up front.

Directory rule: walk recursively (symlinked directories and dot-names are not followed) and
judge each file by its head (:mod:`oomsleuth.load.sniff`: the first 8 kB, decompressed): a
history format (sar, sadf, atop, pidstat, PSI samples, Prometheus, CSV series, binary sa and raw
atop files) is history; log lines or OOM words make a log (``memcg.dmesg.txt``,
``node1-kern.out``, ``app.log.txt``); our own JSON reports, ``*.expect.json``, ``*.facts.json``,
``manifest.json`` and configuration, source and document files (``*.conf``, ``*.md``...) are
skipped. A file whose name, once a rotation suffix (`.N`, `-YYYYMMDD`, `-YYYYMMDDHH`) and a
compression suffix (`.gz .xz .bz2 .zst`) are removed, is one of `LOG_PREFIXES` or starts with
one followed by `.`, `-` or `_`, or ends with one of `LOG_SUFFIXES`, is read as a log whatever
its head. Files are ordered by directory, then name, then age: the highest rotation number (or
earliest date) first, the live file last. Binary journald files, archives, FIFOs, devices and
unreadable or binary files named like logs are skipped with a warning; other files are skipped
silently (``info`` hears why: ``oomsleuth analyze -v``).
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from oomsleuth.errors import InputError, log_warning, printable
from oomsleuth.load.files import Input, checked_head, decompressed, read_errors, reason
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import field, record

LOG_PREFIXES = ("kern.log", "messages", "syslog", "dmesg", "kmsg", "journal", "journalctl")
LOG_SUFFIXES = (".log", ".json", ".export")
_PREFIXED = lazy_compile(rf"^(?:{'|'.join(map(re.escape, LOG_PREFIXES))})(?:$|[._-])")
_ROTATED = lazy_compile(
    r"^(?P<base>.+?)(?:\.(?P<num>\d+)|-(?P<date>\d{8}(?:\d{2})?))?(?:\.(?:gz|xz|bz2|zst))?$"
)
Say = Callable[[str], None]


def _special(path: str) -> str | None:
    """What a non-regular file in a folder is (a FIFO would block the run), or None."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None  # gone, or unreadable: reading it will say so
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
        return None
    return "a FIFO" if stat.S_ISFIFO(mode) else _kind(mode)


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "a socket" if stat.S_ISSOCK(mode) else "a special file"


def _probe(path: Path, name: str) -> None:
    """Open `path` and check its first decompressed block, so bad input fails early."""
    packed = False
    try:
        with path.open("rb") as raw:
            stream = decompressed(raw, name)
            packed = not isinstance(stream, io.BufferedReader)
            checked_head(stream, name)
    except read_errors() as exc:
        what = " (binary data: a compressed header, but no readable stream)" if packed else ""
        raise InputError(f"cannot read {name}: {reason(exc)}{what}") from None


def is_log_name(filename: str) -> bool:
    match = _ROTATED.match(filename)
    base = match["base"] if match else filename
    return _PREFIXED.match(base) is not None or base.endswith(LOG_SUFFIXES)


def age_key(filename: str) -> tuple[str, int, int, str, str]:
    """Sort key: same log family together, oldest rotation first, live file last."""
    match = _ROTATED.match(filename)
    if match is None:
        return (filename, 2, 0, "", filename)
    if match["num"] is not None:
        return (match["base"], 0, -int(match["num"]), "", filename)
    if match["date"] is not None:
        return (match["base"], 1, 0, match["date"], filename)
    return (match["base"], 2, 0, "", filename)


@record()
class Found:
    """What a folder holds: its logs and its history, each in reading order."""

    logs: list[Input] = field(default_factory=list)
    history: list[Input] = field(default_factory=list)


def _files(directory: str, warn: Say) -> Iterator[tuple[str, str, str]]:
    """(folder relative to ``directory``, path, file name) of every file to consider."""

    def on_error(exc: OSError) -> None:
        if exc.filename == directory:
            raise InputError(f"cannot read {directory}: {reason(exc)}")
        warn(f"skipped {exc.filename}: {reason(exc)}")

    for root, dirs, files in os.walk(directory, onerror=on_error):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = "" if root == directory else os.path.relpath(root, directory)
        for filename in files:
            full = os.path.join(root, filename)
            special = None if filename.startswith(".") else _special(full)
            if special:
                warn(f"skipped {full}: it is {special}, not a file")
            elif not filename.startswith("."):
                yield rel, full, filename


def _role(full: str, filename: str, warn: Say, info: Say) -> str:
    """log | history | journald | skip: by name first (journald files, expectations), then by
    the head's content; a file named like a log is read as one unless its head says otherwise
    (binary ones are then refused with a warning, as any named log). An archive in a folder is
    not opened (a warning says so)."""
    from oomsleuth.load.sniff import skipped_name, sniff_file  # folders only: a file is a log

    if filename.endswith((".journal", ".journal~")):
        return "journald"
    why = skipped_name(filename)
    if why is None:
        sniffed = sniff_file(Path(full))
        if sniffed.kind in ("log", "history", "journald"):
            return sniffed.kind
        if sniffed.kind == "archive":
            warn(f"skipped {printable(full)}: {sniffed.why}")
            return "skip"
        if is_log_name(filename) and sniffed.kind != "ours":
            return "log"
        why = sniffed.why
    info(f"skipped {printable(full)}: {why}")
    return "skip"


def walk_folder(directory: str, warn: Say, info: Say | None = None) -> Found:
    """The logs and history of a folder (module doc). Raises InputError when it holds no log."""
    logs: list[tuple[str, tuple[str, int, int, str, str], str]] = []
    history: list[tuple[str, tuple[str, int, int, str, str], str]] = []
    journals: list[str] = []
    for rel, full, filename in _files(directory, warn):
        role = _role(full, filename, warn, info or (lambda _: None))
        if role == "journald":
            journals.append(full)
        elif role in ("log", "history"):
            (logs if role == "log" else history).append((rel, age_key(filename), full))
    if journals:
        warn(
            f"skipped {len(journals)} binary journald file(s) under {directory} "
            f"(e.g. {journals[0]}); convert with: journalctl --file FILE -o export > FILE.export"
        )
    found = Found(history=[Input(name, Path(name)) for _, _, name in sorted(history)])
    for _, _, name in sorted(logs):
        try:
            found.logs.append(_file_input(name))
        except InputError as exc:
            warn(f"skipped {exc.message}")
    if not found.logs:
        looked = ", ".join([f"{p}*" for p in LOG_PREFIXES] + [f"*{s}" for s in LOG_SUFFIXES])
        also = f"; {len(found.history)} history file(s) found" if found.history else ""
        raise InputError(
            f"no log files in {directory} (looked for {looked}, and log lines or OOM words "
            f"in the head of every file{also})"
        )
    return found


def _file_input(name: str) -> Input:
    path = Path(name)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise InputError(f"cannot read {name}: {reason(exc)}") from None
    if stat.S_ISFIFO(mode):  # e.g. <(zcat ...): readable once, so not probed
        return Input(name, path)
    if not stat.S_ISREG(mode):
        raise InputError(f"cannot read {name}: it is {_kind(mode)}, not a regular file")
    _probe(path, name)
    return Input(name, path)


def resolve_inputs(
    args: Sequence[str], *, on_warning: Callable[[str], None] | None = None
) -> list[Input]:
    """Turn arguments (paths, directories, '-') into Inputs, in the order given.

    One bad input costs a warning, not the run: a missing, unreadable, special or binary file
    or a folder without logs among several inputs is skipped through `on_warning` (default: the
    `oomsleuth` logger), as are FIFOs and devices inside a folder and a file named twice (read
    once). Raises InputError (one line) when nothing at all can be read, or '-' is given twice.
    """
    warn = on_warning if on_warning is not None else log_warning
    inputs: list[Input] = []
    failures: list[str] = []
    seen_stdin = False
    for arg in args:
        if arg == "-":
            if seen_stdin:
                raise InputError("'-' (standard input) given more than once")
            seen_stdin = True
            inputs.append(Input("<stdin>", None))
            continue
        try:
            inputs.extend(walk_folder(arg, warn).logs if os.path.isdir(arg) else [_file_input(arg)])
        except InputError as exc:
            if len(args) == 1:
                raise
            failures.append(exc.message)
            warn(f"skipped {exc.message.removeprefix('cannot read ')}")
    if not inputs:
        raise InputError("nothing could be read: " + "; ".join(failures))
    return once(inputs, warn)


def once(inputs: list[Input], warn: Callable[[str], None]) -> list[Input]:
    """Each file read once: the same file named twice, through a link, or as a file and the
    folder that holds it."""
    seen: dict[tuple[int, int], str] = {}
    out: list[Input] = []
    for item in inputs:
        try:
            st = item.path.stat() if item.path is not None else None
        except OSError:
            st = None
        if st is not None and stat.S_ISREG(st.st_mode):
            first = seen.get((st.st_dev, st.st_ino))
            if first is not None:
                same = "named twice" if first == item.name else f"the same file as {first}"
                warn(f"{item.name} is {same}: read once")
                continue
            seen[st.st_dev, st.st_ino] = item.name
        out.append(item)
    return out
