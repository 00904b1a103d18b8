"""Turn what the user named (paths, directories, '-') into inputs, each checked up front.

Directory rule: walk recursively (symlinked directories and dot-names are not followed) and pick
a file when its name, once a rotation suffix (`.N`, `-YYYYMMDD`, `-YYYYMMDDHH`) and a
compression suffix (`.gz .xz .bz2 .zst`) are removed, is one of `LOG_PREFIXES` or starts with
one followed by `.`, `-` or `_` (`dmesg.txt`, `journalctl_--no-pager`, not `journald.conf`), or
ends with one of `LOG_SUFFIXES`. Files are ordered by directory, then name, then age: the highest
rotation number (or earliest date) first, the live file last. Binary journald files (`*.journal`),
FIFOs, devices and unreadable or binary candidates are skipped with a warning.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from oomsleuth.errors import InputError
from oomsleuth.load.files import Input, checked_head, decompressed, read_errors, reason

LOG_PREFIXES = ("kern.log", "messages", "syslog", "dmesg", "kmsg", "journal", "journalctl")
LOG_SUFFIXES = (".log", ".json", ".export")
_PREFIXED = re.compile(rf"^(?:{'|'.join(map(re.escape, LOG_PREFIXES))})(?:$|[._-])")
_ROTATED = re.compile(
    r"^(?P<base>.+?)(?:\.(?P<num>\d+)|-(?P<date>\d{8}(?:\d{2})?))?(?:\.(?:gz|xz|bz2|zst))?$"
)
_log = logging.getLogger("oomsleuth")


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
    try:
        with path.open("rb") as raw:
            checked_head(decompressed(raw, name), name)
    except read_errors() as exc:
        raise InputError(f"cannot read {name}: {reason(exc)}") from None


def _is_log_name(filename: str) -> bool:
    match = _ROTATED.match(filename)
    base = match["base"] if match else filename
    return _PREFIXED.match(base) is not None or base.endswith(LOG_SUFFIXES)


def _age_key(filename: str) -> tuple[str, int, int, str, str]:
    """Sort key: same log family together, oldest rotation first, live file last."""
    match = _ROTATED.match(filename)
    if match is None:
        return (filename, 2, 0, "", filename)
    if match["num"] is not None:
        return (match["base"], 0, -int(match["num"]), "", filename)
    if match["date"] is not None:
        return (match["base"], 1, 0, match["date"], filename)
    return (match["base"], 2, 0, "", filename)


def _walk(directory: str, warn: Callable[[str], None]) -> list[Input]:
    found: list[tuple[str, tuple[str, int, int, str, str], str]] = []
    journals: list[str] = []

    def on_error(exc: OSError) -> None:
        if exc.filename == directory:
            raise InputError(f"cannot read {directory}: {reason(exc)}")
        warn(f"skipped {exc.filename}: {reason(exc)}")

    for root, dirs, files in os.walk(directory, onerror=on_error):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = "" if root == directory else os.path.relpath(root, directory)
        for filename in files:
            if filename.startswith("."):
                continue
            special = _special(os.path.join(root, filename))
            if special:
                warn(f"skipped {os.path.join(root, filename)}: it is {special}, not a file")
                continue
            if filename.endswith((".journal", ".journal~")):
                journals.append(os.path.join(root, filename))
            elif _is_log_name(filename):
                found.append((rel, _age_key(filename), os.path.join(root, filename)))
    if journals:
        warn(
            f"skipped {len(journals)} binary journald file(s) under {directory} "
            f"(e.g. {journals[0]}); convert with: journalctl --file FILE -o export > FILE.export"
        )
    inputs: list[Input] = []
    for _, _, name in sorted(found):
        try:
            inputs.append(_file_input(name))
        except InputError as exc:
            warn(f"skipped {exc.message}")
    if not inputs:
        looked = ", ".join([f"{p}*" for p in LOG_PREFIXES] + [f"*{s}" for s in LOG_SUFFIXES])
        raise InputError(f"no log files in {directory} (looked for {looked})")
    return inputs


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
    warn = on_warning if on_warning is not None else _log.warning
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
            inputs.extend(_walk(arg, warn) if os.path.isdir(arg) else [_file_input(arg)])
        except InputError as exc:
            if len(args) == 1:
                raise
            failures.append(exc.message)
            warn(f"skipped {exc.message.removeprefix('cannot read ')}")
    if not inputs:
        raise InputError("nothing could be read: " + "; ".join(failures))
    return _once(inputs, warn)


def _once(inputs: list[Input], warn: Callable[[str], None]) -> list[Input]:
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
