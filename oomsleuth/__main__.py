"""``python -m oomsleuth`` and the console script. Ctrl-C while the CLI is still being imported
is the same one line and exit 130 as later (:func:`oomsleuth.cli.main` handles every later
phase); only the interpreter's own start-up comes before this.

The console script and ``python -m`` (:func:`script`) then leave without the interpreter's
teardown (:func:`_leave`), whose work is freeing memory the kernel takes back at once: 4 ms
of a one-report run's 80, ~20 ms after a log of 2,000 reports (bench/README.md, "Leaving
without the teardown"). What the teardown does that matters is done first, as the interpreter
does it: the ``atexit`` handlers (multiprocessing's children, temporary files, logging) and the
flush of standard output and error. Only when no other thread is alive (the interpreter would
join it) and the flush succeeded; else the usual exit."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType


def _interrupted(signum: int, frame: FrameType | None) -> None:
    sys.stderr.write("oomsleuth: interrupted\n")
    sys.stderr.flush()
    os._exit(130)  # nothing is open yet; an exception here could be swallowed by importlib


def main() -> None:
    signal.signal(signal.SIGINT, _interrupted)
    from oomsleuth import _startup

    _startup.pause()  # no garbage collection while modules are imported (see _startup)
    from oomsleuth.cli import main as cli_main

    signal.signal(signal.SIGINT, signal.default_int_handler)
    cli_main()


def script() -> None:
    """The console script: :func:`main` (which ends in ``SystemExit``, for a program that
    calls it), then the exit without the teardown."""
    try:
        main()
    except SystemExit as done:
        if isinstance(done.code, int):
            _leave(done.code)
        raise


def _leave(code: int) -> None:
    """Exit with ``code`` as the interpreter would, skipping its teardown (see the module
    doc); return (for the usual exit) when another thread is alive or a flush fails."""
    import atexit
    import threading

    if threading.active_count() > 1:
        return
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # (the usual exit says it as it always has)
        return
    os._exit(code)


if __name__ == "__main__":
    script()
