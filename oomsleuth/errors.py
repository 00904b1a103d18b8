"""The only exceptions oomsleuth raises to its user; the CLI maps them to exit codes in one place.

OomsleuthError          base: a one-line message and the exit code to leave with (2)
├── UsageError          a bad option value (time zone, window, boot time, format)
├── InputError          a path is missing or unreadable, not a text log, or a folder without logs
│   └── HistoryError    a history input that cannot be read or is not a known format
└── OutputError         the report cannot be written

:func:`printable` is the one rule for foreign text (file names, log text) that reaches a person:
stderr, warnings and every report format show controls and invisible characters as escapes.
"""

from __future__ import annotations

import functools
import re
from typing import Any

EXIT_FOUND = 0  # OOM events found
EXIT_NONE = 1  # input read, no OOM event in it
EXIT_USAGE = 2  # bad usage or unreadable input
EXIT_INTERRUPTED = 130  # Ctrl-C


class OomsleuthError(Exception):
    """Base class: a one-line message for the user and the exit code to leave with."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class UsageError(OomsleuthError):
    """A bad option value: an unknown time zone, a bad window, boot time or format."""


class InputError(OomsleuthError):
    """A path is missing or unreadable, not a text log, or a directory without logs."""


class HistoryError(InputError):
    """A history input that cannot be read, or is not a history format oomsleuth reads."""


class OutputError(OomsleuthError):
    """The report cannot be written."""


# Foreign text for a person (file names, log text in stderr messages, warnings and every report
# format) shows these as visible escapes, never raw: C0 and C1 controls and DEL (ESC starts the
# OSC 52 clipboard write and the CSI 2J screen clear); every format character (Unicode Cf:
# zero-width space/joiners, word joiner, BOM, soft hyphen, the Arabic letter mark, bidi marks,
# embeddings, overrides and isolates, tag characters); line and paragraph separators; the other
# default-ignorable code points that draw nothing (combining grapheme joiner, Hangul fillers,
# variation selectors); surrogates (a lone one is an undecodable input byte). So `sshd\u200b`
# never passes for `sshd`. tests/test_escaping.py checks the class against unicodedata.
# The class as text; :func:`unsafe` compiles it at first use (~1 ms of every start otherwise, and
# a run that warns about nothing never needs it). ``UNSAFE`` is the compiled pattern.
UNSAFE_CHARS = (
    "[\x00-\x1f\x7f-\x9f\xad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\ud800-\udfff\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def printable(text: str) -> str:
    """``text`` with every character of :data:`UNSAFE_CHARS` shown as an escape: ``\\x1b`` below
    U+0100, ``\\u200b``, ``\\U000e0041`` above the BMP; an undecodable byte (a lone surrogate
    from ``surrogateescape``) as ``\\xNN``, the byte itself. Everything else, backslashes
    included, is kept: the one rule of every format but JSON (which keeps the true value)."""
    return unsafe().sub(_escape, text)


@functools.cache
def unsafe() -> re.Pattern[str]:
    """:data:`UNSAFE_CHARS` compiled (once, at first use)."""
    return re.compile(UNSAFE_CHARS)


def __getattr__(name: str) -> Any:
    if name == "UNSAFE":  # the compiled class, made when first asked for
        return unsafe()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def log_warning(message: str) -> None:
    """The default ``on_warning`` of the API: the ``oomsleuth`` logger, with foreign text shown
    escaped (a logger nobody configured writes to stderr)."""
    import logging  # here, not at import: the CLI hands the API its own

    logging.getLogger("oomsleuth").warning("%s", printable(message))
