"""Where things are in the input and when they were logged: lines, places, warnings, stamps,
boots and boot segments.

A stamp keeps the kernel's own clock (``uptime_s``, seconds since boot) and the wall clock the
framing printed (``wall``) as two fields; :mod:`oomsleuth.clock` says how sure a resolved wall
clock is. Syslog-style stamps print no year: the framer gives them ``PLACEHOLDER_YEAR`` (1900), or
``LEAP_PLACEHOLDER_YEAR`` (1904) for 29 February, which 1900 lacks, until the clock supplies one.
"""

from __future__ import annotations

from datetime import datetime

from oomsleuth.model.record import record

PLACEHOLDER_YEAR = 1900
LEAP_PLACEHOLDER_YEAR = 1904
# framings whose wall clock is a logger's receive time of a kernel record
RECEIVE_FRAMINGS = frozenset(
    {"syslog", "rfc3339", "journal-short", "journal-json", "journal-export", "journal-verbose"}
)
# framings whose wall clock dmesg computed: its boot time (whole seconds) + the kernel's stamp
DMESG_CLOCK_FRAMINGS = frozenset({"dmesg-T", "dmesg-iso"})


def has_placeholder_year(wall: datetime | None) -> bool:
    """True when ``wall`` came from a yearless (syslog-style) stamp and still needs a year."""
    return (
        wall is not None
        and wall.tzinfo is None
        and wall.year in (PLACEHOLDER_YEAR, LEAP_PLACEHOLDER_YEAR)
    )


@record(frozen=True, slots=True)
class LogLine:
    """One logical log line with its framing removed.

    ``lineno`` is the 1-based number of the first physical line it came from. A line joined
    from a hard wrap keeps the number of its first piece.
    """

    source: str
    lineno: int
    text: str
    # dmesg, dmesg-T, dmesg-iso, syslog, rfc3339, journal-short, journal-json, kmsg, bare
    framing: str
    uptime_s: float | None = None  # kernel timestamp, seconds since boot
    # wall-clock stamp from the prefix (naive when the log has no zone)
    wall: datetime | None = None
    host: str | None = None
    ident: str | None = None  # syslog tag ("kernel", "earlyoom", "systemd-oomd"); None = unknown
    ident_pid: int | None = None  # pid in the syslog tag, e.g. earlyoom[10231]
    caller: str | None = None  # printk caller id, "T1234" or "C3"
    boot_id: str | None = None
    boot_marker: bool = False  # a "-- Boot ... --" banner or another boot boundary
    # the logger's monotonic clock when it received the line (journal __MONOTONIC_TIMESTAMP):
    # with ``wall`` (its realtime clock then) it places this boot on the wall clock exactly
    received_uptime_s: float | None = None

    @property
    def wall_kind(self) -> str:
        """What ``wall`` is, for a kernel record: ``receive`` (when a logger, syslog or
        journald, received it: the kernel's own time is only in ``uptime_s``), ``dmesg``
        (``dmesg -T``/iso: dmesg's whole-second boot time + the kernel's stamp), else ``log``."""
        if self.wall is None or (self.ident is not None and self.ident != "kernel"):
            return "log"
        if self.framing in RECEIVE_FRAMINGS:
            return "receive"
        return "dmesg" if self.framing in DMESG_CLOCK_FRAMINGS else "log"


@record(frozen=True, slots=True)
class Run:
    """Consecutive physical lines of one source that share one syslog prefix (``Mon DD
    HH:MM:SS host kernel: ``, so one host, one wall): the LogLines they frame to, minus what
    they share. Line ``lineno + i`` has the text ``texts[i]`` and the kernel stamp
    ``uptimes[i]``; the framer hands such a run over in one piece inside a report's body
    (:meth:`oomsleuth.scanner.Scanner.take_run`)."""

    lineno: int
    framing: str
    wall: datetime | None
    host: str | None
    texts: list[str]
    uptimes: list[float | None]


@record(frozen=True, slots=True)
class Where:
    """A place in the input."""

    source: str
    line: int


@record(frozen=True, slots=True)
class Warning_:
    """A data-quality warning tied to a place in the input."""

    where: Where
    code: str  # short stable identifier, e.g. "report-truncated"
    message: str


@record(frozen=True, slots=True)
class Stamp:
    """When something was logged: the kernel stamp and the framing's wall clock, both optional."""

    uptime_s: float | None = None
    wall: datetime | None = None
    host: str | None = None
    boot_id: str | None = None
    # exact / derived / estimated / unknown (see oomsleuth.clock.resolve); None before resolution
    time_confidence: str | None = None
    # where the wall time came from (oomsleuth.clock.resolve): "log", "journal",
    # "boot-estimate", "receive-time", "history", "boot-time", "boot-time option"
    time_source: str | None = None
    time_note: str | None = None  # e.g. "dmesg -T time replaced (-3600.0 s)"
    time_uncertainty_s: float | None = None  # the time is right within +- this many seconds
    wall_kind: str = "log"  # "receive" (a logger's receipt), "dmesg" (dmesg's own sum), "log"

    @property
    def received(self) -> bool:
        """``wall`` is a logger's receive time of a kernel record."""
        return self.wall_kind == "receive"


@record(frozen=True, slots=True)
class Boot:
    """A boot boundary seen in the input."""

    where: Where
    boot_id: str | None = None
    reason: str = ""


@record(frozen=True, slots=True)
class BootSegment:
    """The lines of one boot of one host in one source, and where that boot sits on the wall
    clock (see :mod:`oomsleuth.clock.anchors`, which builds them).

    ``boot_wall`` is None without anchors (lines with both a wall clock and an uptime). It is
    aware for zoned anchors and naive otherwise; for yearless (syslog) anchors it lies in the
    yearless space: year 1904 + the number of year rollovers seen before it (see anchors.py).
    """

    source: str
    host: str | None
    first_line: int
    last_line: int
    boot_id: str | None = None
    reason: str = "start"  # start, boot banner, boot id changed, Linux version, uptime went back
    boot_wall: datetime | None = None
    anchors: int = 0
    anchor_kind: str | None = None  # "journal" | "syslog" | "history" | "btime" | None
    spread_s: float | None = None  # max - min of the anchors' boot estimates
    core_spread_s: float | None = None  # the same over the central 80% (late receipts left out)
    drift_s: float | None = None  # step of the anchors' lower envelope: suspend or clock step
    drift_line: int | None = None
    dmesg_t_boot: datetime | None = None  # boot implied by dmesg -T lines that carry an uptime
    rollovers: tuple[int, ...] = ()  # lines where yearless stamps entered a new year
    last_wall: datetime | None = None  # the last wall clock seen, as the log printed it
    framings: tuple[str, ...] = ()
    # boot_wall taken from another source's segment ("source:first_line") with the same lines
    borrowed_from: str | None = None
    # dmesg -T lines matched to that segment: (line, uptime_s there, the dmesg -T wall)
    matched: tuple[tuple[int, float, datetime], ...] = ()
    receive_lag_s: float | None = None  # the most a logger received a kernel record late
    late_lines: tuple[tuple[int, int], ...] = ()  # line ranges a logger received late
    # the anchors' lower envelope per block: (first line, its estimate minus boot_wall, s)
    envelope: tuple[tuple[int, float], ...] = ()
    boot_uncertainty_s: float | None = None  # boot_wall is right within +- this (history, btime)
    anchor_note: str | None = None  # how the boot was placed when not by lines of the log
