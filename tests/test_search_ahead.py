"""A big plain file's blocks searched and indexed ahead in a forked process (load.search_ahead):
the block reader's lines, numbers and result are the line reader's, whether the process makes
every block, dies part way, or the file grows under it; the process is gone when reading
ends."""

from __future__ import annotations

import functools
import gc
import gzip
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from test_fastpath import REAL, _lines, _noisy, engine
from test_scan import _all_logs

import oomsleuth
from oomsleuth.load import blocks, parse_halves, search_ahead, search_worker
from oomsleuth.load.files import Input
from oomsleuth.load.literals import finder
from oomsleuth.model import Report, Warning_
from oomsleuth.scanner import candidate_patterns, parse_sources

__all__ = ["engine"]  # the fixture, from test_fastpath: hyperscan and the Python finder


@pytest.fixture(autouse=True)
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 4 KB (a report across many), a search process for any size, forking allowed."""
    monkeypatch.setattr(blocks, "BLOCK", 4096)
    monkeypatch.setattr(blocks, "CHUNK_BITS", 9)
    monkeypatch.setattr(blocks, "AHEAD_BYTES", 0)
    monkeypatch.delenv("OOMSLEUTH_NO_FORK", raising=False)


def _log(tmp_path: Path, copies: int = 6) -> Path:
    path = tmp_path / "kern.log"
    text = "\n".join(_noisy(REAL / "memcg-bystander.dmesg.txt", copies, 300)) + "\n"
    path.write_text(text.replace("eth0: up 7\n", "eth0: up 7\r\n").replace("up 9", "up\x00 9"))
    return path


def _read(source: blocks.BlockLines) -> Report:
    return parse_sources([(source.input.name, source)])


def _reader(path: Path) -> tuple[blocks.BlockLines, list[Warning_]]:
    heard: list[Warning_] = []
    find, _ = finder(candidate_patterns())
    return blocks.BlockLines(Input(path.name, path, max_line=2048), find, heard.append), heard


def _alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == 0


@pytest.mark.parametrize("packed", ["plain", "gzip"])
def test_every_block_made_ahead_gives_the_line_readers_result(packed: str, tmp_path: Path) -> None:
    path = _log(tmp_path)
    data = path.read_bytes()
    if packed == "gzip":
        path = tmp_path / "kern.log.gz"
        path.write_bytes(gzip.compress(data))
    source, heard = _reader(path)
    fast = _read(source)
    assert source.ahead is not None and source.ahead.used >= len(data) // 4096
    assert (fast, heard) == _lines(Input(path.name, path, max_line=2048))
    assert fast.reports and fast.lines_read == data.count(b"\n")
    assert not _alive(source.ahead.pid)  # reaped at the end


def test_a_gzip_that_breaks_part_way_ends_where_the_line_reader_ends(tmp_path: Path) -> None:
    """The process's stream breaks where the reader's does: the same lines, the same warning."""
    packed = gzip.compress(_log(tmp_path).read_bytes())
    path = tmp_path / "cut.log.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    source, heard = _reader(path)
    fast = _read(source)
    assert source.ahead is not None and source.ahead.used
    assert (fast, heard) == _lines(Input(path.name, path, max_line=2048))
    assert [w.code for w in heard] == ["input-damaged"]


@pytest.mark.parametrize("log", _all_logs(), ids=lambda p: p.name)
def test_every_fixture_and_corpus_log_made_ahead(log: Path, engine: str) -> None:
    source, heard = _reader(log)
    assert (_read(source), heard) == _lines(Input(log.name, log, max_line=2048))
    assert source.ahead is not None and source.ahead.used
    assert finder(candidate_patterns())[1] == engine


def test_a_process_that_dies_part_way_is_replaced_by_searching_here(tmp_path: Path) -> None:
    path = _log(tmp_path)
    source, heard = _reader(path)
    first = source.next(True)
    assert first is not None and source.ahead is not None
    os.kill(source.ahead.pid, signal.SIGKILL)  # as the OOM killer would
    rest = []
    while (line := source.next(True)) is not None:
        rest.append(line)
    assert source.ahead.pipe is None  # the reader stopped asking it
    again, _ = _reader(path)
    assert [first, *rest] == list(iter(lambda: again.next(True), None))
    assert not heard


def test_a_file_that_grows_under_the_process_is_searched_here_from_there(
    tmp_path: Path,
) -> None:
    """The process read the file before it grew (its last block is short); the reader reads
    the grown file, sees its block differ there, and makes its blocks from then on itself."""
    path = _log(tmp_path, copies=2)
    source, heard = _reader(path)
    first = source.next(True)  # the process is running; let it reach the end
    assert first is not None and source.ahead is not None
    while _alive(source.ahead.pid):
        os.sched_yield()
    with path.open("a") as log:
        log.write("\n".join(_noisy(REAL / "memcg-single.dmesg.txt", 1, 5000)) + "\n")
    lines = [first, *iter(lambda: source.next(True), None)]
    assert source.ahead.pipe is None and source.ahead.used >= 1
    again, _ = _reader(path)
    assert lines == list(iter(lambda: again.next(True), None))
    assert lines[-1][0] == path.read_bytes().count(b"\n") and not heard


def test_a_reader_dropped_part_way_stops_and_reaps_its_process(tmp_path: Path) -> None:
    source, _ = _reader(_log(tmp_path))
    assert source.next(True) is not None and source.ahead is not None
    pid = source.ahead.pid
    assert _alive(pid)
    del source
    gc.collect()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped already


def test_small_files_no_fork_no_memory_and_workers_have_no_search_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _log(tmp_path, copies=1)
    monkeypatch.setattr(blocks, "AHEAD_BYTES", path.stat().st_size + 1)
    source, _ = _reader(path)
    source.next(True)
    assert source.ahead is None
    monkeypatch.setattr(blocks, "AHEAD_BYTES", 0)
    monkeypatch.setenv("OOMSLEUTH_NO_FORK", "1")
    source, _ = _reader(path)
    source.next(True)
    assert source.ahead is None
    monkeypatch.delenv("OOMSLEUTH_NO_FORK")
    for unwise, says in (("roomy", False), ("daemonic", True)):  # no memory; a worker
        with monkeypatch.context() as patch:
            patch.setattr(search_ahead, unwise, functools.partial(bool, says))
            source, _ = _reader(path)
            source.next(True)
            assert source.ahead is None
    source, _ = _reader(path)
    source.next(True)
    assert source.ahead is not None


@pytest.mark.parametrize("packed", ["plain", "gzip"])
def test_analyze_with_the_search_process_is_analyze_in_one_process(
    packed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the public API: ``oomsleuth.analyze`` of a log whose blocks a search process
    made gives the report of the same log read in one process (``OOMSLEUTH_NO_FORK=1``);
    blocks of the real size, two of them (the API reads lines of up to 1 MB)."""
    monkeypatch.setattr(blocks, "BLOCK", 4 << 20)
    monkeypatch.setattr(parse_halves, "MIN_REPORTS", 1 << 40)  # not in halves: the search process
    path = _log(tmp_path, copies=250)
    if packed == "gzip":
        path = tmp_path / "kern.log.gz"
        path.write_bytes(gzip.compress((tmp_path / "kern.log").read_bytes()))
    started: list[search_ahead.SearchAhead | None] = []
    start = search_ahead.SearchAhead.start

    def counted(*args: Any) -> search_ahead.SearchAhead | None:
        started.append(ahead := start(*args))
        return ahead

    monkeypatch.setattr(search_ahead.SearchAhead, "start", counted)
    ahead = oomsleuth.analyze([path], tz="UTC")
    assert started and all(a is not None and a.used >= 2 for a in started)
    monkeypatch.setenv("OOMSLEUTH_NO_FORK", "1")
    alone = oomsleuth.analyze([path], tz="UTC")
    assert ahead.reports and ahead == alone


def test_queued_counts_what_the_reader_has_not_read() -> None:
    """How the process knows it is a block ahead (it then makes the next on one thread)."""
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb", buffering=0) as r, os.fdopen(write_end, "wb") as w:
        assert search_worker.queued(w) == 0
        w.write(b"x" * 1000)
        w.flush()
        assert search_worker.queued(w) == 1000
        r.read(600)
        assert search_worker.queued(w) == 400
    assert search_worker.queued(w) == 0  # closed: unknown
