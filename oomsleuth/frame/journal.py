"""journald records (``journalctl -o json``, ``-o export`` and ``-o verbose``) turned into
``LogLine`` objects.

Field mapping (both formats): ``MESSAGE`` -> text (split on newlines; a byte-array MESSAGE is
decoded as UTF-8 with replacement), ``__REALTIME_TIMESTAMP`` (µs since the epoch) -> aware UTC
``wall``, ``_SOURCE_MONOTONIC_TIMESTAMP`` (the kernel's own stamp of a kernel record) or else
``__MONOTONIC_TIMESTAMP`` (µs) -> ``uptime_s``, ``__MONOTONIC_TIMESTAMP`` -> ``received_uptime_s``
(journald's monotonic clock when it received the record: with the realtime of that moment it
places the boot on the wall clock exactly, however late the record was received),
``_BOOT_ID`` -> ``boot_id``, ``_HOSTNAME`` -> ``host``, ``SYSLOG_IDENTIFIER`` -> ``ident`` ("kernel"
when ``_TRANSPORT=kernel``), ``SYSLOG_PID`` or ``_PID`` -> ``ident_pid``. When ``_BOOT_ID`` changes
between records, a ``boot_marker`` line (empty text) is produced before the new boot's first line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from oomsleuth.frame.export import ExportReader
from oomsleuth.frame.verbose import VerboseReader
from oomsleuth.model.lines import LogLine
from oomsleuth.model.patterns import lazy_compile

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_BOOT = lazy_compile(r"-- (?:Boot ([0-9a-fA-F-]{32,36})|Reboot) --\s*\Z")
_NOISE = lazy_compile(
    r"-- (?:Logs begin at|Journal begins at|No entries|Journal started|Subject:|Defined-By:"
    r"|Support:|Documentation:)|░░"
)


def banner(s: str) -> tuple[bool, str | None] | None:
    """A journalctl banner line: None when ``s`` is not one, else (boot marker?, boot id).

    ``-- Boot <id> --`` and ``-- Reboot --`` are boot markers; ``-- Logs begin at ... --``,
    ``-- No entries --`` and ``journalctl -x`` catalog text are not (they are to be skipped).
    """
    if s[:3] != "-- " and s[:2] != "░░":
        return None
    boot = _BOOT.match(s)
    if boot is not None:
        return True, boot[1]
    return (False, None) if _NOISE.match(s) else None


def _json(line: str) -> dict[str, object] | None:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def decode_value(value: object) -> str | None:
    """A journal field value as text: a string, or a list of byte values (non-UTF-8 data)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if all(isinstance(b, int) and 0 <= b < 256 for b in value):
            return bytes(value).decode("utf-8", errors="surrogateescape")
        return decode_value(value[0])  # a field repeated in one entry: keep the first value
    return None


def _int(value: object) -> int | None:
    text = decode_value(value)
    if text is None or len(text) > 40:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


class JournalReader:
    """Reads ``-o json`` lines and ``-o export`` records among other lines; tracks boot changes."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.boot_id: str | None = None
        self.export: ExportReader | None = None  # an export record is being read
        self.verbose = VerboseReader()

    @property
    def busy(self) -> bool:
        """A record (export or verbose) is open: every line belongs to the reader."""
        return self.export is not None or self.verbose.busy

    def feed(self, line: str, lineno: int) -> tuple[bool, list[LogLine]]:
        """Offer one physical line: (taken, finished lines). Not taken: handle it as text."""
        if self.verbose.busy or VerboseReader.is_head(line):
            taken = self.verbose.feed(line, lineno)
            done = [x for n, f in self.verbose.take() for x in self.lines(f, n, "journal-verbose")]
            if taken:
                return True, done
            taken, more = self.feed(line, lineno)
            return taken, done + more
        out: list[LogLine] = []
        if self.export is not None:
            taken = self.export.feed(line, lineno)
            out = self._take("journal-export")
            if taken:
                return True, out
            self.export = None
        if line.startswith(("__CURSOR=", "__REALTIME_TIMESTAMP=")):
            self.export = ExportReader()
            self.export.feed(line, lineno)
            return True, out
        fields = _json(line) if line[:1] == "{" else None
        if fields is None:
            return False, out
        return True, out + self.lines(fields, lineno, "journal-json")

    def finish(self) -> list[LogLine]:
        """End of input: the last record's lines."""
        self.verbose.finish()
        out = [x for n, f in self.verbose.take() for x in self.lines(f, n, "journal-verbose")]
        if self.export is None:
            return out
        self.export.finish()
        return out + self._take("journal-export")

    def _take(self, framing: str) -> list[LogLine]:
        assert self.export is not None
        return [x for lineno, f in self.export.take() for x in self.lines(f, lineno, framing)]

    def lines(self, fields: Mapping[str, object], lineno: int, framing: str) -> list[LogLine]:
        out: list[LogLine] = []
        boot = decode_value(fields.get("_BOOT_ID")) or None
        if boot is not None:
            if self.boot_id is not None and boot != self.boot_id:
                out.append(
                    LogLine(self.source, lineno, "", framing, boot_id=boot, boot_marker=True)
                )
            self.boot_id = boot
        message = decode_value(fields.get("MESSAGE"))
        if message is None:
            return out
        realtime = _int(fields.get("__REALTIME_TIMESTAMP"))
        wall = None
        if realtime is not None:
            try:
                wall = _EPOCH + timedelta(microseconds=realtime)
            except OverflowError:
                wall = None
        received = _int(fields.get("__MONOTONIC_TIMESTAMP"))
        mono = _int(fields.get("_SOURCE_MONOTONIC_TIMESTAMP"))
        if mono is None:
            mono = received
        kernel = decode_value(fields.get("_TRANSPORT")) == "kernel"
        ident = "kernel" if kernel else decode_value(fields.get("SYSLOG_IDENTIFIER"))
        pid = None if kernel else _int(fields.get("SYSLOG_PID"))
        if pid is None and not kernel:
            pid = _int(fields.get("_PID"))
        host = decode_value(fields.get("_HOSTNAME"))
        uptime = mono / 1e6 if mono is not None else None
        received_uptime = received / 1e6 if received is not None else None
        for piece in message.replace("\r\n", "\n").split("\n"):
            if piece.strip():
                out.append(
                    LogLine(
                        self.source,
                        lineno,
                        piece,
                        framing,
                        uptime_s=uptime,
                        wall=wall,
                        host=host,
                        ident=ident,
                        ident_pid=pid,
                        boot_id=boot,
                        received_uptime_s=received_uptime,
                    )
                )
        return out
