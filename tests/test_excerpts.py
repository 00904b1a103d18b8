"""``analyze(..., excerpts=False)``: no report keeps its own log lines (``OomReport.lines``, which
only the HTML report shows), and nothing else changes: on every fixture and corpus log, and on
each of the parsing paths (one process, two halves side by side, several sources side by side).
The command line keeps them exactly when it writes HTML."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from test_scan import _all_logs
from test_scan_halves import _big_log, forced  # noqa: F401 (a fixture)

import oomsleuth
from oomsleuth.load import forking
from oomsleuth.load import sources_forked as forked
from oomsleuth.load.files import Input
from oomsleuth.model import Report
from oomsleuth.model.record import replace

ROOT = Path(__file__).resolve().parent.parent
ADJ = ROOT / "fixtures" / "real" / "memcg-adj.dmesg.txt"
ENV = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": "100", "TZ": "UTC"}


def _both(paths: list[Path]) -> tuple[Report, Report]:
    def run(excerpts: bool) -> Report:
        return oomsleuth.analyze(paths, tz="UTC", year=2026, excerpts=excerpts)

    return run(True), run(False)


def _without_lines(report: Report) -> Report:
    return replace(report, reports=tuple(replace(r, lines=()) for r in report.reports))


def _same_but_lines(kept: Report, bare: Report) -> None:
    assert all(r.lines == () for r in bare.reports)
    assert bare.to_dict() == kept.to_dict()
    assert _without_lines(kept) == bare


@pytest.mark.parametrize("log", _all_logs(), ids=lambda p: p.name)
def test_without_excerpts_only_the_lines_go(log: Path) -> None:
    kept, bare = _both([log])
    _same_but_lines(kept, bare)
    if kept.reports:  # (each report read from its lines holds some)
        assert any(r.lines for r in kept.reports)


def test_without_excerpts_in_two_halves(
    tmp_path: Path,
    forced: list[bool],  # noqa: F811
) -> None:
    log = _big_log(tmp_path)
    kept, bare = _both([log])
    assert forced == [True, True]  # both runs were parsed in halves, and joined
    _same_but_lines(kept, bare)
    assert len(kept.reports) == 80 and all(r.lines for r in kept.reports)


def test_without_excerpts_several_sources_side_by_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for host in ("a", "b"):
        (tmp_path / host).mkdir()
    logs = [_big_log(tmp_path / "a"), _big_log(tmp_path / "b")]
    monkeypatch.setattr(forked, "FORK_BYTES", 0)
    monkeypatch.setattr(forked, "cores", lambda: 2)
    monkeypatch.setattr(forked, "safe_to_fork", lambda: True)  # other tests' idle threads
    monkeypatch.setenv(forking.NO_FORK, "0")
    assert forked.worth_forking([Input(str(p), p) for p in logs])
    runs: list[int] = []
    real = forked.read_forked

    def counted(jobs, *rest):  # type: ignore[no-untyped-def]
        runs.append(len(jobs))
        return real(jobs, *rest)

    monkeypatch.setattr(forked, "read_forked", counted)
    kept, bare = _both(logs)
    assert runs == [2, 2]  # each file in a process of its own, both times
    _same_but_lines(kept, bare)
    # (the two files are copies of one log: each report is one, with its copy)
    assert len(kept.reports) == 80 and all(r.lines for r in kept.reports)


def test_the_command_line_keeps_them_for_html_only(tmp_path: Path) -> None:
    """The HTML shows the report's lines as read; JSON, which never holds them, is the same."""
    page = tmp_path / "report.html"
    subprocess.run([sys.executable, "-m", "oomsleuth", "analyze", str(ADJ), "-o", str(page)],
                   env=ENV, check=True, timeout=120)  # fmt: skip
    text = page.read_text()
    assert "as read (the log's own prefix removed)" in text
    assert "Memory cgroup stats for /process_api/" in text
    json_out = subprocess.run(
        [sys.executable, "-m", "oomsleuth", "analyze", str(ADJ), "--format", "json"],
        env=ENV, capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    expected = io.StringIO()
    oomsleuth.render(oomsleuth.analyze([ADJ], tz="UTC"), "json", expected)
    assert json_out == expected.getvalue()
