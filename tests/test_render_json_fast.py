"""orjson (the ``fast`` extra) writes the JSON document byte for byte as the standard library
does: on every golden case, fixture and corpus log, on hostile text, and on random documents;
where orjson would write otherwise (or refuse), the standard library's text is used."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import enum
import io
import json
import os
import subprocess
import sys
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import modelfactory as mf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pipeline import ROOT, analyze_files
from test_render_json_stream import CORPUS, CORPUS_LOGS, FIXTURE_LOGS, hostile_everywhere
from test_render_markdown import ALL_CASES, case_result

import oomsleuth
from oomsleuth.model import Report, Victim
from oomsleuth.model.document import document_items
from oomsleuth.renderers import json as json_renderer
from oomsleuth.renderers import json_fast
from oomsleuth.renderers.json import dumps

orjson = pytest.importorskip("orjson")


@contextlib.contextmanager
def without_orjson() -> Iterator[None]:
    """The standard library's encoder only, as ``OOMSLEUTH_NO_ORJSON=1`` gives it."""
    old = os.environ.get(json_fast.NO_ORJSON)
    os.environ[json_fast.NO_ORJSON] = "1"
    json_fast.encoder.cache_clear()
    try:
        yield
    finally:
        if old is None:
            del os.environ[json_fast.NO_ORJSON]
        else:
            os.environ[json_fast.NO_ORJSON] = old
        json_fast.encoder.cache_clear()


def reference(doc: Any) -> str:
    """The text without orjson: the standard library, then the renderer's escapes."""
    with without_orjson():
        assert json_fast.encoder() is None
        return dumps(doc)


def rendered(result: Report) -> str:
    """The document, orjson's text from its first piece (not after ``EAGER_CHARS``)."""
    eager = json_renderer.EAGER_CHARS
    json_renderer.EAGER_CHARS = 0
    try:
        out = io.StringIO()
        oomsleuth.render(result, "json", out)
        return out.getvalue()
    finally:
        json_renderer.EAGER_CHARS = eager


def stdlib_rendered(result: Report) -> str:
    with without_orjson():
        return rendered(result)


def check_same(result: Report) -> None:
    """The same text with orjson and without, and every piece of it was orjson's."""
    encode = json_fast.encoder()
    assert encode is not None
    for _, value in document_items(result):
        for piece in value if isinstance(value, Iterator) else [value]:
            assert encode(piece) is not None
    assert rendered(result) == stdlib_rendered(result)


@pytest.mark.parametrize("name", ALL_CASES)
def test_same_on_every_golden_case(name: str) -> None:
    check_same(case_result(name))


@pytest.mark.parametrize("log", FIXTURE_LOGS)
def test_same_on_every_fixture_log(log: str) -> None:
    check_same(analyze_files([log]))


@pytest.mark.parametrize("log", CORPUS_LOGS)
def test_same_on_every_corpus_log(log: str) -> None:
    check_same(analyze_files([CORPUS / log]))


@pytest.mark.parametrize("name", sorted(mf.all_results()))
def test_same_on_every_model_result(name: str) -> None:
    check_same(mf.all_results()[name])


def test_same_on_hostile_text() -> None:
    result = hostile_everywhere()
    check_same(result)
    assert "\\u202e" in rendered(result)  # the renderer's own escapes still apply


def test_undecodable_bytes_in_an_orjson_document() -> None:
    """The renderer hands orjson values as built (not cleaned): a piece holding a lone
    surrogate (an input byte that did not decode) is refused by orjson and cleaned for the
    standard library, so the text is still the cleaned document's, as UTF-8 and as escapes."""
    victim = Victim(1, "bad\udcff\udc80name")
    report = dataclasses.replace(mf.global_oom_report(), kills=(mf.kill(victim, 150, 1.0),))
    result = Report(reports=(report,), sources=("kern\udcfe.log",))
    text = rendered(result)
    assert text == stdlib_rendered(result)
    text.encode("utf-8")
    assert '"comm": "bad\\\\xff\\\\x80name"' in text and '"kern\\\\xfe.log"' in text


