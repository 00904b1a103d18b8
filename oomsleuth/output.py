"""Writing the report where the user asked, without ever costing evidence.

- The report never replaces one of the files it was made from: an output path that is (by
  device and inode, so links and other spellings count) an input or history file is refused.
- A file is written atomically: to a temporary file beside it, renamed over the target only
  when the whole report is written and flushed to disk (a device or FIFO is written in place).
  Ctrl-C, a full disk or an I/O error leave yesterday's report as it was and no partial file.
- OS errors become one line: ``cannot write PATH: reason``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO, cast

from oomsleuth.errors import OutputError


def refuse_inputs(output: Path, inputs: Iterable[str]) -> None:
    """Raise OutputError when ``output`` is one of ``inputs`` (the files the report read)."""
    try:
        out = output.stat()
    except OSError:
        return  # does not exist yet: it cannot be an input
    for name in inputs:
        with contextlib.suppress(OSError):
            st = os.stat(name)
            if (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino):
                raise OutputError(
                    f"refusing to write the report over {output}: it is an input ({name})"
                )


@contextlib.contextmanager
def atomic(output: Path) -> Iterator[TextIO]:
    """A UTF-8 text stream that becomes ``output`` when the block ends without an error. A
    target that exists and is not a regular file (``/dev/stdout``, a FIFO, a terminal) is
    written in place: it cannot be replaced, and must not be."""
    with _atomic(output, "w") as stream:
        yield cast(TextIO, stream)


@contextlib.contextmanager
def atomic_binary(output: Path) -> Iterator[BinaryIO]:
    """As :func:`atomic`, for bytes (a bundle tarball)."""
    with _atomic(output, "wb") as stream:
        yield cast(BinaryIO, stream)


@contextlib.contextmanager
def _atomic(output: Path, mode: str) -> Iterator[IO[Any]]:
    encoding = None if "b" in mode else "utf-8"
    if _special(output):
        try:
            with output.open(mode, encoding=encoding) as stream:
                yield stream
        except OSError as exc:
            raise OutputError(f"cannot write {output}: {_why(exc)}") from None
        return
    folder = output.parent if str(output.parent) else Path(".")
    held = _hold_sigint()  # a Ctrl-C between creating the file and the cleanup below: held back
    try:
        import tempfile  # here: only a file output needs it

        fd, temp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        _release(held)
        raise OutputError(f"cannot write {output}: {_why(exc)}") from None
    done = False
    try:
        _release(held)  # ... and raised here, where the temporary file is removed
        with os.fdopen(fd, mode, encoding=encoding) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        _keep_mode(output, temp)
        os.replace(temp, output)
        done = True
    except OSError as exc:
        raise OutputError(f"cannot write {output}: {_why(exc)}") from None
    finally:
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(temp)


def _hold_sigint() -> set[int | signal.Signals] | None:
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _release(held: set[int | signal.Signals] | None) -> None:
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _special(output: Path) -> bool:
    try:
        return not stat.S_ISREG(output.stat().st_mode)
    except OSError:
        return False


def _keep_mode(output: Path, temp: str) -> None:
    """An existing report keeps its permissions; a new one gets the usual 0666 & ~umask."""
    try:
        mode = output.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(temp, mode)


def _why(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()
