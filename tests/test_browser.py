"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``) over CDP.

Each report is rendered from real inputs through the CLI's own pipeline, opened from a file://
URL, and must: log no console error, exception or CSP violation; make no request at all beyond
its own file and data:/blob: URLs (CDP's Network events, plus a refusing proxy of the page's
own that sees any connection, a worker's included); show the verdict above the first chart and
on the first screen; draw every chart with a real size; fit a phone's width; print to a PDF;
and turn dark under ``prefers-color-scheme: dark`` with its text still legible.

Screenshots and the PDF go to pytest's tmp dir and to /tmp/oomsleuth-screens/ (override with
$OOMSLEUTH_SCREENS) for people to look at. Skipped when Chromium is not installed; .ci/run
installs it, so CI runs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from browser import Browser, Page, find_chromium, page
from typer.testing import CliRunner

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
INCIDENTS = ROOT / "fixtures" / "incidents"
CORPUS = ROOT.parent / "shared" / "corpus"
SCREENS = Path(os.environ.get("OOMSLEUTH_SCREENS", "/tmp/oomsleuth-screens"))

DESKTOP = (1280, 800)
PHONE = (390, 844)
MAX_SHOT = 6000  # CSS px: full-page screenshots stop here (a 20-kill report is 40 000 px tall)

# What the test looks for in the page (templates/report*.html.j2).
SEL = {
    "section": "section.incident",  # one OOM report
    "verdict": ".verdict",  # its verdict: culprit, confidence, trigger, victims
    "chart": "svg.chart",  # its time-series charts
    "strip": "svg.strip",  # the overview's time line of every event
    "overview": "#overview",
}
MIN_SIZE = {"chart": (100, 60), "strip": (100, 30)}  # CSS px: smaller is not really drawn


@dataclass(frozen=True)
class Case:
    name: str
    log: Path
    history: tuple[Path, ...] = ()
    charts: bool = False  # history given: charts must be drawn
    kills: bool = True  # an OOM kill in the log: each killed section shows a verdict


def _incident(name: str, *history: str) -> Case:
    folder = INCIDENTS / name
    return Case(name, folder / "kern-dmesg-iso.txt", tuple(folder / h for h in history), True)


CASES = (
    # one kill, every history source: the full report
    _incident(
        "sidecar-leak-kills-db", "pidstat-r.txt", "atop-P.txt", "psi-cgroup.txt", "sar-A.txt"
    ),
    # four kills with history: overview, strip, charts in every section
    _incident("repeated-kills-restart", "pidstat-r.txt", "psi-cgroup.txt"),
    # the other recorded incidents, with the sampler's cgroup history: the cgroup's own charts
    _incident("tmpfs-fills-memory", "psi-cgroup.txt", "pidstat-r.txt"),
    _incident("leaker-kills-itself", "atop-P.txt", "psi-cgroup.txt"),
    _incident("bystander-triggers", "sar-A.txt", "psi-cgroup.txt"),
    # no history: the report alone draws the memory at the kill and the top tasks
    Case("real-memcg-names", ROOT / "fixtures" / "real" / "memcg-names.dmesg-iso.txt"),
    Case(
        "global-no-history",
        ROOT / "fixtures" / "handwritten" / "k6.18-global-alloc-profiling.dmesg.txt",
    ),
    # twenty reports, no history, one cut off before its kill (the shared corpus, when present)
    Case("corpus-multi", CORPUS / "oomexporter-rhel7-3.10-syslog-multi.log"),
    # nothing found: the empty report
    Case("no-oom", INCIDENTS / "sidecar-leak-kills-db" / "pidstat-r.txt", kills=False),
)


def _params(*names: str) -> list[Any]:
    out = []
    for case in CASES:
        if names and case.name not in names:
            continue
        marks = []
        if not case.log.is_file():
            marks.append(pytest.mark.skip(reason=f"{case.log} is not there (../shared corpus)"))
        out.append(pytest.param(case, id=case.name, marks=marks))
    return out


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if find_chromium() is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium); .ci/run has it")
    with Browser() as browser:
        yield browser


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser")


