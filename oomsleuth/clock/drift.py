"""Warnings where the kernel's uptime clock and the wall clock part within one boot."""

from __future__ import annotations

from datetime import datetime, tzinfo

from oomsleuth.clock.anchors import is_yearless
from oomsleuth.model import Report, Warning_, Where

DRIFT_LIMIT_S = 2.0


def _gap(tee: datetime, boot: datetime, tz: tzinfo | None) -> float | None:
    """Seconds from the anchored boot to the dmesg -T boot, in comparable spaces."""
    if is_yearless(boot):
        near = []
        for year in (boot.year - 1, boot.year, boot.year + 1):
            try:
                near.append((tee.replace(year=year) - boot).total_seconds())
            except ValueError:
                continue
        return min(near, key=abs, default=None)
    if boot.tzinfo is not None:
        if tz is None:
            return None
        tee = tee.replace(tzinfo=tz)
    return (tee - boot).total_seconds()


def check_suspend_drift(result: Report, tz: tzinfo | None = None) -> list[Warning_]:
    """Warnings where the kernel's uptime clock and the wall clock part by more than 2 s in one
    boot: a suspend/resume (the printk clock stops), a clock step, or clock rates that differ
    (long uptimes); where a logger received kernel records late; and where dmesg -T times
    matched to anchored lines are more than 2 s off.
    ``tz`` is the zone of naive dmesg -T times, needed only against zoned (journal) anchors."""
    out: list[Warning_] = []
    for seg in result.segments:
        drift = None if seg.borrowed_from else seg.drift_s  # the donor warns for itself
        if drift is not None and abs(drift) > DRIFT_LIMIT_S:
            out.append(Warning_(
                Where(seg.source, seg.drift_line or seg.first_line), "suspend-drift",
                f"the wall clock moved {drift:+.0f} s against the kernel's uptime within one "
                "boot (suspend/resume, a clock step, a kernel clock running at another rate, or "
                "a log daemon running late): dmesg -T and boot time + uptime are off by as much",
            ))  # fmt: skip
        lag = None if seg.borrowed_from else seg.receive_lag_s
        if lag is not None and lag > DRIFT_LIMIT_S:
            out.append(Warning_(
                Where(seg.source, seg.first_line), "received-late",
                f"the logger received kernel records of this boot up to {lag:.0f} s after the "
                "kernel printed them (started after boot, or behind a backlog): their times are "
                "the kernel's own stamps on this boot's clock, not the receive times",
            ))  # fmt: skip
        gap = None
        if seg.dmesg_t_boot is not None and seg.boot_wall is not None:
            gap = _gap(seg.dmesg_t_boot, seg.boot_wall, tz)
        if gap is not None and abs(gap) > DRIFT_LIMIT_S:
            out.append(Warning_(
                Where(seg.source, seg.matched[0][0] if seg.matched else seg.first_line),
                "dmesg-t-drift",
                f"dmesg -T times in this boot are {gap:+.0f} s off the log's own clock "
                "(dmesg -T drifts after suspend/resume): the anchored times are used",
            ))  # fmt: skip
    return out
