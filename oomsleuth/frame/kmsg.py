"""``/dev/kmsg`` records: ``6,1234,115887000,-;text``.

``\\xNN`` escapes are decoded and ``\\x0a`` splits the record (see
:func:`oomsleuth.frame.quoted.pieces`); the `` KEY=value`` dictionary lines after a record
(``SUBSYSTEM=``, ``DEVICE=``) are dropped.
"""

from __future__ import annotations

from oomsleuth.frame.head import Head
from oomsleuth.model.patterns import lazy_compile

_KMSG = lazy_compile(r"(\d{1,4}),(\d{1,20}),(\d{1,20}),([^;]*);")
_KMSG_CALLER = lazy_compile(r"caller=([TC]\d+)")
_KMSG_ESC = lazy_compile(r"(?:\\x[0-9a-fA-F]{2})+")
_DICT = lazy_compile(r" [A-Z0-9_]+=")


def _unescape(text: str) -> str:
    if "\\x" not in text:
        return text
    return _KMSG_ESC.sub(
        lambda m: bytes.fromhex(m[0].replace("\\x", "")).decode("utf-8", errors="surrogateescape"),
        text,
    )


def record(s: str) -> Head | None:
    """A kmsg record's header and text, or None."""
    match = _KMSG.match(s)
    if match is None:
        return None
    who = _KMSG_CALLER.search(match[4])
    text = _unescape(s[match.end() :])
    uptime = int(match[3]) / 1e6
    return Head("kmsg", text, match.end(), uptime, caller=who[1] if who else None)


def is_dictionary(body: str) -> bool:
    """A `` KEY=value`` line that follows a kmsg record."""
    return _DICT.match(body) is not None
