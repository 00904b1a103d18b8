"""Streaming the standard output of a converter (``sadf``, ``atop -r``) line by line."""

from __future__ import annotations

import subprocess
from collections.abc import Generator, Mapping, Sequence

from oomsleuth.errors import HistoryError
from oomsleuth.model.record import record


def one_line(text: str) -> str:
    """``text`` with every run of white space (line ends too) made one space."""
    return " ".join(text.split())


@record(frozen=True)
class Failed:
    """How a child that exited non-zero ended: its code, its stderr, whether it printed lines."""

    returncode: int
    stderr: str
    produced: bool


def stream_lines(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cannot_run: str,
    strip: bool,
    stderr_limit: int = -1,
) -> Generator[str, None, Failed | None]:
    """Yield the child's stdout lines (without line ends when ``strip``); return how it failed.

    The return value (``failed = yield from stream_lines(...)``) is None on exit 0. A child that
    cannot start raises ``HistoryError(f"{cannot_run}: <reason>")``. Stderr goes to a file, not a
    pipe (no deadlock on chatter); up to ``stderr_limit`` bytes of it are kept. A reader that
    stops early kills the child.
    """
    import tempfile  # here: a plain log never runs a command

    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=dict(env),
                text=True,
                errors="replace",
            )
        except OSError as exc:
            raise HistoryError(f"{cannot_run}: {one_line(str(exc))}") from None
        produced = False
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                produced = True
                yield line.rstrip("\r\n") if strip else line
            returncode = proc.wait()
        finally:
            if proc.poll() is None:  # the reader stopped early
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if returncode == 0:
            return None
        errors.seek(0)
        stderr = errors.read(stderr_limit).decode("utf-8", "replace")
        return Failed(returncode, stderr, produced)
