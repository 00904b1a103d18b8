"""Lazy patterns: every one in the package compiles, and each behaves as the compiled pattern."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import oomsleuth
from oomsleuth.model import patterns
from oomsleuth.model.patterns import LazyPattern, lazy_compile


def _import_all() -> None:
    for info in pkgutil.walk_packages(oomsleuth.__path__, "oomsleuth."):
        if not info.name.startswith(("oomsleuth.cli", "oomsleuth.fleet")):
            importlib.import_module(info.name)


def test_every_lazy_pattern_in_the_package_compiles() -> None:
    _import_all()
    made = [p for p in patterns.MADE if isinstance(p, LazyPattern)]
    assert len(made) >= 150  # the package's module-level patterns
    for p in made:
        assert isinstance(p.compiled(), re.Pattern)


def test_nothing_is_compiled_at_import() -> None:
    fresh = lazy_compile(r"(?P<pid>\d+) \((?P<comm>[^)]*)\)")
    assert fresh.pattern == r"(?P<pid>\d+) \((?P<comm>[^)]*)\)"
    assert "match" not in vars(fresh)  # the pattern property does not compile it
    m = fresh.search("Killed process 42 (leaker)")
    assert m is not None and m["pid"] == "42" and m["comm"] == "leaker"
    assert "match" in vars(fresh)  # compiled on first use, methods now its own


@pytest.mark.parametrize("method", ["match", "search", "fullmatch", "findall", "split", "sub"])
def test_each_method_is_the_compiled_patterns(method: str) -> None:
    text, source = "a1b22c333", r"\d+"
    real, lazy = re.compile(source), lazy_compile(source)
    args = ("-", text) if method == "sub" else (text,)
    got, want = getattr(lazy, method)(*args), getattr(real, method)(*args)
    if isinstance(want, re.Match):
        assert got is not None and got.span() == want.span()
    else:
        assert got == want
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in real.finditer(text)]
    assert (lazy.groups, lazy.flags) == (real.groups, real.flags)
    flagged = lazy_compile(rb"KILLED", re.IGNORECASE)
    assert flagged.search(b"oom: killed") is not None and flagged.flags & re.IGNORECASE
