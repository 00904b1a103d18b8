"""``python -m oomsleuth`` and the console script. Ctrl-C while the CLI is still being imported
is the same one line and exit 130 as later (:func:`oomsleuth.cli.main` handles every later
phase); only the interpreter's own start-up comes before this."""

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


if __name__ == "__main__":
    main()
