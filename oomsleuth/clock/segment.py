"""A boot segment being built by :class:`~oomsleuth.clock.anchors.AnchorTracker`: its anchors,
key lines and what it saw, frozen into a :class:`~oomsleuth.model.lines.BootSegment` at the end."""

from __future__ import annotations

from datetime import datetime

from oomsleuth.clock.samples import BootEstimates, KeySet
from oomsleuth.model.lines import BootSegment
from oomsleuth.model.record import field, record


@record(slots=True)
class OpenSegment:
    """A segment being built."""

    source: str
    host: str | None
    first_line: int
    reason: str
    boot_id: str | None
    epoch: int
    last_line: int = 0
    max_uptime: float | None = None
    anchors: BootEstimates = field(default_factory=BootEstimates)
    tee: BootEstimates = field(default_factory=BootEstimates)
    framings: set[str] = field(default_factory=set)
    rollovers: list[int] = field(default_factory=list)
    last_wall: datetime | None = None
    keys: KeySet = field(default_factory=KeySet)  # "uptime_us text" of key lines
    texts: KeySet = field(default_factory=KeySet)  # pid lines with an uptime, or dmesg -T ones
    walls: KeySet = field(default_factory=KeySet)  # pid lines with only a receive time
    lag: float | None = None  # the most a journal received a kernel record after its stamp

    def note_lag(self, seconds: float) -> None:
        self.lag = seconds if self.lag is None else max(self.lag, seconds)

    def offer(self, kind: str, wall: datetime, uptime_s: float, line: int) -> None:
        if self.anchors.kind == "syslog" and kind == "journal":
            self.anchors = BootEstimates()  # journal anchors beat receive-time anchors
        elif self.anchors.kind == "journal" and kind == "syslog":
            return
        self.anchors.kind = kind
        self.anchors.add(wall, uptime_s, line)

    def _envelope(self) -> tuple[tuple[int, float], ...]:
        a = self.anchors
        boot = a.boot()
        if boot is None or a.ref is None:
            return ()
        return a.envelope((boot - a.ref).total_seconds())

    def freeze(self) -> BootSegment:
        a = self.anchors
        drift = a.drift()
        return BootSegment(
            self.source, self.host, self.first_line, self.last_line, self.boot_id, self.reason,
            boot_wall=a.boot(), anchors=a.count, anchor_kind=a.kind,
            spread_s=a.hi - a.lo if a.count else None, core_spread_s=a.core_spread(),
            drift_s=drift[0] if drift else None, drift_line=drift[1] if drift else None,
            dmesg_t_boot=self.tee.boot(), rollovers=tuple(self.rollovers),
            last_wall=self.last_wall, framings=tuple(sorted(self.framings)),
            receive_lag_s=self.lag if self.lag is not None else a.late(),
            late_lines=a.late_lines(), envelope=self._envelope(),
        )  # fmt: skip
