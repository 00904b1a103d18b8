"""A block made ahead is read from the file only where the reader looks (load.block_lazy): the
reader's lines and result are the line reader's even when every byte it did not read is
poison (hit words, newlines: any look past what was read would show), it reads less than the
file on a log with reports far apart, and a file cut or grown under it ends or goes on as the
line reader's reading would say, with a warning, never an error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_fastpath import REAL, _lines, _noisy
from test_scan import _all_logs

from oomsleuth.load import block_lazy, blocks
from oomsleuth.load.files import Input
from oomsleuth.load.literals import finder
from oomsleuth.model import Report, Warning_
from oomsleuth.scanner import candidate_patterns, parse_sources

# what a block holds where it was not read yet: hit words, newlines, CR and NUL (which end a
# run), or whole lines with the prefix of the fixtures' reports (which a run would take)
POISONS = [
    b"Killed process 1 (x) oom-kill: Linux version 9 \x00\r\n",
    b"\nNov 25 10:01:00 web-1 kernel: [ 1.0] Killed process 1 (x) oom-kill: anon 5\n",
]


@pytest.fixture(autouse=True, params=[0, 1], ids=["CR-NUL", "lines"])
def small(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> list[int]:
    """Blocks of 4 KB read in chunks of 512 bytes, a search process for any size; the bytes of
    a block not read yet are poison; returns the bytes read from the file, per read."""
    monkeypatch.setattr(blocks, "BLOCK", 4096)
    monkeypatch.setattr(blocks, "CHUNK_BITS", 9)
    monkeypatch.setattr(blocks, "AHEAD_BYTES", 0)
    monkeypatch.delenv("OOMSLEUTH_NO_FORK", raising=False)
    start, load, sizes = block_lazy.Lazy.start, block_lazy.Lazy._load, []

    def poisoned(self: block_lazy.Lazy, offset: int, carried: int, n: int) -> None:
        start(self, offset, carried, n)
        room = len(self.buf) - carried
        poison = POISONS[request.param]
        self.buf[carried:] = (poison * (room // len(poison) + 1))[:room]

    def counted(self: block_lazy.Lazy, c: int, d: int) -> None:
        bits = self.bits
        sizes.append(max(0, min(d << bits, self.n) - max(c << bits, self.carried)))
        load(self, c, d)

    monkeypatch.setattr(block_lazy.Lazy, "start", poisoned)
    monkeypatch.setattr(block_lazy.Lazy, "_load", counted)
    return sizes


def _read(path: Path) -> tuple[Report, list[Warning_], blocks.BlockLines]:
    heard: list[Warning_] = []
    find, _ = finder(candidate_patterns())
    source = blocks.BlockLines(Input(path.name, path, max_line=2048), find, heard.append)
    return parse_sources([(path.name, source)]), heard, source


@pytest.mark.parametrize("log", _all_logs(), ids=lambda p: p.name)
def test_every_fixture_and_corpus_log_read_where_looked_at(log: Path) -> None:
    got, heard, source = _read(log)
    assert (got, heard) == _lines(Input(log.name, log, max_line=2048))
    assert source.ahead is not None and source.ahead.used
    assert source._lazy is not None  # every block read lazily: the process's records all fit


@pytest.mark.parametrize("wide", [0, 1500], ids=["plain", "a wide body line"])
def test_reports_far_apart_are_read_and_little_else(
    wide: int, small: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reports far apart are read, and little else; a body line wider than the two chunks a
    run reads at once ends the run before it (the line is read the general way)."""
    monkeypatch.setattr(blocks, "BLOCK", 65536)  # (each block's first and last bytes are read)
    path = tmp_path / "kern.log"
    lines = list(_noisy(REAL / "memcg-bystander.dmesg.txt", 6, 3000))
    if wide:
        for i in [i for i, line in enumerate(lines) if "] RSP: " in line]:
            lines[i] += " " + "w" * wide
    path.write_text("\n".join(lines) + "\n")
    got, heard, source = _read(path)
    assert (got, heard) == _lines(Input(path.name, path, max_line=2048))
    assert source._lazy is not None
    assert len(got.reports) == 6 and got.lines_read == path.read_bytes().count(b"\n")
    assert sum(small) < path.stat().st_size / 8  # an eighth of it at most was read back


@pytest.mark.parametrize("length", [2100, 2600, 3100, 5000])
@pytest.mark.parametrize("at", [0.3, 0.5, 0.7])
def test_a_long_line_in_a_block_read_lazily_goes_to_the_line_reader(
    length: int, at: float, tmp_path: Path
) -> None:
    """Within a block or across its end: the block goes whole to the line reader."""
    path = tmp_path / "kern.log"
    lines = list(_noisy(REAL / "memcg-bystander.dmesg.txt", 3, 400))
    lines.insert(int(len(lines) * at), "Nov 25 10:00:01 web-1 kernel: " + "x" * length)
    path.write_text("\n".join(lines) + "\n")
    got, heard, _ = _read(path)
    assert (got, heard) == _lines(Input(path.name, path, max_line=2048))
    assert [w.code for w in heard] == ["line-too-long"]


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.8])
def test_a_file_cut_under_the_reader_ends_there_with_a_warning(
    keep: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log rotation that truncates the file (copytruncate) while the reader is part way: the
    lines before the cut as they are, then an ``input-damaged`` warning; no error."""
    path = tmp_path / "kern.log"
    path.write_text("\n".join(_noisy(REAL / "memcg-bystander.dmesg.txt", 6, 3000)) + "\n")
    whole = path.read_bytes()
    made = block_lazy.lazy_block
    blocks_made: list[int] = []

    def cutting(*args: object) -> object:
        block = made(*args)  # type: ignore[arg-type]
        blocks_made.append(1)
        if len(blocks_made) == int(len(whole) / 4096 * keep):
            os.truncate(path, len(whole) // 10)
        return block

    monkeypatch.setattr(blocks, "lazy_block", cutting)
    heard: list[Warning_] = []
    find, _ = finder(candidate_patterns())
    source = blocks.BlockLines(Input(path.name, path, max_line=2048), find, heard.append)
    lines = list(iter(lambda: source.next(False), None))
    assert [w.code for w in heard] == ["input-damaged"]
    assert "breaks after line" in heard[0].message
    text = whole.decode().split("\n")
    assert [t for _, t in lines] == text[: len(lines)]
    assert [n for n, _ in lines] == list(range(1, len(lines) + 1))
