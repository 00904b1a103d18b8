"""Tests for oomsleuth.load: files, stdin, compression, directories, junk and memory bounds."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oomsleuth.errors import EXIT_USAGE, InputError
from oomsleuth.load import MAX_LINE_BYTES, Input, resolve_inputs

TEXT = b"Jan  1 00:00:01 host kernel: Out of memory: Killed process 42 (java)\nsecond line\n"
LINES = ["Jan  1 00:00:01 host kernel: Out of memory: Killed process 42 (java)", "second line"]


def read_all(path: Path) -> list[str]:
    [inp] = resolve_inputs([str(path)])
    return list(inp.lines())


class FakeStdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def zstd_compress(data: bytes) -> bytes:
    zstd = pytest.importorskip("zstandard")
    compressed: bytes = zstd.ZstdCompressor().compress(data)
    return compressed


def test_plain_file(tmp_path: Path) -> None:
    path = tmp_path / "kern.log"
    path.write_bytes(TEXT)
    [inp] = resolve_inputs([str(path)])
    assert inp == Input(str(path), path)
    assert list(inp.lines()) == LINES
    assert list(inp.lines()) == LINES  # a file can be read again


def test_crlf_and_missing_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"one\r\ntwo\r\n\r\nthree")
    assert read_all(path) == ["one", "two", "", "three"]


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    assert read_all(path) == []


@pytest.mark.parametrize(
    ("name", "compress"),
    [
        ("kern.log.gz", gzip.compress),
        ("kern.log.xz", lzma.compress),
        ("kern.log.bz2", bz2.compress),
        ("kern.log.zst", zstd_compress),
        # magic bytes decide, not the extension
        ("wrong.txt", gzip.compress),
        ("wrong.gz", lzma.compress),
        ("wrong.xz", bz2.compress),
        ("wrong.log", zstd_compress),
    ],
)
def test_compressed(tmp_path: Path, name: str, compress: Callable[[bytes], bytes]) -> None:
    path = tmp_path / name
    path.write_bytes(compress(TEXT))
    assert read_all(path) == LINES


def test_gz_extension_on_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "kern.log.1.gz"
    path.write_bytes(TEXT)
    assert read_all(path) == LINES


def test_concatenated_gzip_members(tmp_path: Path) -> None:
    path = tmp_path / "multi.gz"
    path.write_bytes(gzip.compress(b"a\n") + gzip.compress(b"b\n"))
    assert read_all(path) == ["a", "b"]


def test_zstd_missing_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kern.log.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 20)
    monkeypatch.setitem(sys.modules, "zstandard", None)  # makes `import zstandard` fail
    with pytest.raises(InputError, match=r"pip install 'oomsleuth\[zstd\]'") as info:
        resolve_inputs([str(path)])
    assert info.value.exit_code == EXIT_USAGE


def test_a_truncated_gzip_keeps_what_was_read_and_says_where_it_broke(tmp_path: Path) -> None:
    path = tmp_path / "cut.gz"
    text = b"".join(b"line %d\n" % i for i in range(200_000))
    path.write_bytes(gzip.compress(text)[:-20_000])
    [inp] = resolve_inputs([str(path)])  # the head is fine
    problems: list[Any] = []
    lines = list(inp.lines(problems.append))
    assert 1000 < len(lines) < 200_000 and lines[:3] == ["line 0", "line 1", "line 2"]
    (problem,) = problems
    assert problem.code == "input-damaged" and problem.where.line == len(lines)
    assert f"breaks after line {len(lines)}" in problem.message


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", FakeStdin(TEXT))
    [inp] = resolve_inputs(["-"])
    assert inp == Input("<stdin>", None)
    assert list(inp.lines()) == LINES


def test_stdin_compressed_and_sniffed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"".join(b"line %d\n" % i for i in range(5000))  # well past the sniffed block
    monkeypatch.setattr(sys, "stdin", FakeStdin(gzip.compress(data)))
    [inp] = resolve_inputs(["-"])
    assert list(inp.lines()) == [f"line {i}" for i in range(5000)]


def test_stdin_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", FakeStdin(bytes(range(256)) * 64))
    [inp] = resolve_inputs(["-"])
    with pytest.raises(InputError, match=r"^<stdin> does not look like a text log"):
        list(inp.lines())


def test_stdin_twice_is_an_error() -> None:
    with pytest.raises(InputError, match="more than once"):
        resolve_inputs(["-", "-"])


def test_several_inputs_keep_their_order(tmp_path: Path) -> None:
    (tmp_path / "b").write_bytes(b"b\n")
    (tmp_path / "a").write_bytes(b"a\n")
    names = [inp.name for inp in resolve_inputs([str(tmp_path / "b"), str(tmp_path / "a")])]
    assert names == [str(tmp_path / "b"), str(tmp_path / "a")]


def test_directory_order_and_selection(tmp_path: Path) -> None:
    files = {
        "kern.log": b"k0\n",
        "kern.log.1": b"k1\n",
        "kern.log.2.gz": gzip.compress(b"k2\n"),
        "kern.log.10.gz": gzip.compress(b"k10\n"),
        "messages": b"m\n",
        "messages-20240108": b"m8\n",
        "messages-20240101.xz": lzma.compress(b"m1\n"),
        "dmesg.0": b"d0\n",
        "dmesg-T.txt": b"dT\n",
        "journalctl_--no-pager": b"j\n",
        "journald.conf": b"[Journal]\n",
        "syslog-ng.conf.d/x": b"no\n",
        "notes.md": b"not a log\n",
        ".hidden.log": b"hidden\n",
        ".cache/app.log": b"hidden dir\n",
        "sub/app.log": b"app\n",
        "sub/journal.json": b"{}\n",
        "sub/boot.export": b"MESSAGE=x\n",
        "journal/abc/system.journal": b"LPKSHHRH" + b"\x00" * 200,
    }
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    warnings: list[str] = []
    inputs = resolve_inputs([str(tmp_path)], on_warning=warnings.append)
    rels = [os.path.relpath(inp.name, tmp_path) for inp in inputs]
    assert rels == [
        "dmesg.0",  # family "dmesg" sorts before family "dmesg-T.txt"
        "dmesg-T.txt",
        "journalctl_--no-pager",
        "kern.log.10.gz",
        "kern.log.2.gz",
        "kern.log.1",
        "kern.log",
        "messages-20240101.xz",
        "messages-20240108",
        "messages",
        "sub/app.log",
        "sub/boot.export",
        "sub/journal.json",
    ]
    assert [next(inputs[i].lines()) for i in (3, 4, 5, 6)] == ["k10", "k2", "k1", "k0"]
    assert len(warnings) == 1
    assert "binary journald" in warnings[0]
    assert "journalctl --file FILE -o export" in warnings[0]


def test_directory_skips_binary_candidates_with_warning(tmp_path: Path) -> None:
    (tmp_path / "syslog").write_bytes(b"ok\n")
    (tmp_path / "lastlog.log").write_bytes(b"\x00\x01\x02\x03" * 4096)
    warnings: list[str] = []
    inputs = resolve_inputs([str(tmp_path)], on_warning=warnings.append)
    assert [inp.path for inp in inputs] == [tmp_path / "syslog"]
    assert len(warnings) == 1
    assert "lastlog.log does not look like a text log" in warnings[0]


def test_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello\n")
    with pytest.raises(InputError) as info:
        resolve_inputs([str(tmp_path)])
    assert info.value.message == (
        f"no log files in {tmp_path} (looked for kern.log*, messages*, syslog*, dmesg*, "
        "kmsg*, journal*, journalctl*, *.log, *.json, *.export, and log lines or OOM words "
        "in the head of every file)"
    )


def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.log"
    with pytest.raises(InputError) as info:
        resolve_inputs([str(missing)])
    assert info.value.message == f"cannot read {missing}: no such file or directory"
    assert info.value.exit_code == EXIT_USAGE


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read anything")
def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "secret.log"
    path.write_bytes(TEXT)
    path.chmod(0)
    with pytest.raises(InputError) as info:
        resolve_inputs([str(path)])
    assert info.value.message == f"cannot read {path}: permission denied"


def test_permission_denied_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.log"
    path.write_bytes(TEXT)

    def deny(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(InputError) as info:
        resolve_inputs([str(path)])
    assert info.value.message == f"cannot read {path}: permission denied"


def test_special_file_is_rejected() -> None:
    with pytest.raises(InputError, match=r"^cannot read /dev/null: it is a character device"):
        resolve_inputs(["/dev/null"])


def test_binary_junk(tmp_path: Path) -> None:
    path = tmp_path / "core.log"
    path.write_bytes(os.urandom(16384))
    with pytest.raises(InputError) as info:
        resolve_inputs([str(path)])
    assert info.value.message == f"{path} does not look like a text log (binary data)"


def test_compressed_binary_junk(tmp_path: Path) -> None:
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(b"\x7fELF\x02\x01\x01\x00" + b"\x00\x01\x00\x3e" * 2000))
    with pytest.raises(InputError, match="does not look like a text log"):
        resolve_inputs([str(path)])


def test_journald_file_names_the_conversion(tmp_path: Path) -> None:
    path = tmp_path / "system.journal"
    path.write_bytes(b"LPKSHHRH" + b"\x00" * 4000)
    with pytest.raises(InputError, match=r"journalctl --file .*system\.journal -o export"):
        resolve_inputs([str(path)])


def test_zeroed_block_from_a_crash_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "syslog"
    path.write_bytes(b"\x00" * 4096 + b"after reboot\n" + b"x\x00y\n")
    assert read_all(path) == ["after reboot", "xy"]


def test_invalid_utf8_keeps_its_bytes(tmp_path: Path) -> None:
    """Undecodable bytes survive as surrogate escapes, so reports can show them as \\xNN
    (as dmesg does) instead of losing them to U+FFFD."""
    path = tmp_path / "kern.log"
    path.write_bytes('comm="caf\xe9" ok\n'.encode("latin-1") + "naïve ✓\n".encode())
    lines = read_all(path)
    assert lines == ['comm="caf\udce9" ok', "naïve ✓"]
    assert lines[0].encode("utf-8", "surrogateescape") == b'comm="caf\xe9" ok'


def test_long_line_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "long.log"
    with path.open("wb") as out:
        out.write(b"start\n")
        out.write(b"a" * (3 * MAX_LINE_BYTES) + b"\n")
        out.write(b"b" * MAX_LINE_BYTES + b"\n")  # exactly at the cap: kept whole
        out.write(b"end\n")
    lines = read_all(path)
    assert [len(line) for line in lines] == [5, MAX_LINE_BYTES, MAX_LINE_BYTES, 3]
    assert lines[1] == "a" * MAX_LINE_BYTES
    assert lines[3] == "end"


def peak_while_reading(inp: Input) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = sum(1 for _ in inp.lines())
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_no_newline_file_uses_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "flat.log"
    with path.open("wb") as out:
        for _ in range(16):
            out.write(b"z" * MAX_LINE_BYTES)
    [inp] = resolve_inputs([str(path)])
    count, peak = peak_while_reading(inp)
    assert count == 1
    assert peak < 4 * MAX_LINE_BYTES  # the file is 16 MiB


def test_large_gzip_streams_in_constant_memory(tmp_path: Path) -> None:
    line = b"Jan  1 00:00:01 host kernel: [12345.678901] oom-kill:constraint=CONSTRAINT_NONE," * 2
    line += b"\n"
    block = line * 4096
    size = 50 * 1024 * 1024
    path = tmp_path / "kern.log.1.gz"
    with gzip.open(path, "wb", compresslevel=1) as out:
        for _ in range(size // len(block) + 1):
            out.write(block)
    [inp] = resolve_inputs([str(tmp_path)])
    count, peak = peak_while_reading(inp)
    assert count == (size // len(block) + 1) * 4096
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes while reading a {size}-byte stream"
