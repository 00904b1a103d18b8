"""Inline SVG charts, drawn in Python: no script, no external resource, prints as it shows.

Every chart of an incident shares one :class:`TimeAxis`, so the kill marker stands at the same x
in each. Text in SVG (titles, legends, tick labels) is log text at times: it goes through
``safe_text`` and is escaped; colours come from CSS classes so light and dark themes apply.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from markupsafe import Markup, escape

from oomsleuth.model.record import field, record
from oomsleuth.renderers.base import (
    safe_text,
)

WIDTH, PLOT_H = 760, 150
# room for text of 24 units: what a phone's 11 px and more are at about half scale
LEFT, RIGHT, TOP, AXIS_H, LEGEND_ROW = 64, 14, 30, 60, 28
MAX_POINTS = 480  # per line, after min/max decimation
DOTS_BELOW = 40  # draw each sample as a dot when a line has fewer points
TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
KB_UNITS = (("KiB", 1), ("MiB", 1024), ("GiB", 1024**2), ("TiB", 1024**3))


@record(frozen=True)
class TimeAxis:
    """The shared x axis: [start, end] on the wall clock, labelled in ``tz``."""

    start: datetime
    end: datetime
    tz: tzinfo | None = None

    @property
    def seconds(self) -> float:
        return max((self.end - self.start).total_seconds(), 1e-3)

    def x(self, t: datetime, width: float = WIDTH - LEFT - RIGHT) -> float:
        return LEFT + width * (t - self.start).total_seconds() / self.seconds

    def local(self, t: datetime) -> datetime:
        return t.astimezone(self.tz) if self.tz is not None and t.tzinfo is not None else t

    def ticks(self, most: int = 7) -> list[tuple[datetime, str]]:
        step = next((s for s in TIME_STEPS if self.seconds / s <= most), 86400)
        local = self.local(self.start)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        first = math.ceil((local - midnight).total_seconds() / step) * step
        fmt = "%H:%M:%S" if step < 60 else "%H:%M"
        out, t, end = [], midnight + timedelta(seconds=first), self.local(self.end)
        while t <= end:
            at_midnight = step >= 3600 and t.hour == 0 and t.minute == 0
            out.append((t, t.strftime("%m-%d" if at_midnight else fmt)))
            t += timedelta(seconds=step)
        return out

    def label(self) -> str:
        first, last = self.local(self.start), self.local(self.end)
        zone = first.tzname() or "local time"
        if first.date() == last.date():
            return f"time on {first:%Y-%m-%d} ({zone})"
        return f"time from {first:%Y-%m-%d} to {last:%Y-%m-%d} ({zone})"


@record(frozen=True)
class Line:
    label: str
    times: Sequence[datetime]
    values: Sequence[float]
    css: str = "s0"  # series colour class: s0..s5
    dashed: bool = False
    source: str = ""  # the history source it was read from


@record(frozen=True)
class Level:
    """A horizontal reference line, e.g. the cgroup's limit."""

    label: str
    value: float
    css: str = "limit"


@record(frozen=True)
class Mark:
    """A vertical marker: the incident's kill (``main``), or another kill in view."""

    time: datetime
    label: str
    main: bool = True


@record(frozen=True)
class Chart:
    key: str  # stable id: memory, swap, psi, memcg, rss
    title: str
    unit: str  # "kB" (shown scaled: KiB..TiB) or "%"
    lines: tuple[Line, ...]
    levels: tuple[Level, ...] = ()
    notes: tuple[str, ...] = field(default=())


def _t(text: str) -> Markup:
    return escape(safe_text(text))


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def nice_step(peak: float, most: int = 5) -> float:
    """The smallest round step (1, 2, 2.5, 5 x 10^k) that covers ``peak`` in ``most`` steps."""
    if peak <= 0:
        return 0.25
    exp: float = 10.0 ** math.floor(math.log10(peak / most))
    return next(m * exp for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * exp * most >= peak)