_rendered: dict[str, Path] = {}


@pytest.fixture
def case(request: pytest.FixtureRequest) -> Case:
    value: Case = request.param
    return value


@pytest.fixture
def report(case: Case, out_dir: Path) -> Path:
    """The case's HTML report, rendered once per test session."""
    if case.name not in _rendered:
        _rendered[case.name] = render(case, out_dir / f"{case.name}.html")
    return _rendered[case.name]


def render(case: Case, out: Path) -> Path:
    """Run `oomsleuth analyze LOG --history ... --format html -o OUT` in-process: the CLI's own
    pipeline. Until the CLI offers --format html, its renderer factory is swapped for HtmlRenderer.
    """
    from oomsleuth import cli

    argv = ["analyze", str(case.log), "--tz", "UTC", "-o", str(out)]
    for path in case.history:
        argv += ["--history", str(path)]
    if "html" in cli.Format.__members__:
        result = CliRunner().invoke(cli.app, [*argv, "--format", "html"])
    else:
        from oomsleuth.renderers.html import HtmlRenderer

        with mock.patch.object(cli, "_renderer", lambda *a, **k: HtmlRenderer()):
            result = CliRunner().invoke(cli.app, argv)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == (0 if case.kills else 1), result.output
    assert out.stat().st_size > 1000
    _keep(out)
    return out


def _keep(path: Path) -> None:
    """Copy an artefact where people can look at it."""
    try:
        SCREENS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENS / path.name)
    except OSError:  # a read-only /tmp must not fail the test
        pass


@pytest.fixture
def tab(chromium: Browser) -> Iterator[Page]:
    with page(chromium) as p:
        yield p


def load(tab: Page, report: Path, size: tuple[int, int], *, dark: bool = False) -> None:
    width, height = size
    tab.viewport(width, height, mobile=width < 600)
    tab.media(dark=dark)
    tab.open(report.resolve().as_uri())


def assert_clean(tab: Page) -> None:
    problems = tab.problems()
    assert not problems, "the page did what a self-contained report must not:\n" + "\n".join(
        f"  {p}" for p in problems
    )


def call(tab: Page, fn: str, *args: Any) -> Any:
    """Call a JS function expression in the page with JSON arguments."""
    return tab.evaluate(f"({fn})({', '.join(json.dumps(a) for a in args)})")


# -- what the page looks like, measured in it ---------------------------------------------------

_MEASURE_JS = r"""
(SEL, openAll, width, MIN) => {
  if (openAll) document.querySelectorAll('details').forEach((d) => { d.open = true; });
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return {top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left, right: r.right,
            width: r.width, height: r.height};
  };
  const shown = (el) => {
    const s = getComputedStyle(el);
    return el.getClientRects().length > 0 && s.visibility !== 'hidden' && +s.opacity > 0;
  };
  const first = (root, sel) => root.querySelector(sel);
  const sections = [...document.querySelectorAll(SEL.section)].map((sec) => {
    const v = first(sec, SEL.verdict);
    const c = first(sec, SEL.chart);
    const drawn = [...sec.querySelectorAll(SEL.chart)].filter((g) => {
      const r = g.getBoundingClientRect();
      return r.width > MIN.chart[0] && r.height > MIN.chart[1] && shown(g);
    }).length;
    return {
      drawn,
      id: sec.id,
      killed: sec.classList.contains('killed'),
      verdict: v && {...box(v), shown: shown(v), text: v.innerText.trim().slice(0, 200)},
      firstChart: c && box(c),
      verdictFirst: !!(v && c && (v.compareDocumentPosition(c) & Node.DOCUMENT_POSITION_FOLLOWING)),
    };
  });
  const graphics = [];
  for (const kind of ['chart', 'strip']) {
    for (const el of document.querySelectorAll(SEL[kind])) {
      graphics.push({kind, id: el.id || el.closest('[id]')?.id || '?', ...box(el),
                     marks: el.querySelectorAll('path, line, circle, rect').length});
    }
  }
  // what sticks out of a `width` px window, outside any scrolling box: the sideways scroll
  const scrolls = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll('*')]
    .filter((el) => el.getBoundingClientRect().right > width + 0.5 && !scrolls(el))
    .filter((el, _, all) => !all.includes(el.parentElement))
    .slice(0, 5)
    .map((el) => `<${el.tagName.toLowerCase()} class="${el.getAttribute('class') || ''}">` +
         ` ends at ${Math.round(el.getBoundingClientRect().right)} px: ` +
         (el.textContent || '').trim().slice(0, 60));
  const overview = first(document, SEL.overview);
  const anyChart = first(document, SEL.chart);
  const anyVerdict = first(document, SEL.verdict);
  return {
    title: document.title,
    scrollWidth: document.documentElement.scrollWidth,
    wide,
    sections,
    graphics,
    overviewTop: overview && box(overview).top,
    chartBeforeAnyVerdict: !!(anyChart && (!anyVerdict ||
        (anyChart.compareDocumentPosition(anyVerdict) & Node.DOCUMENT_POSITION_FOLLOWING))),
  };
}
"""

