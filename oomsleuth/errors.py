"""The only exceptions oomsleuth raises to its user; the CLI maps them to exit codes in one place.

OomsleuthError          base: a one-line message and the exit code to leave with (2)
├── UsageError          a bad option value (time zone, window, boot time, format)
├── InputError          a path is missing or unreadable, not a text log, or a folder without logs
│   └── HistoryError    a history input that cannot be read or is not a known format
└── OutputError         the report cannot be written
"""

from __future__ import annotations

import re

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


# C0 and C1 controls, DEL, bidi controls and isolates, zero-width and other invisible
# characters, line/paragraph separators, lone surrogates (undecodable bytes): never raw on a
# terminal, where a file name with OSC 52 could write the clipboard or CSI 2J clear the screen
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\ud800-\udfff]"
)


def printable(text: str) -> str:
    """``text`` with every control or invisible character shown as an escape (``\\x1b``,
    ``\\u200b``); an undecodable byte (a lone surrogate) as ``\\xNN``."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