RENDER = """
import hashlib, io, sys, oomsleuth
out = io.StringIO()
oomsleuth.render(oomsleuth.analyze([sys.argv[1]]), "json", out)
print("orjson" in sys.modules, hashlib.md5(out.getvalue().encode()).hexdigest())
"""


def render_in_a_process(log: Path, with_orjson: bool = True) -> tuple[str, str]:
    env = {**os.environ, json_fast.NO_ORJSON: "0" if with_orjson else "1"}
    run = subprocess.run([sys.executable, "-c", RENDER, str(log)], env=env, capture_output=True)
    imported, md5 = run.stdout.decode().split()
    return imported, md5


def test_orjson_only_for_a_big_document(tmp_path: Path) -> None:
    """One report's document is written by the standard library (importing orjson would cost
    more); a big one switches to orjson after ``EAGER_CHARS``, and its text is the same."""
    one = ROOT / "fixtures" / "real" / "memcg-names.dmesg.txt"
    assert render_in_a_process(one)[0] == "False"
    many = tmp_path / "many.log"
    many.write_text(one.read_text() * 80)
    imported, md5 = render_in_a_process(many)
    assert imported == "True"
    assert render_in_a_process(many, with_orjson=False) == ("False", md5)
    doc = analyze_files([many]).to_dict()
    assert len(dumps(doc)) > 2 * json_renderer.EAGER_CHARS


# -- where orjson would differ ---------------------------------------------------------------


class Plain(enum.Enum):
    A = 1


class Number(enum.IntEnum):
    A = 1


class Small(float, enum.Enum):
    A = 1e-05


class Text(str):
    pass


class Real(float):
    pass


@dataclasses.dataclass
class Data:
    a: int = 1


def nested(depth: int) -> list[Any]:
    doc: list[Any] = []
    for _ in range(depth):
        doc = [doc]
    return doc


# what orjson writes otherwise, found by the walk before it runs
GUARDED = {
    "small float": 1e-05,
    "tiny floats": [9.99e-10, -3e-7],
    "just below 1e-4": 9.999999999999999e-05,
    "huge float": 1e16,
    "nan": {"a": float("nan")},
    "infinities": [float("inf"), float("-inf")],
    "int enum": Number.A,
    "float enum": [Small.A],
    "str subclass": Text("x"),
    "float subclass": [Real(1.5)],
    "ordered dict": OrderedDict(a=1),
}
# what orjson refuses (and the standard library writes)
RAISES = {
    "big int": 2**64,
    "very negative int": -(2**63) - 1,
    "int key": {1: "a"},
    "None key": {None: 1},
    "bool keys": {True: 1, False: 2},
    "float key": {1.5: 1},
    "str subclass key": {Text("k"): 1},
    "lone surrogate": ["\ud800"],
    "surrogate key": {"\udcff": 1},
    "deep": nested(300),
}


@pytest.mark.parametrize("name", sorted(GUARDED) + sorted(RAISES))
def test_where_orjson_differs_the_standard_library_writes(name: str) -> None:
    doc = GUARDED.get(name, RAISES.get(name))
    assert json_fast.plain(doc) is (name in RAISES)
    encode = json_fast.encoder()
    assert encode is not None
    assert encode(doc) is None
    assert dumps(doc) == reference(doc)


