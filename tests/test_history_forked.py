"""Several big history files are read side by side, each in a forked process: the result is the
one-by-one reading's exactly (samples, sources, warnings in order, what the user is told)."""

from __future__ import annotations

import gzip
import multiprocessing
import threading
from pathlib import Path

import pytest

import oomsleuth
from oomsleuth.load import history_forked as forked
from oomsleuth.load import history_split as split
from oomsleuth.load.files import Input

ROOT = Path(__file__).resolve().parent.parent
INCIDENTS = sorted(p for p in (ROOT / "fixtures" / "incidents").iterdir() if p.is_dir())
TEXT = ("atop-P.txt", "pidstat-r.txt", "psi-cgroup.txt", "sar-A.txt", "sadf-d.csv", "sadf-j.json")


def _both(
    monkeypatch: pytest.MonkeyPatch, log: Path, history: list[Path]
) -> tuple[oomsleuth.Report, list[str], oomsleuth.Report, list[str], int]:
    forks: list[int] = []
    real = forked.read_forked

    def counted(jobs):  # type: ignore[no-untyped-def]
        forks.append(len(jobs))
        return real(jobs)

    monkeypatch.setattr(forked, "read_forked", counted)
    monkeypatch.setattr(forked, "FORK_BYTES", 0)
    monkeypatch.setattr(forked, "_cores", lambda: 2)
    monkeypatch.setattr(forked, "_safe_to_fork", lambda: True)  # other tests' idle threads
    runs = []
    for no_fork in ("1", "0"):
        monkeypatch.setenv(forked.NO_FORK, no_fork)
        said: list[str] = []
        report = oomsleuth.analyze([log], history=history, tz="UTC", on_warning=said.append)
        runs += [report, said]
    return runs[0], runs[1], runs[2], runs[3], sum(forks)


@pytest.mark.parametrize("folder", INCIDENTS, ids=lambda p: p.name)
def test_side_by_side_reads_give_the_one_by_one_result(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = [folder / name for name in TEXT if (folder / name).is_file()]
    alone, said_alone, side, said_side, forked_files = _both(
        monkeypatch, folder / "kern-dmesg-iso.txt", history
    )
    assert forked_files == len(history) >= 2
    assert side == alone and said_side == said_alone
    assert side.history is not None and side.history.samples


def test_warnings_and_skips_keep_their_files_order(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A file of no known format, a cut gzip and a file outside every window, among good ones."""
    folder = INCIDENTS[0]
    junk = tmp_path / "notes.txt"
    junk.write_text("not history\n" * 50)
    cut = tmp_path / "atop-P.txt.gz"
    packed = gzip.compress((folder / "atop-P.txt").read_bytes())
    cut.write_bytes(packed[: len(packed) // 2])
    late = tmp_path / "pidstat-late.txt"
    late.write_text((folder / "pidstat-r.txt").read_text().replace("2026", "2031"))
    history = [junk, folder / "sar-A.txt", cut, late, folder / "psi-cgroup.txt"]
    alone, said_alone, side, said_side, forked_files = _both(
        monkeypatch, folder / "kern-dmesg-iso.txt", history
    )
    assert forked_files == len(history)
    assert side == alone and said_side == said_alone and said_side
    assert side.history is not None
    codes = [(w.where.source, w.code) for w in side.history.warnings]
    assert (str(junk), "history-skipped") in codes and (str(cut), "input-damaged") in codes


def test_small_single_or_unsafe_inputs_are_read_here(monkeypatch: pytest.MonkeyPatch) -> None:
    folder = INCIDENTS[0]
    two = [Input(p.name, p) for p in (folder / "atop-P.txt",) * 2]
    assert not forked.worth_forking(two)  # far below FORK_BYTES
    monkeypatch.setattr(forked, "FORK_BYTES", 0)
    monkeypatch.setattr(forked, "_cores", lambda: 2)
    monkeypatch.delenv(forked.NO_FORK, raising=False)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert forked.worth_forking(two) and forked.worth_forking(two[:1])  # one may be cut
    assert split.plan(two[0], 1 << 28, 4) is None  # but not this one: far below SPLIT_BYTES
    monkeypatch.setenv(forked.NO_FORK, "1")
    assert not forked.worth_forking(two)
    monkeypatch.delenv(forked.NO_FORK)
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # another thread runs
    assert not forked.worth_forking(two)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True)  # a Dask worker
    assert not forked.worth_forking(two)
