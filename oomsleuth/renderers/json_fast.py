"""JSON text in C (orjson, the ``fast`` extra) where it is exactly the standard library's.

``json.dumps(doc, ensure_ascii=False, indent=2)`` runs in pure Python on CPython 3.11 (the C
encoder serves ``indent=None`` only); orjson with ``OPT_INDENT_2`` writes the same layout 18
times as fast, 10 times with the walk below (the pieces of a dense log's document, measured).
Compact text (``indent=None``) stays the standard library's: its separators are ``", "`` and
``": "``, orjson's ``","`` and ``":"``. Where the two differ, the standard library is used,
so the text never depends on whether orjson is installed:

- orjson raises (and the standard library writes): integers beyond 64 bits, dict keys that are
  not ``str`` (``1``, ``None``, ``True`` become ``"1"``, ``"null"``, ``"true"``), lone
  surrogates, subclasses of ``str``, ``int``, ``float``, ``dict``, ``list`` (passed through),
  nesting deeper than 254;
- orjson writes differently, found by :func:`plain` before it runs: floats below ``1e-4``
  (``0.00001`` for ``1e-05``, ``1e-9`` for ``1e-09``), NaN and infinities (``null`` for
  ``NaN``/``Infinity``), and anything but ``dict``, ``list``, ``tuple``, ``str``, ``int``,
  ``float``, ``bool`` and ``None`` (orjson writes enums, UUIDs, dataclasses, dates, which the
  standard library refuses); floats from ``1e16`` are left to the standard library as well.

The same escapes of the rest (``\\"``, ``\\\\``, ``\\b\\f\\n\\r\\t``, other C0 as ``\\u001f``;
DEL, C1, bidi and the like raw, escaped afterwards by the renderer), the same separators and
the same empty containers (``[]``, ``{}``). A sample of all of these is compared with the
standard library's text once, at first use: orjson is not used if any of it differs (another
orjson release). ``OOMSLEUTH_NO_ORJSON=1`` forces the standard library.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Any

NO_ORJSON = "OOMSLEUTH_NO_ORJSON"  # set (to anything but 0/empty) to force the standard library
Encoder = Callable[[Any], str | None]


@functools.cache
def encoder() -> Encoder | None:
    """orjson's indent-2 encoder (the text, or None where it could differ from the standard
    library's), or None without orjson, when forced off, or when its sample differs."""
    if os.environ.get(NO_ORJSON, "0") not in ("", "0"):
        return None
    try:
        import orjson
    except ImportError:
        return None
    option = (
        orjson.OPT_INDENT_2
        | orjson.OPT_PASSTHROUGH_SUBCLASS
        | orjson.OPT_PASSTHROUGH_DATACLASS
        | orjson.OPT_PASSTHROUGH_DATETIME
    )
    dumps = orjson.dumps

    def encode(doc: Any) -> str | None:
        try:
            if not plain(doc):
                return None
            return dumps(doc, option=option).decode()
        except (TypeError, RecursionError):  # orjson.JSONEncodeError is a TypeError
            return None

    return encode if agrees(encode) else None


def plain(value: Any) -> bool:
    """Whether ``value`` holds only what orjson writes as the standard library does: dicts,
    lists, tuples, str, int, bool, None and floats from 1e-4 to 1e16 (or 0). One walk, inlined
    (a call per scalar would cost half of orjson's gain)."""
    kind = type(value)
    if kind is dict:
        value = value.values()
    elif kind is not list and kind is not tuple:
        return _scalar(value)
    for v in value:
        kind = type(v)
        if kind is str or kind is int or v is None or kind is bool:
            continue
        if kind is float:
            if v == 0.0 or 1e-4 <= (v if v > 0.0 else -v) < 1e16:
                continue
            return False
        if not plain(v):
            return False
    return True


def _scalar(value: Any) -> bool:
    kind = type(value)
    if kind is float:
        return bool(value == 0.0 or 1e-4 <= abs(value) < 1e16)
    return kind is str or kind is int or kind is bool or value is None


# What orjson must write as the standard library does, checked once: every escape, non-ASCII,
# nesting and empty containers, tuples, the extremes of the integers and floats it is given.
SAMPLE: dict[str, Any] = {
    "text": "".join(map(chr, range(0x20))) + ' "q\\/ \x7f\x85\x9b\u00e9\u2028\u202e\ufeff🙂',
    "": [[], {}, (), [{}], {"k": [None, True, False]}],
    "ints": [0, -1, 2**63 - 1, -(2**63), 2**64 - 1],
    "floats": [0.0, -0.0, -1e-4, 1 / 3, 123456789.123, 9999999999999998.0]
    + [m * 10.0**e for e in range(-4, 16) for m in (1.0, 1.5, 9.87654321)],
}


def agrees(encode: Encoder) -> bool:
    """Whether ``encode`` writes :data:`SAMPLE` as ``json.dumps`` does."""
    return encode(SAMPLE) == json.dumps(SAMPLE, ensure_ascii=False, indent=2)
