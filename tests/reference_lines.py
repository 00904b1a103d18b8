"""The line-at-a-time readers the block readers replaced, kept as the oracle they must equal:
``Input.lines`` through ``io.TextIOWrapper.readline``, the ``atop -P`` loop one line a step,
and hostile history text to feed both."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from datetime import datetime

from oomsleuth.history import atop
from oomsleuth.history.common import WarnLimiter
from oomsleuth.load import text
from oomsleuth.load.files import Input, _buffered, checked_head, decompressed, read_errors, reason
from oomsleuth.model import Sample, Warning_, Where


def lines(inp: Input, heard: list[tuple[str, int, str]]) -> Iterator[str]:
    """``inp``'s lines as io.TextIOWrapper.readline gives them; ``heard``: (code, line, text)."""
    with ExitStack() as stack:
        stream = decompressed(inp.open(stack), inp.name)
        head, encoding = checked_head(stream, inp.name)
        wrapper = io.TextIOWrapper(
            _buffered(head, stream), encoding or "utf-8", "surrogateescape", newline="\n"
        )
        count, given, limit = 0, 0, inp.max_line  # lines read; lines given (Input.lines' count)

        def long(n: int, message: str) -> None:
            heard.append(("line-too-long", n, message))

        try:
            while line := wrapper.readline(limit):
                count += 1
                if line[-1] == "\n":
                    line = line[:-2] if line.endswith("\r\n") else line[:-1]
                elif len(line) == limit:
                    line = text._long(line, wrapper.readline, limit, count, long)
                yield line.replace("\x00", "")
                given += 1
        except (*read_errors(), UnicodeError) as exc:
            heard.append(("input-damaged", given, reason(exc)))


def atop_lines(
    source: Iterable[str],
    keep: Callable[[datetime], bool],
    warn: Callable[[Warning_], None],
    name: str = "t",
) -> Iterator[Sample]:
    """``atop -P`` samples read one line a step (the reader before parse_blocks)."""
    warning = WarnLimiter(warn, name, 20, more="{n} more like it")
    reader = atop._Reader(name, warning)
    last_epoch, when, kept = "\x00", datetime.min, False
    skip: tuple[str, ...] = ()
    lineno = 0
    for lineno, raw in enumerate(source, 1):
        if raw.startswith(skip):
            continue
        line = raw.rstrip("\r\n")
        if line in ("SEP", "RESET"):
            reader.mark(line)
            continue
        if not line.strip():
            continue
        if line.startswith("# "):
            warning(lineno, "atop-note", line[2:200])
            continue
        if line.startswith(atop._WANTED):
            if not kept and line.startswith(last_epoch, line.find(" ", 4) + 1):
                continue
        elif atop._HEAD.match(line):
            continue
        parts = line.split(" ", 6)
        if not atop._HEAD.match(line) or len(parts) < 7:
            atop._unreadable(warning, lineno, line, parts[0])
            continue
        label, _, epoch, _, _, interval_text, rest = parts
        if epoch + " " != last_epoch:
            if (t := atop._epoch(epoch, warning, lineno)) is None:
                continue
            when, last_epoch, kept = t, epoch + " ", keep(t)
            skip = () if kept else tuple(f"{w}{parts[1]} {last_epoch}" for w in atop._WANTED)
        if not kept:
            continue
        interval = int(interval_text)
        interval = interval if interval > 0 and not reader.since_boot else 0
        if label in ("PRG", "PRM"):
            yield from reader.process(label, rest, when, interval, lineno)
        else:
            yield from reader.host(label, rest, when, interval, lineno)
    warning.close(lineno)


HOSTILE = [
    b"\r",
    b"\x00",
    b"\xff\xfe",
    b"\xc3",
    b"\xe2\x82",
    b"# note from external_atop",
    b"SEP",
    b"RESET",
    b"",
    b"   ",
    b"CPU bench 1790812800 2026/10/01 00:00:00 600 100 2 1 2 3",
    b"CPU bench 1790812800 junk",
    b"PRM other 1790812800 2026/10/01 00:00:00 600 5 (a) S 4096 1 2 3 4 5 6 7 8 9 10 11 5 y",
    b"PRM bench 99999999999999999999 2026/11/25 23:04:17 1 5 (a) S 1",
    b"MEM",
    b"x" * 3000,
    b"23:59:59 LINUX RESTART",
    b"Linux 6.1 (h) 13/13/26 _x86_64_ (2 CPU)",
    b"12:00:00 kbmemfree kbavail",
    b"12:00:01 1 2",
    b"12:00:02      8000000   7000000 words",
]


def damaged(data: bytes, seed: int, edits: int = 12) -> bytes:
    """``data`` with lines cut, doubled, dropped, given a CR or hostile bytes (seeded)."""
    rnd = random.Random(seed)
    out = data.split(b"\n")
    for _ in range(edits):
        op, j = rnd.random(), rnd.randrange(len(out))
        if op < 0.2:
            del out[j]
        elif op < 0.35:
            out.insert(j, out[rnd.randrange(len(out))])
        elif op < 0.6:
            out[j] = out[j][: rnd.randrange(len(out[j]) + 1)] + rnd.choice(HOSTILE)
        elif op < 0.8:
            out.insert(j, rnd.choice(HOSTILE))
        else:
            out[j] += b"\r"
    return b"\n".join(out)


def warning_rows(warnings: Iterable[Warning_]) -> list[tuple[str, int, str]]:
    return [(w.code, w.where.line, w.message) for w in warnings]


__all__ = ["Where", "atop_lines", "damaged", "lines", "warning_rows"]
