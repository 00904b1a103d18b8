"""The fast path (an input read in blocks, only candidate lines framed: load.blocks, load.literals,
frame.sparse) finds exactly what reading every line finds, on every fixture and corpus log and on
the inputs that make the block reader hand over or break: same reports, kills, failures, boots,
warnings, line counts and boot anchoring, with hyperscan and with the pure-Python finder."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_scan import _all_logs

import oomsleuth
from oomsleuth.load import block_fill, blocks, literals
from oomsleuth.load.files import Input
from oomsleuth.model import Report, Warning_
from oomsleuth.scanner import candidate_patterns, parse_sources

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real"
ENGINES = ["hyperscan", "python"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    name: str = request.param
    literals.finder.cache_clear()
    if name == "hyperscan":
        pytest.importorskip("hyperscan")
        monkeypatch.delenv(literals.NO_HYPERSCAN, raising=False)
    else:
        monkeypatch.setenv(literals.NO_HYPERSCAN, "1")
    yield name
    literals.finder.cache_clear()


def _fast(source: Input, engine: str) -> tuple[Report, list[Warning_]]:
    find, used = literals.finder(candidate_patterns())
    assert used == engine
    heard: list[Warning_] = []
    return parse_sources([(source.name, blocks.BlockLines(source, find, heard.append))]), heard


def _lines(source: Input, *, prefilter: bool = True) -> tuple[Report, list[Warning_]]:
    heard: list[Warning_] = []
    return parse_sources([(source.name, source.lines(heard.append))], prefilter=prefilter), heard


def _same(source: Input, engine: str) -> Report:
    fast, fast_heard = _fast(source, engine)
    slow, slow_heard = _lines(source)
    assert fast == slow  # everything: events, warnings, lines read, framings, boot anchoring
    assert fast_heard == slow_heard
    return fast


@pytest.mark.parametrize("log", _all_logs(), ids=lambda p: p.name)
def test_fast_path_finds_what_every_line_finds(log: Path, engine: str) -> None:
    fast = _same(Input(log.name, log), engine)
    full, _ = _lines(Input(log.name, log), prefilter=False)
    assert fast.reports == full.reports
    assert fast.userspace == full.userspace
    assert fast.alloc_failures == full.alloc_failures
    assert fast.boots == full.boots
    assert fast.lines_read == full.lines_read


def test_ordinary_lines_after_a_kill_are_not_framed(tmp_path: Path) -> None:
    """A report's body is framed line by line; after its kill only keyword lines can add to it,
    so the ordinary lines that follow (here 5,000 in the same seconds) are skipped like any
    others, and a late ``oom_reaper`` line still finds its kill."""
    lines = (REAL / "memcg-single.dmesg.txt").read_text().splitlines()
    up = 1501.669170
    noise = [f"[{up + n / 1000:12.6f}] eth0: link up {n}" for n in range(5000)]
    reaper = (
        f"[{up + 5.5:12.6f}] oom_reaper: reaped process 20922 (python3),"
        " now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"
    )
    (tmp_path / "alone.log").write_text("\n".join(lines) + "\n")
    (tmp_path / "tail.log").write_text("\n".join([*lines, *noise, reaper]) + "\n")
    alone = oomsleuth.analyze([tmp_path / "alone.log"], tz="UTC")
    tail = oomsleuth.analyze([tmp_path / "tail.log"], tz="UTC")
    framed = sum(n for _, n in tail.framings)
    assert framed <= sum(n for _, n in alone.framings) + 1  # the reaper line, not the noise
    assert tail.lines_read == len(lines) + len(noise) + 1
    (kill,) = tail.reports[0].kills
    assert kill.victim.pid == 20922 and kill.reap is not None
    assert tail.reports[0].tasks == alone.reports[0].tasks


def _noisy(report: Path, copies: int, noise: int) -> Iterator[str]:
    """A kern.log: ``noise`` ordinary lines between ``copies`` copies of a real report."""
    lines = report.read_text().splitlines()
    for c in range(copies):
        for n in range(noise):
            yield f"Nov 25 10:00:{n % 60:02d} web-1 kernel: [{c * 1000 + n:12.6f}] eth0: up {n}"
        for line in lines:
            yield f"Nov 25 10:01:00 web-1 kernel: {line}"


@pytest.mark.parametrize("split", [False, True], ids=["whole", "halves"])
@pytest.mark.parametrize("block", [4096, 5000, 65536])
def test_block_boundaries_anywhere(
    block: int, split: bool, engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small blocks put report lines, CRLF endings and NULs across every boundary (and, each
    searched in two halves, across every cut)."""
    monkeypatch.setattr(blocks, "BLOCK", block)
    monkeypatch.setattr(block_fill, "SPLIT_BYTES", 0 if split else 1 << 40)
    log = tmp_path / "kern.log"
    text = "\n".join(_noisy(REAL / "memcg-bystander.dmesg.txt", 3, 40)) + "\n"
    text = text.replace("eth0: up 7\n", "eth0: up 7\r\n").replace("up 9", "up\x00 9")
    text = text.replace("Killed process", "Killed pro\x00cess", 1)
    data = text.encode() + b"last line, no newline: Out of memory"
    log.write_bytes(data)
    gz = tmp_path / "kern.log.gz"
    gz.write_bytes(gzip.compress(data))
    for path in (log, gz):
        report = _same(Input(path.name, path, max_line=block // 2), engine)
        assert len(report.reports) == 3 and report.lines_read == text.count("\n") + 1


@pytest.mark.parametrize("small", [1, 64, 700])
def test_a_small_files_block_then_whole_ones_when_it_grew(
    small: int, engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain file smaller than a block is read into a block of its own size and one more;
    when that fills (the file grew since its size was taken: here the size is made small),
    the next blocks are whole ones: the line reader's result, long lines included."""
    monkeypatch.setattr(blocks, "BLOCK", 4096)
    monkeypatch.setattr(blocks.BlockLines, "_sized", lambda self: small)
    log = tmp_path / "kern.log"
    lines = list(_noisy(REAL / "memcg-single.dmesg.txt", 2, 30))
    log.write_text("\n".join([*lines[:5], "x" * 900, *lines[5:]]) + "\n")
    report = _same(Input(log.name, log, max_line=2048), engine)
    assert len(report.reports) == 2 and report.lines_read == len(lines) + 1


def test_a_small_files_block_is_its_size_and_one_more(tmp_path: Path) -> None:
    log = tmp_path / "kern.log"
    log.write_text("\n".join(_noisy(REAL / "memcg-single.dmesg.txt", 1, 5)) + "\n")
    find, _ = literals.finder(candidate_patterns())
    source = blocks.BlockLines(Input(log.name, log), find, None)
    assert source.next(False) is not None
    assert len(source._buf) == log.stat().st_size + 1


@pytest.mark.parametrize("chunk_bits", [4, 6, 13])
def test_newlines_of_big_blocks_are_counted_on_a_second_thread(
    chunk_bits: int, engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full block's newlines are indexed on a counting thread (gone at the end) while the
    block is searched; jumps count from that index: the same lines, numbers and result."""
    monkeypatch.setattr(blocks, "BLOCK", 4096)
    monkeypatch.setattr(blocks, "CHUNK_BITS", chunk_bits)
    lines = list(_noisy(REAL / "memcg-single.dmesg.txt", 4, 60))
    plain = tmp_path / "kern.log"
    plain.write_text("\n".join(lines).replace("up 3\n", "up 3\r\n") + "\n")
    find, _ = literals.finder(candidate_patterns())
    source = blocks.BlockLines(Input(plain.name, plain, max_line=2048), find, None)
    counters = set()
    while source.next(True) is not None:
        counters |= {t.name for t in threading.enumerate() if "oomsleuth-count" in t.name}
    assert counters and not any(t.name in counters for t in threading.enumerate())
    assert source.lines == len(lines)
    report = _same(Input(plain.name, plain, max_line=2048), engine)
    assert len(report.reports) == 4


@pytest.mark.parametrize("log", _all_logs(), ids=lambda p: p.name)
def test_a_block_searched_in_halves_gives_the_whole_blocks_hits(
    log: Path, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cut at the newline nearest its middle, each half searched on its own thread: the same
    candidate offsets as the whole block's search (line starts matched with their newline)."""
    find, _ = literals.finder(candidate_patterns())
    monkeypatch.setattr(block_fill, "SPLIT_BYTES", 0)
    # and lines the search finds only by their first character (journal JSON, export data)
    starts = [b'{"MESSAGE":"eth0 up"}\n' * 99, b"-- Boot 2a --\n" * 99, b"_BOOT_ID=2a\n" * 99]
    for data in (log.read_bytes(), *starts):
        buf = bytearray(data)
        end = buf.rfind(b"\n") + 1
        whole = block_fill.candidates(find, buf, end)
        with ThreadPoolExecutor(2) as pool:
            assert block_fill.candidates(find, buf, end, pool) == whole


def _blocks_of_every_density() -> Iterator[bytes]:
    """Blocks whose lines are long, short, blank, mixed chunk by chunk, or have no newline."""
    real = (REAL / "memcg-bystander.dmesg.txt").read_bytes()
    yield real * 3
    yield b"\n" * 70000
    yield b"x\n" * 30000 + real + b"\n\n" * 9000
    yield b"".join((b"a" * 200 + b"\n") * 40 + b"\n" * 8192 for _ in range(6))
    yield b"no newline at all" * 3000
    yield b"\r\n".join([b"crlf"] * 5000) + b"tail"
    yield b""


@pytest.mark.parametrize("chunk_bits", [4, 9, 13])
def test_the_newline_index_counts_every_newline(chunk_bits: int) -> None:
    """The index (counted one way or the other, chunk by chunk) is bytes.count's."""
    step = 1 << chunk_bits
    for data in _blocks_of_every_density():
        buf = bytearray(data + b"junk after the end\n")
        end = len(data)
        want = [data.count(b"\n", 0, k) for k in range(0, end, step)] + [data.count(b"\n")]
        assert block_fill.newline_index(buf, end, chunk_bits) == (want if end else [0])


@pytest.mark.parametrize("block", [4096, 65536])
def test_a_long_line_after_the_first_block(
    block: int, engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line too long for the fast path in a later block: the line reader takes over there,
    as it does in the first block (same lines, numbers, warning)."""
    monkeypatch.setattr(blocks, "BLOCK", block)
    log = tmp_path / "kern.log"
    lines = list(_noisy(REAL / "memcg-single.dmesg.txt", 3, 400))
    at = len(lines) // 2  # well past the first block
    lines.insert(at, "x" * (block // 2) + " oom-kill: junk glued before it")
    log.write_text("\n".join(lines) + "\n")
    _same(Input(log.name, log, max_line=block // 2), engine)
    fast, warned = _fast(Input(log.name, log, max_line=block // 2), engine)
    assert [w.code for w in warned] == ["line-too-long"]
    assert warned[0].where.line == at + 1 and fast.reports  # and the rest as the line reader


def test_a_long_line_hands_over_to_the_line_reader(engine: str, tmp_path: Path) -> None:
    log = tmp_path / "kern.log"
    lines = list(_noisy(REAL / "memcg-single.dmesg.txt", 2, 30))
    lines.insert(40, "x" * 5000 + " oom-kill: junk glued before it")
    log.write_text("\n".join(lines) + "\n")
    _same(Input(log.name, log, max_line=1000), engine)
    fast, warned = _fast(Input(log.name, log, max_line=1000), engine)
    assert [w.code for w in warned] == ["line-too-long"] and warned[0].where.line == 41
    assert len(fast.reports) == 2


def test_utf16_and_gzip_and_a_broken_gzip(engine: str, tmp_path: Path) -> None:
    text = "\n".join(_noisy(REAL / "memcg-single.dmesg.txt", 2, 3000)) + "\n"
    utf16 = tmp_path / "utf16.log"
    utf16.write_bytes(text.encode("utf-16"))
    assert len(_same(Input(utf16.name, utf16), engine).reports) == 2
    gz = tmp_path / "kern.log.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    assert len(_same(Input(gz.name, gz), engine).reports) == 2
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(gz.read_bytes()[: len(gz.read_bytes()) * 2 // 3])
    fast = _same(Input(cut.name, cut), engine)
    _, heard = _fast(Input(cut.name, cut), engine)
    assert [w.code for w in heard] == ["input-damaged"]
    assert fast.lines_read == heard[0].where.line < text.count("\n")


def test_a_gzip_that_breaks_after_the_first_block(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks read the stream in the line reader's pieces, whatever room is left in a block:
    where it breaks, the same lines were read, the same warning given at the same line."""
    monkeypatch.setattr(blocks, "BLOCK", 8192)
    text = "\n".join(_noisy(REAL / "memcg-single.dmesg.txt", 3, 600)) + "\n"
    data = gzip.compress(text.encode())
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    fast = _same(Input(cut.name, cut, max_line=4096), engine)
    _, heard = _fast(Input(cut.name, cut, max_line=4096), engine)
    assert [w.code for w in heard] == ["input-damaged"]
    assert 8192 // 60 < fast.lines_read == heard[0].where.line < text.count("\n")


def test_patterns_cover_the_prefilter() -> None:
    """Every literal of the prefilter is searched for, as bytes, by both finders."""
    from oomsleuth.parsers import kernel_lines

    pats = candidate_patterns()
    for word in kernel_lines.KEYWORD_LITERALS:
        line = f"Nov 25 10:00:00 h kernel: [1.0] x {word} y\n".encode()
        for fallback in (False, True):
            find = literals._python(pats) if fallback else literals.finder(pats)[0]
            assert find(b"noise\n" + line + b"noise\n"), word


def test_progress_hears_bytes_and_size_and_shows_only_big_inputs(tmp_path: Path) -> None:
    import oomsleuth
    from oomsleuth.cli.progress import SHOW_FROM, Reading

    log = tmp_path / "kern.log"
    log.write_text("\n".join(_noisy(REAL / "memcg-single.dmesg.txt", 1, 50)) + "\n")
    heard: list[tuple[str, int, int, int | None]] = []
    oomsleuth.analyze([log], tz="UTC", on_progress=lambda *a: heard.append(a))
    size = log.stat().st_size
    assert heard and heard[-1][0] == str(log) and heard[-1][2:] == (size, size)
    reading = Reading()
    reading("kern.log", 10, 1 << 20, 2 << 20)  # small: no status line at all
    assert reading._status is None
    text = str(reading._text("k[b]", 1000, SHOW_FROM, 2 * SHOW_FROM))
    assert text.startswith("reading k[b]: 100 of 200 MB, 1,000 lines") and "left" in text


@pytest.mark.parametrize("isal", [True, False], ids=["isal", "stdlib"])
def test_gzip_with_and_without_isal(
    isal: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    if isal:
        pytest.importorskip("isal")
    else:
        monkeypatch.setitem(sys.modules, "isal.igzip", None)  # makes the import fail
    text = "\n".join(_noisy(REAL / "memcg-single.dmesg.txt", 2, 3000)) + "\n"
    gz = tmp_path / "kern.log.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    assert list(Input(gz.name, gz).lines()) == text.splitlines()
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(gz.read_bytes()[: len(gz.read_bytes()) // 2])
    heard: list[Warning_] = []
    kept = list(Input(cut.name, cut).lines(heard.append))
    assert kept == text.splitlines()[: len(kept)] and [w.code for w in heard] == ["input-damaged"]