def value_scale(chart: Chart) -> tuple[str, float, float, int]:
    """Unit label, divisor, the top of the y axis (in displayed units) and its step count."""
    peak = max([max(line.values, default=0.0) for line in chart.lines] + [0.0])
    peak = max([peak] + [lv.value for lv in chart.levels])
    name, div = chart.unit, 1.0
    if chart.unit == "kB":
        name, d = next(((n, d) for n, d in reversed(KB_UNITS) if peak >= 2 * d), KB_UNITS[0])
        div = float(d)
    shown = peak / div if chart.unit == "kB" else max(peak, 1.0)
    step = nice_step(shown)
    steps = max(1, math.ceil(shown / step - 1e-9))
    return name, div, step * steps, steps


def decimate(times: Sequence[datetime], values: Sequence[float]) -> list[tuple[datetime, float]]:
    """At most ~MAX_POINTS points, keeping each bucket's low and high in time order."""
    points = list(zip(times, values, strict=True))
    if len(points) <= MAX_POINTS:
        return points
    size = math.ceil(len(points) / (MAX_POINTS // 2))
    out: list[tuple[datetime, float]] = []
    for i in range(0, len(points), size):
        bucket = points[i : i + size]
        lo, hi = min(bucket, key=lambda p: p[1]), max(bucket, key=lambda p: p[1])
        out += sorted({lo, hi}, key=lambda p: p[0])
    return out


def _y(value: float, top: float) -> float:
    return TOP + PLOT_H * (1 - min(max(value / top, 0.0), 1.0))


def _path(points: list[tuple[datetime, float]], axis: TimeAxis, top: float) -> str:
    """An SVG path, broken where samples are missing (a gap of over 5x the usual interval)."""
    steps = sorted((b[0] - a[0]).total_seconds() for a, b in itertools.pairwise(points))
    gap = 5 * steps[len(steps) // 2] if steps else math.inf
    parts, prev = [], None
    for t, v in points:
        cmd = "M" if prev is None or (t - prev).total_seconds() > gap else "L"
        parts.append(f"{cmd}{_f(axis.x(t))},{_f(_y(v, top))}")
        prev = t
    return "".join(parts)


def _summary(chart: Chart, unit: str, div: float) -> str:
    def fmt(v: float) -> str:
        return f"{v / div:.1f} {unit}"

    said = []
    for line in chart.lines:
        if line.values:
            vals = line.values
            said.append(
                f"{line.label}: {len(vals)} samples, from {fmt(vals[0])} to {fmt(vals[-1])}, "
                f"low {fmt(min(vals))}, high {fmt(max(vals))}"
            )
    said += [f"{lv.label}: {fmt(lv.value)}" for lv in chart.levels]
    return "; ".join(said) or "no data"


def draw(chart: Chart, axis: TimeAxis, marks: Sequence[Mark], chart_id: str) -> Markup:
    """One line chart as inline SVG (with title, description, axes, legend and markers)."""
    unit, div, top, steps = value_scale(chart)
    entries = [(ln.label, ln.css, ln.dashed) for ln in chart.lines]
    entries += [(lv.label, lv.css, True) for lv in chart.levels]
    height = TOP + PLOT_H + AXIS_H + len(entries) * LEGEND_ROW
    cid = escape(chart_id)
    out = [
        f'<svg class="chart" id="{cid}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{cid}-t {cid}-d" data-chart="{escape(chart.key)}">',
        f'<title id="{cid}-t">{_t(chart.title)}</title>',
        f'<desc id="{cid}-d">{_t(_summary(chart, unit, div))}</desc>',
    ]
    out += _axes(axis, unit, top, steps)
    right = WIDTH - RIGHT
    for lv in chart.levels:
        ly = _f(_y(lv.value / div, top))
        out.append(f'<line class="{lv.css}" x1="{LEFT}" x2="{right}" y1="{ly}" y2="{ly}"/>')
    for line in chart.lines:
        points = [(t, v / div) for t, v in decimate(line.times, line.values)]
        dash = " dashed" if line.dashed else ""
        out.append(
            f'<path class="series {line.css}{dash}" d="{_path(points, axis, top)}" '
            f'data-points="{len(points)}"/>'
        )
        if len(points) < DOTS_BELOW:
            out += [
                f'<circle class="dot {line.css}" cx="{_f(axis.x(t))}" cy="{_f(_y(v, top))}" r="2"/>'
                for t, v in points
            ]
    out += _marks(marks, axis, TOP + PLOT_H)
    out += _legend(entries)
    out.append("</svg>")
    return Markup("\n".join(out))


def _axes(axis: TimeAxis, unit: str, top: float, steps: int) -> list[str]:
    right, bottom = WIDTH - RIGHT, TOP + PLOT_H
    out = []
    for i in range(steps + 1):
        gy = _f(TOP + PLOT_H * (1 - i / steps))
        value = f"{top * i / steps:.2f}".rstrip("0").rstrip(".")
        out.append(f'<line class="grid" x1="{LEFT}" x2="{right}" y1="{gy}" y2="{gy}"/>')
        out.append(
            f'<text class="tick" x="{LEFT - 6}" y="{gy}" dy="4" text-anchor="end">{value}</text>'
        )
    for t, label in axis.ticks(5):  # 5 at most: phone-sized labels do not touch
        x = _f(axis.x(t))
        out.append(f'<line class="grid" x1="{x}" x2="{x}" y1="{TOP}" y2="{bottom}"/>')
        out.append(
            f'<text class="tick" x="{x}" y="{bottom + 22}" '
            f'text-anchor="{tick_anchor(axis.x(t))}">{label}</text>'
        )
    middle = TOP + PLOT_H / 2
    out += [
        f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{right - LEFT}" height="{PLOT_H}"/>',
        f'<text class="axis" x="14" y="{middle}" text-anchor="middle" '
        f'transform="rotate(-90 14 {middle})">{_t(unit)}</text>',
        f'<text class="axis" x="{(LEFT + right) / 2}" y="{bottom + 50}" '
        f'text-anchor="middle">{_t(axis.label())}</text>',
    ]
    return out


def tick_anchor(x: float) -> str:
    """Centred under its tick, unless that would run past the plot's right or left edge."""
    return "end" if x > WIDTH - RIGHT - 24 else "start" if x < LEFT + 24 else "middle"


def _legend(entries: Sequence[tuple[str, str, bool]]) -> list[str]:
    out = []
    for i, (label, css, dashed) in enumerate(entries):
        y = TOP + PLOT_H + AXIS_H + i * LEGEND_ROW + 12
        dash = " dashed" if dashed else ""
        out.append(
            f'<line class="key {css}{dash}" x1="{LEFT}" x2="{LEFT + 18}" '
            f'y1="{y - 6}" y2="{y - 6}"/>'
        )
        out.append(f'<text class="legend" x="{LEFT + 24}" y="{y}">{_t(_clip(label, 72))}</text>')
    return out


def _marks(marks: Sequence[Mark], axis: TimeAxis, bottom: float) -> list[str]:
    out = []
    for m in sorted(marks, key=lambda m: m.main):  # the main kill drawn last, on top
        if not axis.start <= m.time <= axis.end:
            continue
        x = _f(axis.x(m.time))
        css = "kill" if m.main else "kill other"
        out.append(
            f'<line class="{css}" x1="{x}" x2="{x}" y1="{TOP - 26}" y2="{bottom}">'
            f"<title>{_t(m.label)}</title></line>"
        )
        if m.main:
            anchor = "end" if axis.x(m.time) > WIDTH - 120 else "start"
            dx = -4 if anchor == "end" else 4
            out.append(
                f'<text class="killlabel" x="{_f(axis.x(m.time) + dx)}" y="{TOP - 8}" '
                f'text-anchor="{anchor}">{_t(_clip(m.label, 40))}</text>'
            )
    return out


def _clip(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"
