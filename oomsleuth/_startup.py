"""The command line's start-up: Python's cyclic garbage collector paused while it imports.

Importing typer, click and oomsleuth's modules allocates some 100,000 objects that live for the
whole run, and the collector walks them again and again as they arrive (~40 collections, a
sixth of a one-report run's time on this machine: ``bench/README.md``). None of them is
garbage, so the console script (:mod:`oomsleuth.__main__`) pauses the collector before the
imports, and the command line resumes it once a command is about to run (typer's root
callback in :mod:`oomsleuth.cli`): it moves everything made so far to the collector's
permanent generation (``gc.freeze``, never walked again, which also keeps the later
collections of a long run short) and turns the collector back on. Only a paused collector is
resumed, so a program that calls :func:`oomsleuth.cli.main` itself keeps its own collector
as it was.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Turn the collector off for the imports, unless it is off already."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """After :func:`pause`: freeze what the imports made and turn the collector back on.
    Without it (or the second time): nothing."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
