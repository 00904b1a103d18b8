"""The Markdown report: golden files of real inputs, valid GFM structure, hostile text inert.

Golden files live in tests/golden/NAME.md and are compared exactly. After an intended change,
regenerate them with ``OOMSLEUTH_REGEN=1 pytest tests/test_render_markdown.py`` and review the diff.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import fields, is_dataclass, replace
from pathlib import Path
from typing import Any

import modelfactory as mf
import pytest
from expect import check_text
from markdown_it import MarkdownIt
from pipeline import analyze_files

from oomsleuth.model import Report
from oomsleuth.renderers.base import Renderer, safe_text
from oomsleuth.renderers.markdown import MarkdownRenderer
from oomsleuth.renderers.markdown_text import code, md, table

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
CORPUS = ROOT.parent / "shared" / "corpus"
INCIDENTS = "fixtures/incidents"
SHARED = "../shared/corpus"
GFM = MarkdownIt("commonmark").enable("table")
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")

# name -> (logs, history), paths relative to the checkout (the corpus: to its parent)
CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    **{
        f"incident-{name}": (
            (f"{INCIDENTS}/{name}/kern-dmesg-iso.txt",),
            (f"{INCIDENTS}/{name}/atop-P.txt", f"{INCIDENTS}/{name}/psi-cgroup.txt"),
        )
        for name in (
            "sidecar-leak-kills-db",
            "leaker-kills-itself",
            "bystander-triggers",
            "tmpfs-fills-memory",
            "repeated-kills-restart",
        )
    },
    "incident-sidecar-no-history": ((f"{INCIDENTS}/sidecar-leak-kills-db/kern-dmesg.txt",), ()),
    "real-memcg-names": (("fixtures/real/memcg-names.dmesg-iso.txt",), ()),
    "real-memcg-adj": (("fixtures/real/memcg-adj.dmesg-T.txt",), ()),
    "userspace-earlyoom": (("fixtures/userspace/earlyoom-current-syslog.log",), ()),
    "corpus-aks-k8s-pod": ((f"{SHARED}/aksnotes-memcg-v2-k8s-5.15-syslog-dmesgts.log",), ()),
    "corpus-k8s-multi": ((f"{SHARED}/oomexporter-memcg-k8s-rhel8-4.18-syslog-multi-b.log",), ()),
    "corpus-global-5.10": ((f"{SHARED}/lmmnotes-global-5.10-raw-dmesg.log",), ()),
}  # fmt: skip
REDACTED = ("corpus-aks-k8s-pod", "incident-sidecar-leak-kills-db")


def case_result(name: str) -> Report:
    """``oomsleuth.analyze`` of a case on a fixed clock (UTC, syslog year 2024), with source
    names relative to the checkout as in the goldens."""
    logs, history = CASES[name.removesuffix("-redacted")]
    if any(p.startswith("../shared/") for p in logs) and not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not here")
    return analyze_files(logs, history=history, redact=name.endswith("-redacted"))


def render(result: Report) -> str:
    out = io.StringIO()
    MarkdownRenderer().render(result, out)
    return out.getvalue()


ALL_CASES = [*CASES, *(f"{name}-redacted" for name in REDACTED)]


@pytest.mark.parametrize("name", ALL_CASES)
def test_golden(name: str) -> None:
    text = render(case_result(name))
    check_gfm(text)
    check_text(GOLDEN / f"{name}.md", text)


def test_the_renderer_follows_the_protocol() -> None:
    renderer: Renderer = MarkdownRenderer()
    assert callable(renderer.render)


# -- valid GitHub-flavoured Markdown ----------------------------------------------------------


def check_gfm(text: str) -> None:
    """Every run of ``|`` lines is one table with one column count; markdown-it (CommonMark +
    GFM tables) makes exactly those tables; no raw HTML; links only to the report's anchors."""
    tables: list[list[str]] = []
    previous = ""
    for line in text.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(line)
        previous = line
    for rows in tables:
        assert re.fullmatch(r"\|( ---:? \|)+", rows[1]), rows[1]
        widths = {len(UNESCAPED_PIPE.split(row)) for row in rows}
        assert len(widths) == 1, rows
        assert all(row.endswith(" |") and "\n" not in row for row in rows)
    tokens = GFM.parse(text)
    assert sum(t.type == "table_open" for t in tokens) == len(tables)
    assert GFM.render(text).count("<table>") == len(tables)
    inline = [c for t in tokens if t.children for c in t.children]
    assert not [t for t in (*tokens, *inline) if t.type in ("html_block", "html_inline")]
    for t in inline:
        if t.type == "link_open":
            assert re.fullmatch(r"#incident-\d+", str(t.attrGet("href")))
        assert t.type != "image"
    assert not [t for t in tokens if t.type == "code_block"]  # no stray indentation


@pytest.mark.parametrize("name", sorted(mf.all_results()))
def test_modelfactory_results_are_valid_gfm(name: str) -> None:
    check_gfm(render(mf.all_results()[name]))


# -- hostile text creates no structure --------------------------------------------------------

