"""The JSON renderer writes the document piece by piece: exactly the text of the whole document
dumped at once (``dumps(report.to_dict())``), without ever holding the whole document."""

from __future__ import annotations

import io
import json
import tracemalloc
from dataclasses import replace

import modelfactory as mf
import pytest
from pipeline import ROOT, analyze_files, analyze_lines
from test_render_markdown import ALL_CASES, case_result

import oomsleuth
from oomsleuth.model import Boot, MemcgInfo, Report, Victim, Warning_
from oomsleuth.renderers.json import JsonRenderer, dumps

CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURE_LOGS = sorted(
    str(p.relative_to(ROOT))
    for folder in ("real", "handwritten", "userspace")
    for p in (ROOT / "fixtures" / folder).iterdir()
    if p.is_file() and p.suffix not in (".json", ".md", ".py")
)
CORPUS_LOGS = sorted(p.name for p in CORPUS.glob("*.log")) if CORPUS.is_dir() else []


def streamed(result: Report, indent: int | None = 2) -> str:
    out = io.StringIO()
    JsonRenderer(indent).render(result, out)
    return out.getvalue()


def check_same(result: Report) -> None:
    """The streamed text is the whole document's, byte for byte, indented and compact; it
    parses back to ``to_dict()``."""
    whole = result.to_dict()
    for indent in (2, None):
        text = streamed(result, indent)
        assert text == dumps(whole, indent) + "\n"
        assert json.loads(text) == whole


@pytest.mark.parametrize("name", sorted(mf.all_results()))
def test_streamed_equals_whole_on_every_model_result(name: str) -> None:
    check_same(mf.all_results()[name])


@pytest.mark.parametrize("name", ALL_CASES)
def test_streamed_equals_whole_on_every_golden_case(name: str) -> None:
    result = case_result(name)  # incidents, history, findings; redacted ones too
    assert result.reports or result.userspace
    check_same(result)


@pytest.mark.parametrize("log", FIXTURE_LOGS)
def test_streamed_equals_whole_on_every_fixture_log(log: str) -> None:
    check_same(analyze_files([log]))


@pytest.mark.parametrize("log", CORPUS_LOGS)
def test_streamed_equals_whole_on_every_corpus_log(log: str) -> None:
    check_same(analyze_files([CORPUS / log]))


HOSTILE = (
    "c0\x00\x07\x1b[31m\r\n\t c1\x85\x9b del\x7f bidi\u202e\u2066\u200f zw\u200b\ufeff"
    ' ls\u2028ps\u2029 tag\U000e0041 nonbmp🙂𝄞 undecodable\udcff\udc80 lone\ud800 q"\\/'
)


def hostile_everywhere() -> Report:
    """Hostile text in every kind of place: sources, boots, events (keys and values),
    warnings, userspace kills."""
    base = mf.hostile_result()
    [report] = base.reports
    victim = Victim(666, HOSTILE, 0, 100, 50, 10, 0, 4, 0)
    report = replace(
        report,
        memcg=MemcgInfo(version="v2", stats_bytes=((HOSTILE, 1), ("plain", 2))),
        oom_memcg=HOSTILE,
        kills=(mf.kill(victim, 9, 1.6, source=HOSTILE),),
        notes=(HOSTILE,),
        call_trace=(HOSTILE, "ok"),
    )
    return replace(
        base,
        reports=(report,),
        sources=(HOSTILE, "h\x1bstile.log"),
        boots=(Boot(mf.where(2, HOSTILE), boot_id=HOSTILE, reason=HOSTILE),),
        warnings=(*base.warnings, Warning_(mf.where(3, HOSTILE), HOSTILE, HOSTILE)),
        userspace=tuple(replace(u, reason=HOSTILE, comm=HOSTILE) for u in base.userspace),
    )


def test_streamed_equals_whole_on_hostile_text() -> None:
    result = hostile_everywhere()
    check_same(result)
    text = streamed(result)
    text.encode("utf-8")  # undecodable input bytes became visible escapes
    assert "undecodable\\xff\\x80 lone\\ud800" in json.loads(text)["sources"][0]
    assert "\\u202e" in text and "\\u2028" in text and "\\udb40\\udc41" in text
    assert "🙂𝄞" in text  # printable non-ASCII stays as it is
    assert not any(c in text for c in "\x00\x1b\x85\x7f\u202e\u200b\u2028")


class Sink(io.TextIOBase):
    """A text stream that keeps only how much was written, and its biggest single write."""

    def __init__(self) -> None:
        self.chars = self.writes = self.biggest = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        self.writes += 1
        self.biggest = max(self.biggest, len(text))
        return len(text)


def test_render_never_holds_the_whole_document() -> None:
    """Many real reports rendered to a stream that keeps nothing: the memory the render takes
    (above the model) is a small part of the text, and no write holds more than a few events."""
    one = (ROOT / "fixtures" / "real" / "memcg-names.dmesg.txt").read_text().splitlines()
    reports = 200
    result = analyze_lines([line for _ in range(reports) for line in one])
    assert len(result.reports) == reports
    sink = Sink()
    tracemalloc.start()
    try:
        oomsleuth.render(result, "json", sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.chars == len(dumps(result.to_dict())) + 1
    assert peak < sink.chars / 5  # the whole document as dicts (about 7 times), or as text, is more
    events = len(result.to_dict()["events"])
    assert events >= reports
    assert sink.writes > events
    assert sink.biggest < 5 * sink.chars / events  # one element at a time, never all
