"""One set of facts, four formats: every fixture and corpus input rendered as JSON, terminal,
Markdown and HTML states the same counts, the same incident numbers, the same victims (each
once), the same culprits and confidences, and no "Trigger ? (?)"."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import pytest
from pipeline import CORPUS, ROOT, analyze_files

import oomsleuth

FIXTURES = ROOT / "fixtures"
INPUTS = sorted(
    [
        *(FIXTURES / "handwritten").glob("k*.txt"),
        *(FIXTURES / "handwritten").glob("k*.log"),
        *(FIXTURES / "handwritten").glob("k*.json"),
        *(p for p in (FIXTURES / "real").glob("*.dmesg.txt")),
        *(FIXTURES / "incidents").glob("*/kern-dmesg-iso.txt"),
        *(FIXTURES / "userspace").glob("*.log"),
    ]
)
INPUTS = [p for p in INPUTS if not p.name.endswith(".facts.json")]
CORPUS_LOGS = sorted(CORPUS.glob("*.log")) if CORPUS.is_dir() else []


def _render(result: oomsleuth.Report, fmt: str) -> str:
    out = io.StringIO()
    oomsleuth.render(result, fmt, out, width=240, color=False)
    return out.getvalue()


def _pids(text: str) -> set[int]:
    return {int(p) for p in re.findall(r"\((\d+)\)", text)}


def _check(paths: list[Path]) -> None:
    result = analyze_files(paths)
    doc = json.loads(_render(result, "json"))
    term, md = _render(result, "terminal"), _render(result, "md")
    raw = _render(result, "html")
    page = html.unescape(re.sub(r"<[^>]+>", "", raw))
    s = doc["summary"]
    if s["reports"]:
        said = f"{s['oom_kills']} kill{'s' if s['oom_kills'] != 1 else ''} in {s['reports']} OOM"
        for name, text in (("terminal", term), ("markdown", md), ("html", page)):
            assert said in text, (name, said)
    md_parts = re.split(r"^## Incident (\d+)$", md, flags=re.M)
    md_heads = {
        int(n): body.strip().splitlines()[0]
        for n, body in zip(md_parts[1::2], md_parts[2::2], strict=True)
    }
    term_titles = re.findall(r"╭─ (.*?) ─+╮", term)
    term_numbers = [int(n) for n in re.findall(r"incident (\d+) · ", term)]
    heads = re.findall(r'<h2 id="[^"]+-h"><span class="num">#(\d+)</span> (.*?)</h2>', raw)
    html_titles = {n: html.unescape(title) for n, title in heads}
    assert len(term_titles) == len(doc["incidents"]) == len(md_heads) == len(term_numbers)
    for inc in doc["incidents"]:
        n = inc["report_id"] + 1
        assert n in md_heads and n in term_numbers and str(n) in html_titles
        pids = {v["pid"] for v in inc["victims"]}
        if len(pids) == 1:  # the victim named once in every title
            for name, title in (
                ("markdown", md_heads[n]),
                ("terminal", term_titles[term_numbers.index(n)]),
                ("html", html_titles[str(n)]),
            ):
                assert _pids(title) == pids, (name, title)
                assert title.count(f"({next(iter(pids))})") == 1, (name, title)
        culprit = inc["culprit"]
        if culprit["kind"] != "unknown":
            conf = f"{culprit['confidence']:.2f}"
            for name, text in (("terminal", term), ("markdown", md), ("html", page)):
                assert f"confidence {conf}" in text, (name, conf)
    for name, text in (("terminal", term), ("markdown", md), ("html", page)):
        assert "? (?)" not in text, name
        assert "TiB" not in text or "8388608" not in text, name
        assert not re.search(r"\b1024\.0 [KMG]iB", text), name


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_formats_agree(path: Path) -> None:
    _check([path])


@pytest.mark.parametrize("path", CORPUS_LOGS, ids=lambda p: p.stem)
def test_corpus_formats_agree(path: Path) -> None:
    _check([path])


def test_corpus_concatenated_formats_agree() -> None:
    """All the corpus at once: 58 reports, numbered the same in every format."""
    if not CORPUS_LOGS:
        pytest.skip(f"{CORPUS} is absent")
    _check(CORPUS_LOGS)


def test_corpus_concatenated_html_is_under_a_megabyte() -> None:
    """58 reports in one HTML file stay under 1 MB: the task rows a table shows are not
    repeated in the report's lines, the table cells carry no markup they do not need."""
    if not CORPUS_LOGS:
        pytest.skip(f"{CORPUS} is absent")
    page = _render(analyze_files(CORPUS_LOGS), "html")
    assert page.count('<section class="incident') == 58
    assert len(page.encode("utf-8")) < 1_000_000