# Contrast of the verdicts' text and of the charts' text against what is really behind them
# (backgrounds composited up the tree, down to the canvas); colours are resolved by a canvas, so
# any CSS colour syntax (oklch, color-mix...) is read right.
_CONTRAST_JS = r"""
(SEL) => {
  const ctx = document.createElement('canvas').getContext('2d', {willReadFrequently: true});
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = '#000'; ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  };
  const over = (top, under) => top.slice(0, 3).map((c, i) => c * top[3] + under[i] * (1 - top[3]));
  const backdrop = (el) => {
    const layers = [];
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    const darkCanvas = matchMedia('(prefers-color-scheme: dark)').matches &&
        /dark/.test(getComputedStyle(document.documentElement).colorScheme);
    let color = darkCanvas ? [18, 18, 18] : [255, 255, 255];
    for (const layer of layers.reverse()) color = over(layer, color);
    return color;
  };
  const lum = (c) => {
    const [r, g, b] = c.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const verdicts = [...document.querySelectorAll(SEL.verdict)].map((v) => {
    const bg = backdrop(v);
    return {ratio: ratio(over(rgba(getComputedStyle(v).color), bg), bg), bg};
  });
  const graphicsText = [];
  for (const svg of document.querySelectorAll(SEL.chart + ',' + SEL.strip)) {
    const bg = backdrop(svg);
    for (const t of svg.querySelectorAll('text')) {
      const fill = getComputedStyle(t).fill;
      if (!fill || fill === 'none' || fill.startsWith('url(')) continue;
      graphicsText.push({cls: t.getAttribute('class') || '', text: t.textContent.slice(0, 40),
                         ratio: ratio(over(rgba(fill), bg), bg)});
    }
  }
  return {verdicts, body: backdrop(document.body), graphicsText};
}
"""


def check_layout(found: dict[str, Any], case: Case, width: int) -> None:
    assert found["title"]
    assert found["scrollWidth"] <= width, (
        f"the page is {found['scrollWidth']} px wide in a {width} px window (sideways "
        "scrolling); what sticks out:\n" + "\n".join(f"  {w}" for w in found["wide"])
    )
    assert not found["chartBeforeAnyVerdict"], "a chart comes before any verdict"
    if case.kills:
        assert found["sections"], f"no {SEL['section']} in the page"
    for sec in found["sections"]:
        verdict = sec["verdict"]
        if sec["killed"]:
            assert verdict and verdict["shown"] and verdict["text"], f"{sec['id']}: no verdict"
        if verdict and sec["firstChart"]:
            assert sec["verdictFirst"], f"{sec['id']}: a chart comes before the verdict"
            assert verdict["bottom"] <= sec["firstChart"]["top"] + 1, (
                f"{sec['id']}: the verdict is not above the first chart: {sec}"
            )
    if case.charts:
        assert any(s["firstChart"] for s in found["sections"]), "history given, yet no chart"
    for sec in found["sections"]:  # every report with a kill has a picture, history or not
        if sec["killed"]:
            assert sec["drawn"] >= 1, f"{sec['id']}: no chart drawn at a real size"