REFUSED = {
    "enum": Plain.A,
    "uuid": uuid.UUID(int=5),
    "dataclass": Data(),
    "datetime": datetime.datetime(2024, 1, 1),
    "date in a list": [datetime.date(2024, 1, 1)],
    "bytes": b"x",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_the_standard_library_refuses_stays_refused(name: str) -> None:
    """orjson writes enums and UUIDs (and could write dataclasses and dates); the renderer
    raises for them as the standard library does."""
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps(REFUSED[name])


def test_a_circular_document_raises_as_before() -> None:
    doc: list[Any] = []
    doc.append(doc)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps(doc)


def test_orjson_writes_its_differences_as_expected() -> None:
    """The differences above are real (else the guard guards nothing): orjson's own text."""
    option = orjson.OPT_INDENT_2
    assert orjson.dumps(1e-05, option=option) != b"1e-05"
    assert orjson.dumps([float("nan")]) == b"[null]"
    with pytest.raises(TypeError):
        orjson.dumps({1: 2})
    with pytest.raises(TypeError):
        orjson.dumps(2**64)
    with pytest.raises(TypeError):
        orjson.dumps("\ud800")
    assert orjson.dumps(Plain.A) == b"1"


def test_compact_text_stays_the_standard_library_s() -> None:
    """orjson's compact separators are "," and ":"; indent=None is the C encoder's already."""
    doc = {"a": [1, 2.5, None], "b": {}}
    assert dumps(doc, indent=None) == '{"a": [1, 2.5, null], "b": {}}'
    assert orjson.dumps(doc) == b'{"a":[1,2.5,null],"b":{}}'


def test_the_sample_is_checked() -> None:
    """An orjson whose text differs on the sample is not used."""
    assert json_fast.agrees(lambda doc: json.dumps(doc, ensure_ascii=False, indent=2))
    assert not json_fast.agrees(lambda doc: json.dumps(doc, ensure_ascii=True, indent=2))
    assert not json_fast.agrees(lambda doc: None)


# -- without orjson ----------------------------------------------------------------------------


def test_forced_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """``OOMSLEUTH_NO_ORJSON=1``: the standard library writes the same text."""
    monkeypatch.setenv(json_fast.NO_ORJSON, "1")
    json_fast.encoder.cache_clear()
    try:
        assert json_fast.encoder() is None
        result = hostile_everywhere()
        text = rendered(result)
        monkeypatch.setenv(json_fast.NO_ORJSON, "0")
        json_fast.encoder.cache_clear()
        assert json_fast.encoder() is not None
        assert text == rendered(result)
    finally:
        json_fast.encoder.cache_clear()


def test_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without orjson the standard library writes the same text."""
    result = mf.hostile_result()
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "orjson", None)  # import orjson raises ImportError
        json_fast.encoder.cache_clear()
        assert json_fast.encoder() is None
        text = rendered(result)
    json_fast.encoder.cache_clear()
    assert json_fast.encoder() is not None
    assert text == rendered(result)


# -- random documents ------------------------------------------------------------------------

HOSTILE = '\x00\x01\x08\t\n\x0c\r\x1b\x1f "\\/\x7f\x80\x85\x9b\xa0\xad\u061c\u200b\u200e'
HOSTILE += "\u2028\u2029\u202e\u2066\ufeff\ufffd\U000e0041\U0001f642\ud800\udcff\udfff"
texts = st.text(st.sampled_from(HOSTILE) | st.characters(codec=None), max_size=12)
floats = st.floats() | st.builds(lambda m, e: m * 10.0**e, st.floats(-10, 10), st.integers(-12, 20))
ints = st.integers() | st.integers(2**62, 2**66) | st.integers(-(2**66), -(2**62))
scalars = texts | floats | ints | st.booleans() | st.none()
keys = texts | st.integers(-3, 3) | st.booleans() | st.none() | st.sampled_from([0.5, 1e-05])
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(documents)
def test_random_documents_are_written_as_the_standard_library_does(doc: Any) -> None:
    assert dumps(doc) == reference(doc)
    if json_fast.plain(doc) and _encodable(doc):
        encode = json_fast.encoder()
        assert encode is not None and encode(doc) is not None  # orjson's text was the one used


def _encodable(doc: Any) -> bool:
    """Within what orjson takes: str keys, 64-bit integers, valid UTF-8."""
    if isinstance(doc, dict):
        return all(type(k) is str and _encodable(k) and _encodable(v) for k, v in doc.items())
    if isinstance(doc, list | tuple):
        return all(_encodable(v) for v in doc)
    if isinstance(doc, str):
        return not any(0xD800 <= ord(c) <= 0xDFFF for c in doc)
    if type(doc) is int:
        return -(2**63) <= doc < 2**64
    return True
