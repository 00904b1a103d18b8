"""Find the candidate lines of a block of bytes: a multi-pattern search in C.

A *finder* takes a block (complete lines) and returns the sorted offsets of matches of any of a
set of byte patterns (a match never spans a newline, so each offset names a line). With the
optional ``hyperscan`` package (``pip install 'oomsleuth[fast]'``) the whole set is one compiled
database scanned at memory speed with the GIL released; without it (another platform, or
``OOMSLEUTH_NO_HYPERSCAN=1``) the pure-Python finder runs ``bytes.find`` for each literal and
``re`` for the few patterns, jumping to the end of a line once it matched: slower, same lines.

The patterns come from the framers and parsers that need the lines (:mod:`oomsleuth.scanner`
builds them); this module only searches.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from oomsleuth.model.patterns import lazy_compile

Block = bytes | bytearray | memoryview
Finder = Callable[[Block], list[int]]
NO_HYPERSCAN = "OOMSLEUTH_NO_HYPERSCAN"  # set (to anything but 0/empty) to force the fallback
_ESCAPED = lazy_compile(rb"\\([^A-Za-z0-9])")  # an escaped punctuation character
_SYNTAX = lazy_compile(rb"[\\.*+?()\[\]{}|^$]")


_PATTERNS: weakref.WeakKeyDictionary[Finder, tuple[bytes, ...]] = weakref.WeakKeyDictionary()


def patterns_of(find: Finder) -> tuple[bytes, ...] | None:
    """The patterns a finder made here searches for (None for another callable): what a
    process of its own needs to make the same finder."""
    return _PATTERNS.get(find)


def _known(find: Finder, patterns: Sequence[bytes]) -> Finder:
    _PATTERNS[find] = tuple(patterns)
    return find


@functools.cache
def finder(patterns: tuple[bytes, ...]) -> tuple[Finder, str]:
    """A finder for ``patterns`` (Python ``re`` / hyperscan syntax, no newline in any match)
    and the name of its engine: ``hyperscan`` or ``python``."""
    if os.environ.get(NO_HYPERSCAN, "0") in ("", "0"):
        try:
            return _hyperscan(patterns), "hyperscan"
        except ImportError:
            pass
    return _python(patterns), "python"


EAGER_BYTES = 1 << 20  # inputs up to this size are scanned in Python: no hyperscan compile
WHOLE_BYTES = 32 << 10  # inputs up to this size: every line a candidate, nothing compiled


def adaptive(patterns: tuple[bytes, ...]) -> Finder:
    """The finder a run uses: every line for the first ``WHOLE_BYTES`` of input (the framer's
    own keyword test then sees each: compiling the patterns in Python costs more than that for
    a log of one report), pure Python up to ``EAGER_BYTES`` (compiling the hyperscan database
    costs more than scanning a small log so), then :func:`finder`'s."""
    seen = 0
    slow: Finder | None = None

    def find(block: Block) -> list[int]:
        nonlocal seen, slow
        seen += len(block)
        if seen <= WHOLE_BYTES:
            return line_starts(block)
        if seen > EAGER_BYTES:
            return finder(patterns)[0](block)
        if slow is None:
            slow = _python(patterns)
        return slow(block)

    return _known(find, patterns)


def line_starts(block: Block) -> list[int]:
    """The offset of every line's first byte (an offset names its line, as a match's does)."""
    data = block if isinstance(block, (bytes, bytearray)) else bytes(block)
    starts = [0] if data else []
    at = data.find(b"\n")
    while 0 <= at < len(data) - 1:
        starts.append(at + 1)
        at = data.find(b"\n", at + 1)
    return starts


def _hyperscan(patterns: Sequence[bytes]) -> Finder:
    hs: Any = importlib.import_module("hyperscan")  # optional, untyped: the `fast` extra
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(
        expressions=list(patterns),
        ids=list(range(len(patterns))),
        elements=len(patterns),
        flags=[0] * len(patterns),
    )

    own = threading.local()  # a scratch space per thread: two may search at once

    def find(block: Block) -> list[int]:
        hits: list[int] = []
        add = hits.append

        def on_match(_id: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            add(to - 1)

        scratch = getattr(own, "scratch", None)
        if scratch is None:
            scratch = own.scratch = hs.Scratch(db)
        db.scan(block, match_event_handler=on_match, scratch=scratch)
        hits.sort()
        return hits

    return _known(find, patterns)


def is_literal(pattern: bytes) -> bool:
    """True when ``pattern`` has no regex syntax but escaped punctuation."""
    return _SYNTAX.search(_ESCAPED.sub(b"", pattern)) is None


def _python(patterns: Sequence[bytes]) -> Finder:
    literals = [_ESCAPED.sub(rb"\1", p) for p in patterns if is_literal(p)]
    regexes = [re.compile(p) for p in patterns if not is_literal(p)]

    def find(block: Block) -> list[int]:
        data = block if isinstance(block, (bytes, bytearray)) else bytes(block)
        hits: list[int] = []
        for lit in literals:
            last = len(lit) - 1  # the offset of a match's last byte (after any newline in it)
            at = data.find(lit)
            while at >= 0:
                hits.append(at + last)
                end = data.find(b"\n", at + last)
                if end < 0:
                    break
                at = data.find(lit, end)
        for rx in regexes:
            hits += [m.end() - 1 for m in rx.finditer(data)]
        hits.sort()
        return hits

    return _known(find, patterns)
