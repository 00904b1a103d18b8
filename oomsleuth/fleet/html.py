"""The fleet overview page: one self-contained HTML file like the incident report (the report's
CSS inlined from templates/assets, no script, nothing loaded from the network, a
Content-Security-Policy that allows nothing else), built from the kill rows only.

Text from logs and file names (hosts, process names, cgroups, errors) reaches the page only
through the report's Jinja2 environment (autoescaping after ``safe_text``); the two bar charts
are SVG built here, with their text escaped.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from markupsafe import Markup, escape

from oomsleuth._version import __version__
from oomsleuth.fleet.overview import Overview, build_overview
from oomsleuth.fleet.run import FleetResult
from oomsleuth.output import atomic
from oomsleuth.renderers.base import safe_text
from oomsleuth.renderers.templating import asset, environment, write_pieces

TEMPLATE = "fleet.html.j2"
_STYLE = """
.cards { display: flex; flex-wrap: wrap; gap: 0.6rem; margin: 0.6rem 0; }
.card { background: var(--panel); border: 1px solid var(--border); border-radius: 6px;
  padding: 0.3rem 0.8rem; min-width: 8rem; }
.card strong { display: block; font-size: 1.3rem; }
.card.bad strong { color: var(--kill); }
td.heat { text-align: center; min-width: 2.2rem; }
td.h1 { background: color-mix(in srgb, var(--kill) 18%, transparent); }
td.h2 { background: color-mix(in srgb, var(--kill) 38%, transparent); }
td.h3 { background: color-mix(in srgb, var(--kill) 60%, transparent); color: #fff; }
svg .bar { fill: var(--kill); }
svg.chart.bars { width: 100%; height: auto; display: block; max-width: 48rem; }
.fleet .scroll { overflow-x: auto; max-width: 100%; }
.fleet td.name, .fleet td.where { overflow-wrap: anywhere; min-width: 6rem; }
"""  # the page's own layout needs, whatever the incident report's CSS becomes


def write_html(result: FleetResult, output: Path) -> None:
    """The overview of ``result`` written atomically to ``output``."""
    with atomic(output) as stream:
        render_html(result, stream)
        stream.flush()


def render_html(result: FleetResult, out: TextIO) -> None:
    ov = build_overview(result.rows, len(result.hosts))
    title = f"oomsleuth fleet: {ov.kills} OOM kills on {ov.hosts_with_kills} of {ov.hosts} hosts"
    pieces = (
        environment()
        .get_template(TEMPLATE)
        .generate(
            title=title,
            ov=ov,
            css=Markup(asset("report.css") + _STYLE),
            hours_chart=hours_chart(ov),
            days_chart=days_chart(ov),
            heat=_heat,
            seconds=result.seconds,
            workers=result.workers,
            size=_size(result.size_bytes),
            version=__version__,
            generated=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
    )
    write_pieces(pieces, out)


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def _heat(count: int) -> str:
    return "" if count == 0 else "h1" if count == 1 else "h2" if count < 5 else "h3"


def hours_chart(ov: Overview) -> Markup:
    labels = [f"{h:02d}" for h in range(24)]
    return _bars("hours", labels, ov.hours, "kills by hour of day (UTC)", every=3)


def days_chart(ov: Overview) -> Markup:
    dated = [(d, n) for d, n in zip(ov.days, ov.per_day, strict=True) if d[:1].isdigit()]
    days, totals = [d for d, _ in dated], [n for _, n in dated]
    every = max(1, len(days) // 8)
    return _bars("days", [d[5:] for d in days], totals, "kills per day (UTC)", every=every)


def _bars(name: str, labels: list[str], values: list[int], caption: str, every: int) -> Markup:
    """A bar chart: one bar per label, its value on top, every ``every``-th label below."""
    if not values or max(values) == 0:
        return Markup("")
    width, height, top, bottom, left = 640, 180, 18, 22, 6
    step = (width - 2 * left) / len(values)
    peak = max(values)
    parts = [
        f'<svg class="chart bars" id="chart-{name}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(caption)}">',
        f'<line class="grid" x1="{left}" x2="{width - left}" y1="{height - bottom}" '
        f'y2="{height - bottom}"/>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * step
        h = (height - top - bottom) * value / peak
        y = height - bottom - h
        if value:
            parts.append(
                f'<rect class="bar" x="{x + step * 0.12:.1f}" y="{y:.1f}" '
                f'width="{step * 0.76:.1f}" height="{h:.1f}"><title>{escape(safe_text(label))}: '
                f"{value}</title></rect>"
            )
            parts.append(
                f'<text class="tick" x="{x + step / 2:.1f}" y="{y - 3:.1f}" '
                f'text-anchor="middle">{value}</text>'
            )
        if i % every == 0:
            parts.append(
                f'<text class="tick" x="{x + step / 2:.1f}" y="{height - 6}" '
                f'text-anchor="middle">{escape(safe_text(label))}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
