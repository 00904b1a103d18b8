"""The terminal's panels rendered in forked processes (``load.forking.side_by_side``): the same
text as one process renders, byte for byte, whatever the width, colours and encoding; a process
lost or none to fork costs nothing but time; a closed pipe still stops the run."""

from __future__ import annotations

import io
import multiprocessing
import os
import re
from pathlib import Path

import pytest

import oomsleuth
from oomsleuth.load import forking
from oomsleuth.model import Report
from oomsleuth.renderers import terminal
from oomsleuth.renderers.terminal import TerminalRenderer

STAMP = re.compile(r"^\[\s*(\d+\.\d+)\]", re.M)
REAL = Path(__file__).resolve().parent.parent / "fixtures" / "real"


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """Every real dmesg capture, 17 times over, each time a day of uptime later (copies of
    one kill would be merged): more reports than one process renders."""
    text = "".join(p.read_text() for p in sorted(REAL.glob("*.dmesg.txt")))
    path = tmp_path_factory.mktemp("many") / "many.dmesg.txt"
    path.write_text("".join(_later(text, day * 86400.0) for day in range(17)))
    report = oomsleuth.analyze(path)
    assert len(report.reports) >= terminal.SIDE_BY_SIDE + terminal.CHUNK[0]  # several jobs
    return report


def _later(text: str, seconds: float) -> str:
    return STAMP.sub(lambda m: f"[{float(m[1]) + seconds:12.6f}]", text)


@pytest.fixture(autouse=True)
def _plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv(forking.NO_FORK, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr(forking, "safe_to_fork", lambda: True)  # other tests' idle threads


def _forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of jobs each call of read_forked was given (a spy: it still runs them)."""
    calls: list[int] = []
    real = forking.read_forked

    def spy(jobs, done=None):  # type: ignore[no-untyped-def]
        calls.append(len(jobs))
        return real(jobs, done)

    monkeypatch.setattr(forking, "read_forked", spy)
    return calls


def _one_process(
    report: Report, width: int, color: bool, out: io.TextIOBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as alone:
        alone.setenv(forking.NO_FORK, "1")
        oomsleuth.render(report, "terminal", out, width=width, color=color)  # type: ignore[arg-type]


@pytest.mark.parametrize(("width", "color"), [(72, True), (120, False), (200, True)])
def test_side_by_side_is_the_text_of_one_process(
    many: Report, width: int, color: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    forked = _forks(monkeypatch)
    out, alone = io.StringIO(), io.StringIO()
    oomsleuth.render(many, "terminal", out, width=width, color=color)
    assert forked and forked[0] >= 3, "the panels were not rendered side by side"
    _one_process(many, width, color, alone, monkeypatch)
    assert len(forked) == 1  # (the one-process run forked nothing)
    assert out.getvalue() == alone.getvalue()
    assert ("\x1b[" in out.getvalue()) is color
    assert out.getvalue().count("╭─") == len(many.reports)


def test_an_ascii_stream_gets_the_same_ascii_boxes(
    many: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    forked = _forks(monkeypatch)
    texts = []
    for render in (oomsleuth.render, None):
        raw = io.BytesIO()
        out = io.TextIOWrapper(raw, encoding="ascii", errors="backslashreplace")
        if render is None:
            _one_process(many, 90, False, out, monkeypatch)
        else:
            render(many, "terminal", out, width=90, color=False)
        out.flush()
        texts.append(raw.getvalue())
    assert forked
    assert texts[0] == texts[1]
    assert b"+--" in texts[0] and "╭".encode() not in texts[0]


def test_what_no_process_rendered_is_rendered_here(many: Report) -> None:
    """A runner that stops after the first chunk (a process lost, none forked after it): the
    renderer renders the rest itself, and the text is the same."""
    stopped: list[int] = []

    def first_only(jobs, done):  # type: ignore[no-untyped-def]
        stopped.append(len(jobs))
        done(0, jobs[0]())

    text = io.StringIO()
    TerminalRenderer(width=100, color=False, side_by_side=first_only).render(many, text)
    alone = io.StringIO()
    TerminalRenderer(width=100, color=False).render(many, alone)
    assert stopped and text.getvalue() == alone.getvalue()


def test_a_lost_process_ends_the_side_by_side_run_quietly() -> None:
    told: list[tuple[int, object]] = []
    jobs = [lambda: "first", lambda: os._exit(3), lambda: "third"]
    forking.side_by_side(jobs, lambda i, r: told.append((i, r)))
    assert told in ([], [(0, "first")])  # then nothing: the caller renders the rest
    assert multiprocessing.active_children() == []


class _Closing(io.StringIO):
    """A pipe whose reader goes away after some text (``| head``)."""

    def write(self, text: str) -> int:
        if self.tell() > 20_000:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_a_closed_pipe_still_stops_the_run(many: Report, monkeypatch: pytest.MonkeyPatch) -> None:
    forked = _forks(monkeypatch)
    with pytest.raises(BrokenPipeError):
        oomsleuth.render(many, "terminal", _Closing(), width=100, color=False)
    assert forked
    assert multiprocessing.active_children() == []


def test_the_cli_writes_each_line_once(tmp_path: Path, many: Report) -> None:
    """Through the CLI, stdout a file (block-buffered): what was printed before the forks (the
    summary, the overview table) is not written again by each process as it ends."""
    import subprocess
    import sys

    log = Path(many.sources[0])
    outs = []
    for no_fork in ("0", "1"):
        done = subprocess.run(
            [sys.executable, "-m", "oomsleuth", "analyze", str(log)],
            capture_output=True,
            env={**os.environ, forking.NO_FORK: no_fork, "COLUMNS": "100"},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outs.append(done.stdout)
    assert outs[0] == outs[1]
    assert outs[0].count(b"oomsleuth: ") == 1
