"""The console script leaves without the interpreter's teardown (``oomsleuth/__main__.py``), and
loses nothing by it: every byte of the document reaches a pipe, the exit code is the command's,
the ``atexit`` handlers run, and with another thread alive the usual exit is taken."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from test_robustness_output import many_reports

import oomsleuth

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "oomsleuth", "analyze"]
ENV = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": "100", "TZ": "UTC"}
# the console script run in a program whose atexit handler leaves a marker file, as does its exit
# without the interpreter's teardown (os._exit); THREAD: a thread still running as the command
# ends (the interpreter would join it)
PROGRAM = """
import atexit, os, sys, threading, time
marker, thread = sys.argv.pop(1), sys.argv.pop(1)

leave = os._exit

def quick(code):  # the exit without the teardown, noted
    open(marker + ".quick", "w").close()
    leave(code)

os._exit = quick
atexit.register(lambda: open(marker + ".atexit", "w").close())
if thread == "THREAD":
    threading.Thread(target=time.sleep, args=(0.5,)).start()
sys.argv[0] = "oomsleuth"
from oomsleuth.__main__ import script
script()
"""


def _run(
    tmp_path: Path, thread: str, *args: str
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    marker = tmp_path / "marker"
    proc = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(marker), thread, "analyze", *args],
        capture_output=True,
        text=True,
        env=ENV | {"PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    left = {p.suffix for p in tmp_path.glob("marker.*")}
    for p in tmp_path.glob("marker.*"):
        p.unlink()
    return proc, left


def test_a_big_document_reaches_the_pipe_whole(tmp_path: Path) -> None:
    """Far more than a pipe holds, written as the process leaves: the same text as render()."""
    log = many_reports(tmp_path / "kern.log", copies=40)
    proc = subprocess.run(
        [*CLI, str(log), "--format", "json"], capture_output=True, text=True, env=ENV, timeout=120
    )
    expected = io.StringIO()
    oomsleuth.render(oomsleuth.analyze([log], tz="UTC"), "json", expected)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout) > 1 << 18  # a pipe holds 64 KB
    assert proc.stdout == expected.getvalue()


@pytest.mark.parametrize(
    ("kind", "args", "code"),
    [
        ("report", (), 0),  # OOM events found
        ("quiet", (), 1),  # none: EXIT_NONE
        ("report", ("--window", "nonsense"), 2),  # bad usage
    ],
)
def test_the_teardown_is_skipped_and_the_atexit_handlers_run(
    tmp_path: Path, kind: str, args: tuple[str, ...], code: int
) -> None:
    log = ROOT / "fixtures" / "real" / "memcg-adj.dmesg.txt"
    if kind == "quiet":
        log = tmp_path / "quiet.log"
        log.write_text("[    1.000000] eth0: Link is Up - 1Gbps/Full\n")
    proc, left = _run(tmp_path, "-", str(log), "--format", "json", *args)
    assert proc.returncode == code, proc.stderr
    assert left == {".atexit", ".quick"}
    if code == 0:
        assert '"oom_kill"' in proc.stdout


def test_a_thread_still_running_gets_the_usual_exit(tmp_path: Path) -> None:
    log = ROOT / "fixtures" / "real" / "memcg-adj.dmesg.txt"
    proc, left = _run(tmp_path, "THREAD", str(log), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert left == {".atexit"}
