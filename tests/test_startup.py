"""What a one-report run leaves undone: modules it never imports, patterns it never compiles,
and the lazy parts giving what the eager ones gave (a small input framed line by line, the
control-character count without a regex, the commands typer builds only when asked for)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_fastpath import _lines
from test_scan import _all_logs

from oomsleuth.load import blocks, literals, text
from oomsleuth.load.files import Input
from oomsleuth.scanner import candidate_patterns, parse_sources

ROOT = Path(__file__).resolve().parent.parent
SYSLOG = ROOT / "fixtures" / "handwritten" / "k5.14-el9-memcg-v2.rsyslog.log"
ENV = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": "100", "TZ": "UTC"}
# what a syslog log of one report to JSON never needs: folders and history (sniffing, sa/atop
# and their commands), archives, a host's dated history, an output file, the other commands,
# month names of other languages, orjson's encoder (a document under 256 K characters), the
# status line (stderr is no terminal)
UNUSED = (
    "oomsleuth.load.sniff",
    "oomsleuth.load.atop_raw",
    "oomsleuth.load.sa_binary",
    "oomsleuth.load.commands",
    "oomsleuth.load.archive",
    "oomsleuth.load.host_history",
    "oomsleuth.output",
    "oomsleuth.cli.collect",
    "oomsleuth.cli.fleet",
    "oomsleuth.cli.progress",
    "oomsleuth.renderers.json_fast",
    "unicodedata",
)
RUN = """
import io, json, sys
sys.argv = ["oomsleuth", "analyze", sys.argv[1], "--format", "json"]
sys.stdout = io.StringIO()
from oomsleuth.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
document, sys.stdout = sys.stdout.getvalue(), sys.__stdout__
from oomsleuth import errors
from oomsleuth.load import literals, text
print(json.dumps({
    "code": code,
    "kills": len([e for e in json.loads(document)["events"] if e["kind"] == "oom_kill"]),
    "imported": [m for m in sys.argv[2].split(",") if m in sys.modules],
    "unsafe compiled": errors.unsafe.cache_info().currsize,
    "python finder made": literals._ESCAPED._real is not None,
    "NUL regex compiled": text._NUL_BLOCK._real is not None,
}))
"""


def test_a_syslog_report_to_json_imports_and_compiles_only_what_it_uses() -> None:
    assert SYSLOG.stat().st_size <= literals.WHOLE_BYTES
    env = dict(ENV, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", RUN, str(SYSLOG), ",".join(UNUSED)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    seen = json.loads(out.stdout)
    assert seen == {
        "code": 0,
        "kills": 1,
        "imported": [],
        "unsafe compiled": 0,
        "python finder made": False,
        "NUL regex compiled": False,
    }


def test_line_starts_names_every_line() -> None:
    assert literals.line_starts(b"") == []
    assert literals.line_starts(b"a\n") == [0]
    assert literals.line_starts(b"a\n\nbc\n") == [0, 2, 3]
    assert literals.line_starts(memoryview(b"\n\nx\ny")) == [0, 1, 2, 4]


@pytest.mark.parametrize("log", _all_logs(), ids=lambda p: p.name)
def test_every_line_a_candidate_finds_what_every_line_finds(log: Path) -> None:
    """The finder of a small input (every line, the framer's prefilter deciding) gives what the
    line reader gives: reports, warnings, line counts and boot anchoring."""
    source = Input(log.name, log)
    heard: list[object] = []
    whole = parse_sources(
        [(source.name, blocks.BlockLines(source, literals.line_starts, heard.append))]
    )
    slow, slow_heard = _lines(source)
    assert whole == slow
    assert heard == slow_heard


def test_the_adaptive_finder_frames_a_small_input_whole_then_searches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(literals.NO_HYPERSCAN, "1")
    literals.finder.cache_clear()
    patterns = candidate_patterns()
    block = b"ordinary line\nOut of memory: Killed process 1 (x)\nanother\n"
    find = literals.adaptive(patterns)
    assert find(block) == [0, 14, 50]  # every line, nothing compiled
    assert literals.patterns_of(find) == patterns
    big = block * (literals.WHOLE_BYTES // len(block) + 1)
    assert find(big) == literals.finder(patterns)[0](big)  # past WHOLE_BYTES: the search
    literals.finder.cache_clear()


_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffd]")
_NUL_RE = re.compile(rb"\x00{64,}")


def _looks_binary_by_regex(head: bytes) -> bool:
    """looks_binary as it was written with two regexes."""
    head = _NUL_RE.sub(b"", head)
    if head.count(0) > max(8, len(head) // 100):
        return True
    decoded = head.replace(b"\x00", b"").decode("utf-8", errors="replace")
    return len(_CONTROL_RE.findall(decoded)) > len(decoded) // 4


def test_control_characters_are_counted_as_the_regex_counted_them() -> None:
    every = map(chr, range(0x110000))
    assert set(text._CONTROL) == {c for c in every if _CONTROL_RE.match(c)}
    heads = [p.read_bytes()[: text.SNIFF_BYTES] for p in _all_logs()]
    heads += [bytes(range(256)) * 32, b"\x00" * 64 + b"log\n", b"\x00" * 63 + b"x" * 900]
    heads += [os.urandom(4096), b"\x01\x02" * 2000 + b"text " * 1000, b"\xff\xfe" * 3000]
    for head in heads:
        assert text.looks_binary(head) == _looks_binary_by_regex(head), head[:40]


def test_commands_built_when_asked_for_are_the_ones_typer_builds() -> None:
    """``--help`` (every command listed), each command's help and a mistyped name: the same
    text when collect and fleet are imported only then as when typer builds them all at once."""
    eager = (
        "import sys; from oomsleuth.cli import main, collect, fleet; "
        "sys.argv[0] = 'oomsleuth'; main()"
    )
    lazy = "import sys; from oomsleuth.cli import main; sys.argv[0] = 'oomsleuth'; main()"
    env = dict(ENV, PYTHONPATH=str(ROOT))
    for args in (["--help"], ["collect", "--help"], ["fleet", "--help"], ["colect"], []):
        said = [
            subprocess.run(
                [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env
            )
            for code in (eager, lazy)
        ]
        assert [(p.returncode, p.stdout, p.stderr) for p in said] == [
            (said[0].returncode, said[0].stdout, said[0].stderr)
        ] * 2
    assert "collect" in said[0].stdout or "collect" in said[0].stderr


GC_RUN = """
import gc, io, json, sys
import oomsleuth.api as api
from oomsleuth import _startup
seen = {}
analyze = api.analyze

def watched(*args, **kwargs):
    seen["collecting while it analyses"] = gc.isenabled()
    seen["frozen by then"] = gc.get_freeze_count() > 0
    return analyze(*args, **kwargs)

api.analyze = watched
sys.argv = ["oomsleuth", *sys.argv[1:]]
sys.stdout = io.StringIO()
if sys.argv[1:2] == ["in-process"]:  # a program calling the CLI: its collector is its own
    del sys.argv[1]
    gc.disable()
    from oomsleuth.cli import main
else:
    from oomsleuth.__main__ import main
try:
    main()
except SystemExit as exc:
    seen["code"] = exc.code
seen["collecting at the end"] = gc.isenabled()
seen["paused"] = _startup._paused
sys.stdout = sys.__stdout__
print(json.dumps(seen))
"""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["analyze", str(SYSLOG), "--format", "json"],
            {"collecting while it analyses": True, "frozen by then": True, "code": 0},
        ),
        (["analyze", str(SYSLOG), "--format", "nope"], {"code": 2}),  # no command ran
        (["--version"], {"code": 0}),
        ([], {"code": 0}),  # the help
        (
            ["in-process", "analyze", str(SYSLOG), "--format", "json"],
            {"collecting while it analyses": False, "frozen by then": False, "code": 0},
        ),
    ],
    ids=["analyze", "usage error", "version", "help", "caller's own collector"],
)
def test_the_collector_is_paused_for_the_imports_only(
    args: list[str], expected: dict[str, object]
) -> None:
    """The console script pauses garbage collection while it imports and resumes it (with
    everything imported frozen) before a command runs, or at the end when none ran; a program
    calling the CLI itself keeps its collector as it set it."""
    env = dict(ENV, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", GC_RUN, *args], capture_output=True, text=True, env=env, cwd=ROOT
    )
    seen = json.loads(out.stdout.splitlines()[-1])
    own = args[:1] == ["in-process"]
    assert seen == {**expected, "collecting at the end": not own, "paused": False}
