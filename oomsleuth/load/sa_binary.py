"""The one place oomsleuth runs sysstat: turning a binary sa file into ``sadf -d`` text.

sysstat keeps its history in binary daily files (``/var/log/sysstat/sa25``, ``saYYYYMMDD``,
``/var/log/sa/sa25`` on Red Hat) whose layout changes between sysstat versions; only ``sadf``
reads them. ``sa_to_lines`` streams ``sadf -d FILE -- -A``: every activity the file holds, one
``#`` header per section, UTC timestamps, read by :mod:`oomsleuth.history.sadf` (``-A`` works
with every sadf version; the CSV sections of no interest are skipped cheaply, and ``-d`` with
``-A`` stays readable by column name, which ``-dh`` with ``-A`` does not).

A file written by another sysstat version is refused by sadf with::

    Invalid system activity file: sa25
    File created by sar/sadc from sysstat version 12.7.5
    Current sysstat version cannot read the format of this file (0x2176)

which becomes a one-line :class:`HistoryError` that says what to do instead.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

from oomsleuth.errors import HistoryError
from oomsleuth.load.commands import one_line, stream_lines
from oomsleuth.model.patterns import lazy_compile

# struct file_magic starts with sysstat_magic 0xd596 then format_magic, in the writer's byte
# order; format magics so far: 0x2171 (9.1.6-10.2), 0x2173 (10.3-11.6), 0x2175 (12.x)
_MAGIC_LE, _MAGIC_BE = b"\x96\xd5", b"\xd5\x96"
_CREATED = lazy_compile(r"sysstat version (\S+)")
_FORMAT = lazy_compile(r"format of this file \((0x[0-9a-fA-F]+)\)")
SADF_ARGS = ("-d", "--", "-A")
INSTALL = "install sysstat: apt-get install sysstat (dnf/yum install sysstat)"


def is_sa_binary(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) starts like a sysstat binary data file."""
    if len(head) < 4:
        return False
    if head[:2] == _MAGIC_LE:
        fmt = int.from_bytes(head[2:4], "little")
    elif head[:2] == _MAGIC_BE:
        fmt = int.from_bytes(head[2:4], "big")
    else:
        return False
    return 0x2100 <= fmt <= 0x22FF


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _installed(sadf: str) -> str | None:
    """The installed sysstat version (``sadf -V``), None when it cannot be told."""
    try:
        done = subprocess.run(
            [sadf, "-V"], capture_output=True, text=True, timeout=10, env={"LC_ALL": "C"}
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = _CREATED.search(done.stdout + done.stderr)
    return found[1] if found else None


def _explain(path: Path, returncode: int, stderr: str, have: str | None) -> HistoryError:
    """A one-line error for a failed ``sadf``, saying what to do about it."""
    rerun = f"run `sadf -d {path.name} -- -A > {path.name}.csv` on the host that wrote it"
    created, fmt = _CREATED.search(stderr), _FORMAT.search(stderr)
    if fmt or created:
        made = created[1] if created else None
        by = f"sysstat {made}" if made else "another sysstat version"
        layout = f" (format {fmt[1]})" if fmt else ""
        installed = f"installed sadf {have}" if have else "installed sadf"
        if made and have and _version(made) > _version(have):
            fix = f"install sysstat {made} or newer, or {rerun}"
        else:
            fix = f"convert it (`sadf -c {path} > {path.name}.new`) and read the new file, or"
            fix += f" {rerun}"
        return HistoryError(
            f"{path}: sa file written by {by}{layout}, which the {installed} cannot read; {fix}"
            " and pass that text"
        )
    if "Invalid system activity file" in stderr:
        return HistoryError(
            f"{path}: not an sa file the installed sadf can read (not a sysstat file, or one "
            f"from a much older sysstat); {rerun} and pass that text"
        )
    if "End of system activity file unexpected" in stderr:
        return HistoryError(f"{path}: sa file is empty or cut short before its first record")
    if "Cannot open" in stderr or "No such file" in stderr:
        return HistoryError(f"{path}: cannot read: {one_line(stderr)[:200]}")
    detail = one_line(stderr)[:200] or "no message"
    return HistoryError(f"{path}: `sadf -d` failed (exit {returncode}): {detail}")


def sa_to_lines(path: Path) -> Iterator[str]:
    """Stream the ``sadf -d PATH -- -A`` output, line by line, without line ends.

    Raises :class:`HistoryError` (one line) when sadf is missing, the file cannot be read, or
    sadf refuses the file (it checks the header before printing anything). A file cut short
    (the host died while sadc wrote it) gives the records sadf could read, then a ``# ...``
    note line that :func:`oomsleuth.history.sadf.parse` reports as a warning.
    """
    import shutil  # here: it imports bz2 and lzma, which a plain log does not need

    sadf = shutil.which("sadf")
    if sadf is None:
        raise HistoryError(f"{path}: reading a binary sa file needs sadf: {INSTALL}")
    if not path.is_file():
        raise HistoryError(f"{path}: no such sa file")
    # C locale: English messages to recognise; -d prints dots and UTC whatever the locale
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    name = str(path) if not str(path).startswith("-") else f"./{path}"
    failed = yield from stream_lines(
        [sadf, SADF_ARGS[0], name, *SADF_ARGS[1:]],
        env=env,
        cannot_run=f"{path}: cannot run sadf",
        strip=True,
        stderr_limit=1 << 16,
    )
    if failed is None:
        return
    if failed.produced:
        why = one_line(failed.stderr)[:160] or "no message"
        yield f"# sadf stopped early (exit {failed.returncode}): {path.name} is cut short? {why}"
        return
    raise _explain(path, failed.returncode, failed.stderr, _installed(sadf))