HOSTILE = (
    "# *a* _b_ `c` ``d`` [e](http://f) <b>g</b> <script>x</script> | ~~h~~ &amp; \\ ![i](j)\n- k",
    "- *x*",
    "1. y | z",
    "> q\\|",
    "`",
    "  +  ",
    "=",
)
TEXT_FIELDS = frozenset(
    str.split(
        "comm trigger_comm host oom_memcg task_memcg cgroup stats_path message reason raw source"
        " sources kernel code cgroup_label badness_note evidence cascade data_gaps gfp_flags panic"
        " notes what killer signal"
    )
)


def rewrite(value: Any, text: Callable[[str], str], name: str = "") -> Any:
    """Every string of the fields above replaced by ``text(original)``."""
    if is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: rewrite(getattr(value, f.name), text, f.name) for f in fields(value)}
        return replace(value, **changes)
    if isinstance(value, str):
        return text(value) if name in TEXT_FIELDS and value else value
    if isinstance(value, tuple):
        return tuple(rewrite(v, text, name) for v in value)
    return value


def structure(text: str) -> Counter[str]:
    """Token types, less text and the code spans (checked by :func:`code_spans`)."""
    tokens = GFM.parse(text)
    inline = [c.type for t in tokens if t.children for c in t.children]
    ignored = Counter({"text": 10**9, "softbreak": 10**9, "code_inline": 10**9})
    return Counter([t.type for t in tokens] + inline) - ignored


def code_spans(text: str) -> list[str]:
    return [c.content for t in GFM.parse(text) if t.children for c in t.children
            if c.type == "code_inline"]  # fmt: skip


def rich_result() -> Report:
    return analyze_files([f"{INCIDENTS}/sidecar-leak-kills-db/kern-dmesg-iso.txt"],
                         history=[f"{INCIDENTS}/sidecar-leak-kills-db/atop-P.txt"])  # fmt: skip


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("base", ["everything", "rich"])
def test_hostile_text_is_inert(hostile: str, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = rich_result() if base == "rich" else mf.everything_result()
    plain = render(rewrite(result, lambda s: "plain"))
    evil = render(rewrite(result, lambda s: hostile))
    check_gfm(evil)
    assert structure(evil) == structure(plain)
    # code spans: the report's own, the hostile text whole, or a link-like word of it (md())
    shown = safe_text(hostile).strip()
    ours, words = set(code_spans(plain)), set(shown.split())
    assert all(c in ours or shown in c or c in words for c in code_spans(evil))
    html = GFM.render(evil)
    assert "<script>" not in html and "<b>" not in html and 'href="http' not in html
    text = html.replace("<code>", "").replace("</code>", "")
    assert shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in text


def test_terminal_and_bidi_controls_are_shown_escaped() -> None:
    text = render(mf.hostile_result())
    assert "\x1b" not in text and "\u202e" not in text and "\r" not in text
    assert "\\x1b" in text and "\\u202e" in text
    check_gfm(text)


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("a|b", "a\\|b"),
        ("*x* _y_", "\\*x\\* \\_y\\_"),
        ("<b>", "\\<b\\>"),
        ("# h", "\\# h"),
        ("- item", "\\- item"),
        ("12. item", "12\\. item"),
        ("[l](u)", "\\[l\\](u)"),
        ("back\\slash", "back\\\\slash"),
        ("line\nbreak", "line\\\\x0abreak"),
    ],
)
def test_md_escapes(raw: str, want: str) -> None:
    assert md(raw) == want


@pytest.mark.parametrize(
    ("raw", "want"),
    [("steady-db", "`steady-db`"), ("a`b", "``a`b``"), ("`x", "`` `x ``"), ("a|b", "`a|b`")],
)
def test_code_spans(raw: str, want: str) -> None:
    assert code(raw) == want


def test_pipes_are_escaped_in_table_cells_code_spans_included() -> None:
    """GFM strips one backslash before each ``|`` of a cell before parsing it (code spans
    too): a cell says ``a|b``, and ``a\\|b`` too, as written."""
    cells = (code("a|b"), md("c|d"), code("e\\|f"))
    text = table(("x", "y", "z"), [cells])
    assert text.splitlines()[2] == "| `a\\|b` | c\\\\|d | `e\\\\|f` |"
    html = GFM.render(text)
    assert "<td><code>a|b</code></td>" in html and "<td>c|d</td>" in html
    assert "<td><code>e\\|f</code></td>" in html


def test_several_incidents_start_with_an_overview() -> None:
    text = render(mf.everything_result())
    assert text.index("## Overview") < text.index("## Incident 1")
    assert text.count("](#incident-") == len(mf.everything_result().reports)
    single = render(mf.memcg_v2_result())
    assert "## Overview" not in single and "## Incident 1" in single


def test_the_verdict_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    text = render(rich_result())
    order = [text.index(h) for h in ("### Verdict", "### Summary", "### Top processes")]
    assert order == sorted(order)
    assert "**Culprit:** `leaky-sidecar` (14998), confidence 0.93" in text
    assert "| victim | 14997 | `steady-db` |" in text


def test_without_history_it_says_not_enough_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    text = render(analyze_files([f"{INCIDENTS}/sidecar-leak-kills-db/kern-dmesg-iso.txt"]))
    assert "**Culprit:** not enough data to name one" in text
    assert "### The kernel's choice" in text


def test_empty_input() -> None:
    text = render(mf.empty_result())
    assert "**No OOM event found**" in text and "## Incident" not in text
