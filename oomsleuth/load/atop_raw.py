"""The one place oomsleuth runs ``atop``: turning a raw atop file into ``atop -P`` text.

atop keeps its history (``/var/log/atop/atop_YYYYMMDD``) in a binary layout that changes between
versions; only atop itself can read it. ``atop -r FILE -P LABELS`` prints the parseable text
that :mod:`oomsleuth.history.atop` reads. A raw file written by another atop version (or on
another architecture) is refused by atop with::

    raw file /var/log/atop/atop_20261125 has incompatible format
    (created by version 2.7 - current version 2.8)

which becomes a one-line :class:`HistoryError` that says what to do instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from oomsleuth.errors import HistoryError
from oomsleuth.load.commands import one_line, stream_lines
from oomsleuth.model.patterns import lazy_compile

# struct rawheader starts with the unsigned int 0xfeedbeef, in the writer's byte order
_MAGICS = (b"\xef\xbe\xed\xfe", b"\xfe\xed\xbe\xef")
_CREATED = lazy_compile(r"created by version (\d+\.\d+) - current version (\d+\.\d+)")
DEFAULT_LABELS = "MEM,SWP,PAG,PSI,PRM,PRG,PRC,CPU"


def is_atop_raw(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) starts like an atop raw file."""
    return head[:4] in _MAGICS


def _explain(path: Path, labels: str, returncode: int, stderr: str) -> HistoryError:
    """A one-line error for a failed ``atop -r``, saying what to do about it."""
    rerun = f"run `atop -r {path.name} -P {labels} > atop.txt` on the host that wrote it"
    created = _CREATED.search(stderr)
    if created:
        made, have = created[1], created[2]
        if tuple(map(int, made.split("."))) < tuple(map(int, have.split("."))):
            fix = f"convert it (`atopconvert {path} {path.name}.new`) and read the new file, or"
            fix += f" {rerun}"
        else:
            fix = f"install atop {made} or newer, or {rerun}"
        return HistoryError(
            f"{path}: raw atop file written by atop {made}, which the installed atop {have} "
            f"cannot read; {fix} and pass that text"
        )
    if "incompatible format" in stderr:
        return HistoryError(
            f"{path}: raw atop file in a layout the installed atop cannot read (another atop "
            f"build or another architecture); {rerun} and pass that text"
        )
    if "wrong magic number" in stderr:
        return HistoryError(f"{path}: not a raw atop file (wrong magic number)")
    if "can not read raw file header" in stderr:
        return HistoryError(f"{path}: raw atop file is empty or cut short before its header")
    detail = one_line(stderr)[:200] or "no message"
    return HistoryError(f"{path}: `atop -r` failed (exit {returncode}): {detail}")


def atop_to_lines(path: Path, labels: str = DEFAULT_LABELS) -> Iterator[str]:
    """Stream the ``atop -r PATH -P LABELS`` output, line by line.

    Raises :class:`HistoryError` (one line) when atop is missing, the file cannot be read, or atop
    refuses the file; the error comes before any line, since atop checks the header first. A
    file cut short gives the samples atop could read, then a ``# ...`` note line that
    :func:`oomsleuth.history.atop.parse` reports as a warning.
    """
    import shutil  # here: it imports bz2 and lzma, which a plain log does not need

    atop = shutil.which("atop")
    if atop is None:
        raise HistoryError(
            f"{path}: reading a raw atop file needs atop: install atop: apt-get install atop"
        )
    if not path.is_file():
        raise HistoryError(f"{path}: no such raw atop file")
    # C locale: atop formats PSI averages with printf("%.1f"), a decimal comma elsewhere
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    failed = yield from stream_lines(
        [atop, "-r", str(path), "-P", labels],
        env=env,
        cannot_run=f"{path}: cannot run atop",
        strip=False,
    )
    if failed is None:
        return
    if failed.produced and not failed.stderr.strip():
        # a raw file cut short (the host died while atop wrote it): atop prints the
        # samples it could read and exits 7 without a word; keep them, say so
        yield f"# atop -r stopped early (exit {failed.returncode}): {path.name} may be cut short\n"
        return
    raise _explain(path, labels, failed.returncode, failed.stderr)
