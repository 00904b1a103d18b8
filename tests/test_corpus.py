"""Regression on the shared corpus of real OOM logs (read from ../shared, never copied here).

Every case recorded in tests/corpus-ratchet.json must stay exact, scored by the shared scorer
itself; the whole corpus must also parse without any error. Skips cleanly where ../shared is absent.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from pipeline import document

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
SCORER = SHARED / "tools" / "score_corpus.py"
RATCHET = ROOT / "tests" / "corpus-ratchet.json"
CMD = f"{sys.executable} -m oomsleuth analyze {{log}} --format json"

pytestmark = pytest.mark.skipif(
    not (CORPUS.is_dir() and SCORER.is_file()), reason="../shared/corpus is not here"
)


def _scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("score_corpus", SCORER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cases() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(p.name[: -len(".expect.json")] for p in CORPUS.glob("*.expect.json"))


def _ratchet() -> set[str]:
    return set(json.loads(RATCHET.read_text())) if RATCHET.exists() else set()


@pytest.mark.parametrize("case", _cases())
def test_corpus_case(case: str) -> None:
    scorer = _scorer()
    expect = json.loads((CORPUS / f"{case}.expect.json").read_text())
    good, total, problems = scorer.score_case(CORPUS / f"{case}.log", expect, CMD, False)
    if case in _ratchet():
        assert problems == [], f"{case} was exact and regressed: {problems}"
    elif problems:
        pytest.xfail(f"{case} not exact yet ({good}/{total}): {problems[:3]}")


@pytest.mark.parametrize("case", _cases())
def test_corpus_output_matches_the_schema(case: str) -> None:
    import jsonschema

    schema = json.loads((ROOT / "oomsleuth" / "schema" / "oomsleuth.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(document(CORPUS / f"{case}.log"))