def check_graphics(found: dict[str, Any], width: int) -> None:
    for g in found["graphics"]:
        min_w, min_h = MIN_SIZE[g["kind"]]
        assert g["width"] > min_w and g["height"] > min_h, f"too small to be drawn: {g}"
        assert g["left"] >= -1 and g["right"] <= width + 1, f"outside the window: {g}"
        assert g["marks"] >= 3, f"empty: {g}"


# -- pictures ---------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def png_pixels(data: bytes) -> list[tuple[int, int, int]]:
    """RGB of every pixel of a small 8-bit, non-interlaced RGB(A) PNG (what Chromium writes)."""
    width, height = png_size(data)
    depth, ctype, _, _, interlace = data[24:29]
    assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
    channels = 4 if ctype == 6 else 3
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    prev = bytearray(stride)
    pixels: list[tuple[int, int, int]] = []
    for y in range(height):
        filt = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if filt == 1:
                line[i] = (line[i] + a) & 255
            elif filt == 2:
                line[i] = (line[i] + b) & 255
            elif filt == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        pixels.extend((line[x], line[x + 1], line[x + 2]) for x in range(0, stride, channels))
        prev = line
    return pixels


def brightness(pixels: list[tuple[int, int, int]]) -> float:
    """Mean brightness, 0 (black) to 1 (white)."""
    return sum(0.2126 * r + 0.7152 * g + 0.0722 * b for r, g, b in pixels) / (255 * len(pixels))


def save(out_dir: Path, name: str, data: bytes) -> Path:
    path = out_dir / name
    path.write_bytes(data)
    _keep(path)
    return path


# -- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _params(), indirect=True)
def test_desktop(case: Case, report: Path, tab: Page, out_dir: Path) -> None:
    """Loads clean; each verdict above its charts; the first one (or the overview of several)
    on the first screen; every chart drawn at a real size, <details> opened or not."""
    load(tab, report, DESKTOP)
    assert_clean(tab)
    found = call(tab, _MEASURE_JS, SEL, False, DESKTOP[0], MIN_SIZE)
    check_layout(found, case, DESKTOP[0])
    check_graphics(found, DESKTOP[0])
    if case.kills:
        head = found["sections"][0]["verdict"]["top"]
        if len(found["sections"]) > 1:
            assert found["overviewTop"] is not None, "several reports but no overview"
            head = min(head, found["overviewTop"])
        assert head < DESKTOP[1], "neither the verdict nor the overview is on the first screen"

    shot = tab.screenshot(max_height=MAX_SHOT)
    width, height = png_size(shot)
    assert width == DESKTOP[0] and height >= 300, (width, height)
    assert len(shot) > 20_000, f"a {len(shot)}-byte screenshot is nearly empty"
    pixels = png_pixels(tab.screenshot(full_page=False, scale=0.125))
    assert len(set(pixels)) > 20, "the first screen is nearly one colour"
    save(out_dir, f"{case.name}-desktop.png", shot)
    check_colours(tab, dark=False)

    check_graphics(call(tab, _MEASURE_JS, SEL, True, DESKTOP[0], MIN_SIZE), DESKTOP[0])
    assert_clean(tab)  # opening every <details> broke nothing either


@pytest.mark.parametrize("case", _params(), indirect=True)
def test_phone(case: Case, report: Path, tab: Page, out_dir: Path) -> None:
    """At 390 px: no sideways scrolling, verdicts above charts, charts drawn inside the screen."""
    load(tab, report, PHONE)
    assert_clean(tab)
    found = call(tab, _MEASURE_JS, SEL, False, PHONE[0], MIN_SIZE)
    check_layout(found, case, PHONE[0])
    check_graphics(found, PHONE[0])
    shot = tab.screenshot(max_height=MAX_SHOT)
    width, height = png_size(shot)
    assert width == PHONE[0] and height >= PHONE[1] // 2, (width, height)
    save(out_dir, f"{case.name}-phone.png", shot)
    check_layout(call(tab, _MEASURE_JS, SEL, True, PHONE[0], MIN_SIZE), case, PHONE[0])
    assert_clean(tab)


