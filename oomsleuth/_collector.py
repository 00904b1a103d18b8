"""Python's cyclic garbage collector during a run: full collections made rare.

A run builds a model that lives until it ends: every report, its task rows, stamps and
places, then the incidents. None of it is garbage, but CPython's collector walks the whole heap
(a *full* collection, of the oldest generation) whenever the objects that survived two younger
collections since the last one reach a quarter of those it walked then, at most every tenth
collection of the middle generation (its default third threshold, 10). A model growing from a
small heap is walked again and again: 15 full collections took 1.7 s of a 9.6 s run on 10,000
reports back to back (``bench/README.md``, "Full collections"), and none found garbage.

:func:`rare_full_collections` (the decorator of :func:`oomsleuth.analyze` and
:func:`oomsleuth.render`) raises that third threshold to :data:`RARE` for the call: a full
collection then waits for ``RARE`` middle collections (each ``threshold0 * threshold1`` net new
container objects, 7,000 by default), on top of the quarter rule, so it can only come less
often than before. The young generations are collected as before: the few cycles a run makes
(~1,500 objects on 10,000 reports) die young and are freed there. The caller's thresholds come
back when the outermost call returns (calls may nest or run on several threads); a threshold
the caller set higher is kept; a collector the caller turned off stays off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

RARE = 1000  # middle-generation collections between two full ones (CPython's default: 10)

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None  # the caller's thresholds
_ours: tuple[int, int, int] | None = None  # the thresholds set here


@contextmanager
def rare_full_collections() -> Iterator[None]:
    """Full collections at most every :data:`RARE` middle ones while the block runs."""
    _enter()
    try:
        yield
    finally:
        _leave()


def _enter() -> None:
    global _depth, _saved, _ours
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            t0, t1, t2 = _saved
            _ours = (t0, t1, max(t2, RARE))
            gc.set_threshold(*_ours)
        _depth += 1


def _leave() -> None:
    global _depth, _saved, _ours
    with _lock:
        _depth -= 1
        if _depth == 0:
            # the caller's back, unless something changed them meanwhile: theirs stand
            if _saved is not None and gc.get_threshold() == _ours:
                gc.set_threshold(*_saved)
            _saved = _ours = None
