"""The layout stays true: data flows load -> frame -> parse -> clock -> correlate -> render, with
the model beside them (the import rules of ../shared/reference/architecture.md, checked on every
import statement, function-level ones included); every fixture has its expectation beside it;
modules and functions stay small."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from expect import expect_path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "oomsleuth"
FIXTURES = ROOT / "fixtures"

_ERRORS = "oomsleuth.errors"  # printable(): the one rule for foreign text a person reads

# stage -> the oomsleuth modules it may import (prefixes); everything else of ours is forbidden
ALLOWED: dict[str, tuple[str, ...]] = {
    "model": ("oomsleuth.model", "oomsleuth._version"),
    "frame": ("oomsleuth.model", "oomsleuth.frame"),
    "parsers": ("oomsleuth.model", "oomsleuth.parsers"),
    "clock": ("oomsleuth.model", "oomsleuth.clock"),
    "history": ("oomsleuth.model", "oomsleuth.history", "oomsleuth.errors"),
    "correlate": ("oomsleuth.model", "oomsleuth.correlate"),
    "renderers": ("oomsleuth.model", "oomsleuth.renderers", "oomsleuth._version", _ERRORS),
    "load": ("oomsleuth.model", "oomsleuth.load", "oomsleuth.errors", "oomsleuth.history"),
    "scanner": ("oomsleuth.model", "oomsleuth.frame", "oomsleuth.parsers", "oomsleuth.clock"),
    # one source read in two halves: a scanner's work, as the scanner's imports
    "scan_halves": (
        "oomsleuth.model",
        "oomsleuth.frame",
        "oomsleuth.parsers",
        "oomsleuth.clock",
        "oomsleuth.scanner",
    ),
    "redact": ("oomsleuth.model", "oomsleuth.redact_rules"),
    "redact_rules": ("oomsleuth.model",),
    "errors": (),
    "_version": (),
    "_startup": (),  # the CLI's garbage collector pause: nothing of ours
    "_collector": (),  # full collections made rare during a run: nothing of ours
    "schema": (),
    "output": ("oomsleuth.errors",),
    # a wiring layer like api: it calls the public API (``import oomsleuth``) on each host and
    # turns the model into rows; frame splits a central log by host, cgroups decodes paths
    "fleet": (
        "oomsleuth.fleet",
        "oomsleuth.model",
        "oomsleuth.errors",
        "oomsleuth.output",
        "oomsleuth._version",
        "oomsleuth.frame",
        "oomsleuth.correlate.cgroups",
        "oomsleuth.renderers.base",
        "oomsleuth.renderers.json",
        "oomsleuth.renderers.templating",
    ),
}


def _stage(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every ``oomsleuth...`` module a file imports, with the line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found += [(node.lineno, n) for n in names if n.startswith("oomsleuth")]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("oomsleuth")]
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if _stage(p) in ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_import_rules(path: Path) -> None:
    allowed = ALLOWED[_stage(path)]
    bad = []
    for line, name in _imports(path):
        # "from oomsleuth.model import X" also lists oomsleuth.model.X: a name, not a module
        if name in ("oomsleuth",) or any(name == a or name.startswith(a + ".") for a in allowed):
            continue
        bad.append(f"line {line}: {name}")
    assert not bad, f"{path.relative_to(ROOT)} ({_stage(path)}) may not import: {bad}"


MODULE_LINES = 300  # the module size of ../shared/reference/architecture.md
BODY_LINES = 60  # a function's statements (its signature and docstring aside)


def test_modules_and_functions_stay_small() -> None:
    too_big, too_long = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        name = str(path.relative_to(ROOT))
        if text.count("\n") > MODULE_LINES:
            too_big.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text, name)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body
                if len(body) > 1 and isinstance(body[0], ast.Expr):
                    body = body[1:]  # the docstring
                size = (node.end_lineno or node.lineno) - body[0].lineno + 1
                if size > BODY_LINES:
                    too_long.append(f"{name}:{node.lineno} {node.name}: {size} lines")
    assert not too_big, f"modules over {MODULE_LINES} lines: {too_big}"
    assert not too_long, f"function bodies over {BODY_LINES} lines: {too_long}"


def test_every_stage_is_checked() -> None:
    stages = {_stage(p) for p in PACKAGE.rglob("*.py")}
    wiring = {"__init__", "__main__", "api", "api_ahead", "api_ahead_child", "api_host"}
    wiring |= {"api_scan", "cli"}
    assert stages - set(ALLOWED) == wiring


def test_the_cli_holds_no_stage_logic() -> None:
    """The cli imports the public API, the errors, the version, the output writer and its
    start-up hook (the collector's pause): nothing of the stages."""
    names = {n for path in (PACKAGE / "cli").glob("*.py") for _, n in _imports(path)}
    allowed = ("oomsleuth.errors", "oomsleuth._version", "oomsleuth.output", "oomsleuth.cli",
               "oomsleuth._startup")  # fmt: skip
    assert all(n == "oomsleuth" or n.startswith(allowed) for n in names), names


# -- fixtures -------------------------------------------------------------------------------

# inputs whose expectation is their derived text fixture's (same capture, other form)
COMPANIONS = {
    "history/atop/atop.raw": "the raw file atop.P.txt and atop.PZ.txt were read from",
    "history/psi/real-v1-memcg-oom.kernel.txt": "the kernel report of the sampler capture",
}


def _has_expectation(path: Path) -> bool:
    capture = path.name.split(".")[0]
    if expect_path(path).is_file() or (path.parent / f"{capture}.facts.json").is_file():
        return True
    for folder in path.parents:  # a folder of one capture (fixtures/incidents, fixtures/evidence)
        if folder == FIXTURES:
            break
        if (folder / "facts.json").is_file():
            return True
    for facts in path.parent.glob("*.facts.json"):  # a hand-written report names its file
        if json.loads(facts.read_text()).get("fixture") == path.name:
            return True
    return str(path.relative_to(FIXTURES)) in COMPANIONS


def test_every_fixture_has_its_expectation_beside_it() -> None:
    inputs = [
        p
        for p in FIXTURES.rglob("*")
        if p.is_file()
        and p.suffix not in (".py", ".sh", ".md")
        and not p.name.endswith((".expect.json", "facts.json", ".meta.json"))
    ]
    assert len(inputs) > 80
    assert [str(p.relative_to(FIXTURES)) for p in inputs if not _has_expectation(p)] == []