@pytest.mark.parametrize("case", _params(), indirect=True)
def test_dark(case: Case, report: Path, tab: Page, out_dir: Path) -> None:
    """prefers-color-scheme: dark turns the page dark, and its text stays legible."""
    load(tab, report, DESKTOP, dark=True)
    assert_clean(tab)
    check_colours(tab, dark=True)
    check_graphics(call(tab, _MEASURE_JS, SEL, False, DESKTOP[0], MIN_SIZE), DESKTOP[0])
    save(out_dir, f"{case.name}-dark.png", tab.screenshot(max_height=MAX_SHOT))
    assert_clean(tab)


def check_colours(tab: Page, *, dark: bool) -> None:
    """Light is light and dark is dark (the first screen's mean brightness); verdict text has
    a contrast of 4.5 or more on its background, chart text 3 or more."""
    mode = "dark" if dark else "light"
    mean = brightness(png_pixels(tab.screenshot(full_page=False, scale=0.125)))
    found = call(tab, _CONTRAST_JS, SEL)
    if dark:
        assert mean < 0.35, f"dark mode is not dark: mean brightness {mean:.2f}"
        assert max(found["body"]) < 80, f"dark mode page background {found['body']}"
    else:
        assert mean > 0.6, f"the light page is dark already: mean brightness {mean:.2f}"
    weak = [v for v in found["verdicts"] if v["ratio"] < 4.5]
    assert not weak, f"{mode}: verdict text contrast below 4.5: {weak[:3]}"
    faint = [t for t in found["graphicsText"] if t["ratio"] < 3]
    assert not faint, f"{mode}: chart text too faint on its background: {faint[:5]}"


@pytest.mark.parametrize("case", _params("sidecar-leak-kills-db"), indirect=True)
def test_print_to_pdf(case: Case, report: Path, tab: Page, out_dir: Path) -> None:
    """Printing works: charts still drawn under print media, and a real PDF comes out."""
    load(tab, report, DESKTOP)
    tab.media(print_=True)
    found = call(tab, _MEASURE_JS, SEL, False, DESKTOP[0], MIN_SIZE)
    assert any(g["kind"] == "chart" for g in found["graphics"])
    check_graphics(found, DESKTOP[0])
    pdf = tab.pdf()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert pages >= 1 and len(pdf) > 30_000, (pages, len(pdf))
    save(out_dir, f"{case.name}.pdf", pdf)
    assert_clean(tab)


_BAD_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' blob:; worker-src blob:; "
    "connect-src https://allowed.example; img-src data:"
)
_BAD_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="CSP">
</head><body><p>bad</p><img src="https://cdn.example/logo.png">
<script>
console.error("logged error");
new Worker(URL.createObjectURL(new Blob(["fetch('https://allowed.example/w').catch(() => 0)"])));
fetch("https://allowed.example/page").catch(() => 0);
setTimeout(() => { throw new Error("thrown later"); }, 0);
</script></body></html>
"""


def test_the_harness_sees_what_it_must(tab: Page, tmp_path: Path) -> None:
    """The checks have teeth: a page that errs, breaks its CSP and reaches out is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(_BAD_PAGE.replace("CSP", _BAD_CSP, 1))
    load(tab, bad, DESKTOP)
    found = tab.problems()
    kinds = {p.kind for p in found}
    assert {"console", "exception", "csp", "request", "network"} <= kinds, found
    text = "\n".join(map(str, found))
    assert "cdn.example" in text  # blocked by the CSP: reported as a violation
    assert "CONNECT allowed.example:443" in text  # the page's and the worker's fetch reached out


@pytest.mark.parametrize("case", _params("no-oom"), indirect=True)
def test_shot_command(case: Case, report: Path, chromium: Browser, tmp_path: Path) -> None:
    """`python -m tests.browser.shot` (screenshots by hand) works: a PNG at the asked width."""
    from browser.shot import main

    out = tmp_path / "shot.png"
    assert main([str(report), str(out), "--width", "390", "--dark", "--viewport-only"]) == 0
    # a phone's height by default at a phone's width
    assert png_size(out.read_bytes()) == PHONE
