"""The HTML report: one self-contained file, verdict first, charts from history, hostile log text
defused. Real fixtures go through ``oomsleuth.analyze`` and ``oomsleuth.render``; model-factory
results test the renderer alone; the page is read back with html.parser."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import modelfactory as mf
import pytest

import oomsleuth
from oomsleuth.correlate import correlate
from oomsleuth.model import History, Report, Sample, UserspaceKill
from oomsleuth.renderers.base import Renderer
from oomsleuth.renderers.charts import Chart, Line, Mark, TimeAxis, decimate, draw, nice_step
from oomsleuth.renderers.html import HtmlRenderer
from oomsleuth.renderers.templating import asset, csp_hash, templates_origin

ROOT = Path(__file__).resolve().parent.parent
INCIDENTS = ROOT / "fixtures" / "incidents"
SIDECAR = INCIDENTS / "sidecar-leak-kills-db"
CORPUS = ROOT.parent / "shared" / "corpus"
MULTI = CORPUS / "oomexporter-rhel7-3.10-syslog-multi.log"
ALL_HISTORY = ("atop-P.txt", "psi-cgroup.txt", "sar-A.txt", "pidstat-r.txt")
UTC = timezone.utc
MB = 1_000_000

needs_corpus = pytest.mark.skipif(not MULTI.is_file(), reason="../shared/corpus not present")


def analyze(log: Path, *history: Path) -> Report:
    """What `oomsleuth analyze LOG --history ...` builds before it renders."""
    return oomsleuth.analyze([log], history=history, tz="UTC", on_warning=lambda _: None)


def render(result: Report, title: str | None = None) -> str:
    out = io.StringIO()
    renderer: Renderer = HtmlRenderer(title=title)
    renderer.render(result, out)
    return out.getvalue()


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    pos: int  # document order


@dataclass
class Page(HTMLParser):
    """Every start tag with its attributes, the text of <script>/<style>/<title>, all text."""

    nodes: list[Node] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    _open: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.nodes.append(Node(tag, {k: v or "" for k, v in attrs}, len(self.nodes)))
        self._open.append(tag)
        if tag == "script":
            self.scripts.append("")
        if tag == "style":
            self.styles.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] == "script":
            self.scripts[-1] += data
        elif self._open and self._open[-1] == "style":
            self.styles[-1] += data
        else:
            self.texts.append(data)

    def find(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [
            n
            for n in self.nodes
            if (tag is None or n.tag == tag)
            and (cls is None or cls in n.attrs.get("class", "").split())
        ]

    @property
    def text(self) -> str:
        return " ".join(self.texts)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def csp(page: Page) -> dict[str, list[str]]:
    metas = [n for n in page.nodes if n.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert len(metas) == 1
    policy: dict[str, list[str]] = {}
    for directive in metas[0].attrs["content"].split(";"):
        name, *values = directive.split()
        policy[name] = values
    return policy


def assert_self_contained(html: str) -> Page:
    page = parse(html)
    assert html.startswith("<!DOCTYPE html>")
    assert page.nodes[0].tag == "html" and page.nodes[1].tag == "head"
    assert page.nodes[2].tag == "meta" and page.nodes[2].attrs.get("charset") == "utf-8"
    assert page.nodes[3].attrs.get("http-equiv") == "Content-Security-Policy"  # before any style
    policy = csp(page)
    assert policy["default-src"] == ["'none'"]
    assert policy["style-src"] == ["'unsafe-inline'"]
    assert policy["img-src"] == ["data:"]
    # the one script is inline and allowed by its hash, nothing else may run
    assert len(page.scripts) == 1 and page.scripts[0] == asset("report.js")
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode()).digest()).decode()
    assert policy["script-src"] == [f"'sha256-{digest}'"]
    for node in page.nodes:
        assert not any(name.startswith("on") for name in node.attrs), node
        for name in ("src", "href", "xlink:href", "action", "formaction", "data", "poster"):
            value = node.attrs.get(name)
            if value is not None:
                assert value.startswith("#") or value.startswith("data:"), node
        assert node.tag not in ("img", "iframe", "object", "embed", "link", "base", "form")
    assert not page.find("script", None)[0].attrs  # no src, no type tricks
    for style in page.styles:
        assert "url(" not in style and "@import" not in style
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    # every in-page link has its target
    ids = {n.attrs["id"] for n in page.nodes if "id" in n.attrs}
    for node in page.nodes:
        href = node.attrs.get("href", "")
        if href.startswith("#"):
            assert href[1:] in ids, href
    return page


# -- real incidents -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sidecar() -> str:
    return render(analyze(SIDECAR / "kern-dmesg-iso.txt", *(SIDECAR / h for h in ALL_HISTORY)))


def test_sidecar_report_is_self_contained(sidecar: str) -> None:
    assert_self_contained(sidecar)
    assert len(sidecar.encode()) < MB


def test_sidecar_verdict_comes_first_and_names_the_culprit(sidecar: str) -> None:
    page = parse(sidecar)
    verdict = page.find(cls="verdict")
    charts = page.find("svg", "chart")
    assert verdict and charts and verdict[0].pos < charts[0].pos
    assert page.find("section", "incident")[0].attrs["id"] == "incident-0"
    text = page.text
    assert text.index("leaky-sidecar (14998)") < text.index("Before and at the kill")
    assert "confidence 0.93" in text and "steady-db (14997), rss 129.4 MiB" in text
    assert "the victim is not the culprit: leaky-sidecar (14998) lives on" in text
    # the kernel's choice, the task table (sortable, marked), the report's lines
    assert page.find("table", "badness") and page.find("table", "sortable")
    assert [n.attrs["class"] for n in page.find("tr") if n.attrs.get("class")][:3] == [
        "victim",
        "victim",
        "trigger",
    ]
    assert "Memory cgroup out of memory: Killed process 14997 (steady-db)" in text
    assert "host-wide PSI memory some rose from 0.8% to 18.3%" in text


def test_sidecar_charts_share_one_axis_with_the_kill_marked(sidecar: str) -> None:
    page = parse(sidecar)
    charts = page.find("svg", "chart")
    # the cgroup's own memory (no host memory chart for a memcg OOM), then the report's own
    keys = [c.attrs["data-chart"] for c in charts]
    assert keys == ["memcg", "psi", "rss", "breakdown", "badness"]
    for chart in charts:
        assert chart.attrs["role"] == "img" and chart.attrs["aria-labelledby"]
    paths = page.find("path", "series")
    assert paths and all(int(p.attrs["data-points"]) >= 10 for p in paths)
    kills = [n for n in page.find("line", "kill") if "other" not in n.attrs["class"]]
    assert len(kills) == 3 and len({k.attrs["x1"] for k in kills}) == 1  # same x
    text = page.text
    assert "leaky-sidecar (14998) · culprit, trigger" in text
    assert "steady-db (14997) · suspect, victim" in text
    assert "host-wide" in text and "Swap used" not in text
    # the memcg chart's limit line is drawn
    assert page.find("line", "limit")


def test_without_history_the_report_says_what_charts_need() -> None:
    html = render(analyze(SIDECAR / "kern-dmesg-iso.txt"))
    page = assert_self_contained(html)
    # the report alone draws the memory at the kill and the kernel's choice, nothing over time
    keys = [c.attrs["data-chart"] for c in page.find("svg", "chart")]
    assert keys == ["breakdown", "badness"] and not page.find("path", "series")
    assert "no history given: charts over time need --history" in page.text


@pytest.mark.parametrize(
    "scenario", sorted(p.name for p in INCIDENTS.iterdir() if (p / "facts.json").is_file())
)
def test_every_incident_renders_under_a_megabyte(scenario: str) -> None:
    folder = INCIDENTS / scenario
    html = render(analyze(folder / "kern-dmesg-iso.txt", *(folder / h for h in ALL_HISTORY)))
    page = assert_self_contained(html)
    assert len(html.encode()) < MB
    assert page.find("svg", "chart") and page.find(cls="verdict")


def test_repeated_kills_get_an_overview_with_a_storm() -> None:
    folder = INCIDENTS / "repeated-kills-restart"
    html = render(analyze(folder / "kern-dmesg-iso.txt", *(folder / h for h in ALL_HISTORY)))
    page = assert_self_contained(html)
    overview = page.find("section")[0]
    assert overview.attrs["id"] == "overview"
    assert page.find("svg", "strip")
    assert "4 kills in 12 s" in page.text and "worker killed 4 times" in " ".join(page.text.split())
    sections = page.find("section", "incident")
    assert [s.attrs["id"] for s in sections] == [f"incident-{i}" for i in range(4)]
    assert {n.attrs["href"] for n in page.find("a") if n.attrs.get("rel") == "next"} == {
        "#incident-1",
        "#incident-2",
        "#incident-3",
    }
    # the other kills in view are marked on each chart, apart from this one's
    assert page.find("line", "other")


@needs_corpus
def test_corpus_log_with_twenty_reports() -> None:
    html = render(analyze(MULTI))
    page = assert_self_contained(html)
    assert len(html.encode()) < MB
    assert len(page.find("section", "incident")) == 20
    strip = page.find("svg", "strip")[0]
    assert strip.attrs["role"] == "img"
    links = [n.attrs["href"] for n in page.nodes if n.tag == "a" and n.pos > strip.pos]
    assert "#incident-0" in links and "#incident-19" in links
    text = " ".join(page.text.split())
    assert "node /opt/www/p killed 19 times" in text
    assert "never reached a kill" in text
    assert page.find(cls="verdict")[0].pos < page.find("section", "incident")[0].pos


@needs_corpus
def test_the_page_is_written_as_it_is_made() -> None:
    """A long page goes out in pieces of about 64 K characters as the template makes it, never
    made whole first (the page of 2,000 incidents is ~40 MB of text: whole, and joined, it took
    ~260 MB more memory); the pieces make the page that is made whole."""
    result = analyze(MULTI)
    sizes: list[int] = []

    class Sink(io.StringIO):
        def write(self, text: str) -> int:
            sizes.append(len(text))
            return super().write(text)

    sink = Sink()
    oomsleuth.render(result, "html", sink)
    whole = render(result)  # (made again: only its time may differ)
    assert len(whole) > 4 * 65_536 and len(sizes) >= len(whole) // 65_536
    assert max(sizes) < 65_536 + 50_000  # (+ the template's largest piece)
    made = re.compile(r"at \d{4}-\d\d-\d\dT[0-9:]+\+00:00\.")
    assert made.sub("", sink.getvalue()) == made.sub("", whole)
    assert len(made.findall(whole)) == 1


# -- hostile log text ---------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
BIDI = "evil\u202etxt.exe\u2066"
ANSI = "\x1b[31mred\x1b]8;;http://evil.example/\x07link\x1b]8;;\x07"
CGROUP = f"/kubepods/{IMG}/{SCRIPT}"
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def hostile() -> Report:
    base = mf.hostile_result()
    report = base.reports[0]
    wall = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    victim = replace(report.kills[0].victim, comm=SCRIPT)
    kill = replace(report.kills[0], victim=victim, stamp=replace(report.kills[0].stamp, wall=wall))
    tasks = (mf.task(666, SCRIPT, 60), mf.task(667, IMG, 30), mf.task(668, BIDI + ANSI, 20))
    report = replace(
        report,
        stamp=replace(report.stamp, wall=wall, host=IMG),
        trigger=replace(report.trigger, comm=IMG) if report.trigger else None,
        kernel=ANSI,
        oom_memcg=CGROUP,
        task_memcg=CGROUP,
        tasks=tasks,
        kills=(kill,),
        call_trace=(SCRIPT, IMG),
        notes=(BIDI,),
    )
    samples = []
    for i in range(60):
        t = wall - timedelta(seconds=59 - i)
        labels = (("comm", IMG),)
        samples += [
            Sample(t, "proc_rss_kb", 1e5 + 5e4 * i, "pid:667", labels, f"{SCRIPT}.txt"),
            Sample(t, "cg_mem_current_kb", 2000.0 + i, f"cgroup:{CGROUP}", (), ANSI),
            Sample(t, "mem_available_kb", 9e6 - 1e4 * i, None, (), IMG),
            Sample(t, "psi_mem_some_avg10", i / 2, None, (), BIDI),
        ]
    userspace = UserspaceKill("earlyoom", mf.where(40), mf.stamp(None, wall), 9, SCRIPT, IMG)
    result = replace(
        base,
        reports=(report,),
        userspace=(*base.userspace, userspace),
        sources=(*base.sources, SCRIPT),
    )
    return correlate(result, History(tuple(samples), ((IMG, "atop"),)))


def test_hostile_text_is_shown_never_run() -> None:
    result = hostile()
    assert result.incidents[0].culprit.comm == IMG  # the hostile name reaches the verdict
    html = render(result, title=SCRIPT + BIDI)
    page = assert_self_contained(html)
    assert page.find("svg", "chart")  # hostile legend, title and source text in SVG too
    assert [n.tag for n in page.nodes].count("script") == 1
    assert SCRIPT not in html and IMG not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    # no raw control character, bidi override or isolate reaches the page
    assert not RAW_CONTROL.search(html)
    assert "evil\\u202etxt.exe\\u2066" in page.text and "\\x1b[31mred" in page.text
    assert SCRIPT in page.text and IMG in page.text  # shown, as text


def test_model_factory_results_all_render() -> None:
    for name, result in mf.all_results().items():
        for r in (result, correlate(result)):
            html = render(r)
            assert_self_contained(html)
            assert "Traceback" not in html, name


def test_empty_result_renders() -> None:
    page = assert_self_contained(render(mf.empty_result()))
    assert "No OOM event found" in page.text
    assert not page.find("section", "incident") and not page.find("svg")


def test_userspace_only_result_lists_the_kills() -> None:
    page = assert_self_contained(render(mf.userspace_result()))
    rows = [n.attrs["id"] for n in page.find("tr") if n.attrs.get("id", "").startswith("user")]
    assert rows == ["userspace-0", "userspace-1", "userspace-2"]
    assert page.find("section")[0].attrs["id"] == "overview"
    assert "earlyoom" in page.text and "Page allocation failures" in page.text


def test_unfinished_and_panic_reports_are_listed() -> None:
    result = correlate(
        replace(
            mf.everything_result(),
            reports=(*mf.everything_result().reports, mf.panic_result().reports[0]),
        )
    )
    page = assert_self_contained(render(result))
    text = " ".join(page.text.split())
    assert "OOM report that never reached a kill" in text
    assert "panic_on_oom" in text


def test_title_option() -> None:
    page = parse(render(mf.global_oom_result(), title="INC-1234 web1 OOM"))
    assert page.find("title") and "INC-1234 web1 OOM" in page.text


# -- pieces -------------------------------------------------------------------------------------


def test_templates_come_from_the_checkout_or_the_package() -> None:
    origin = Path(templates_origin())
    assert (origin / "report.html.j2").is_file()
    assert origin in (ROOT / "templates", ROOT / "oomsleuth" / "templates")


def test_csp_hash_is_sha256_of_the_exact_text() -> None:
    digest = base64.b64encode(hashlib.sha256(b"x();").digest()).decode()
    assert csp_hash("x();") == f"'sha256-{digest}'"


def test_nice_steps() -> None:
    assert [nice_step(v) for v in (0.0, 3.0, 10.0, 23.4, 224.0, 1000.0)] == [
        0.25,
        1.0,
        2.0,
        5.0,
        50.0,
        200.0,
    ]


def test_decimation_keeps_peaks() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    times = [t0 + timedelta(seconds=i) for i in range(10_000)]
    values = [float(i % 97) for i in range(10_000)]
    values[5000] = 1e6
    kept = decimate(times, values)
    assert len(kept) <= 500 and max(v for _, v in kept) == 1e6
    assert kept == sorted(kept, key=lambda p: p[0])


def test_chart_text_is_escaped_and_gaps_break_the_line() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    times = [t0 + timedelta(seconds=s) for s in (0, 1, 2, 3, 60, 61, 62)]
    chart = Chart("x", f"title {SCRIPT}", "kB", (Line(IMG, times, [1.0, 2, 3, 4, 5, 6, 7]),))
    axis = TimeAxis(t0, times[-1], UTC)
    svg = str(draw(chart, axis, [Mark(times[3], f"kill {IMG}")], f"c{IMG}"))
    assert "<script" not in svg and "<img" not in svg
    page = parse(svg)
    assert page.find("svg")[0].attrs["id"] == f"c{IMG}"
    path = page.find("path", "series")[0].attrs["d"]
    assert path.count("M") == 2  # a 57 s hole in 1 s samples is not drawn as data
