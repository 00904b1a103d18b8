#!/usr/bin/env python3
"""Benchmark: the newline index of a block, ``bytearray.count`` against deleting the newlines.

Both ways count the newlines of a file's 4 MB blocks per 8 KB chunk, as the block reader
indexes them (:func:`oomsleuth.load.block_fill.newline_index`), in turn, in one process; the
fastest of --repeat rounds of each and their counts (which must agree) are printed:

  count      bytearray.count(b"\\n", start, stop) per chunk (CPython: a plain byte loop)
  replace    len(chunk) - len(chunk.replace(b"\\n", b""))  (memchr finds each newline), as
             newline_index does where the chunk before held lines of 32 bytes or more

    python bench/bench_count.py FILE [--mb 256] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

BLOCK, STEP = 4 << 20, 1 << 13


def by_count(buf: bytearray, end: int) -> list[int]:
    count, index, total = buf.count, [], 0
    for k in range(0, end, STEP):
        total += count(b"\n", k, min(k + STEP, end))
        index.append(total)
    return index


def by_replace(buf: bytearray, end: int) -> list[int]:
    from oomsleuth.load.block_fill import newline_index

    return newline_index(buf, end, STEP.bit_length() - 1)[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file")
    parser.add_argument("--mb", type=int, default=256, help="MB of the file read (from start)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with open(args.file, "rb") as f:
        blocks = [bytearray(b) for b in iter(lambda: f.read(BLOCK), b"")][: args.mb // 4]
    mb = sum(map(len, blocks)) / 2**20
    ways: dict[str, Callable[[bytearray, int], list[int]]] = {
        "count": by_count,
        "replace": by_replace,
    }
    best = dict.fromkeys(ways, float("inf"))
    totals: dict[str, int] = {}
    for _ in range(args.repeat):
        for name, way in ways.items():
            start = time.perf_counter()
            totals[name] = sum(way(b, len(b))[-1] for b in blocks)
            best[name] = min(best[name], time.perf_counter() - start)
    print(f"{mb:.0f} MB in {len(blocks)} blocks of 4 MB, 8 KB chunks; fastest of {args.repeat}")
    for name in ways:
        print(f"{name:<8} {best[name]:7.3f} s  {best[name] * 1000 / mb:6.3f} ms/MB  ", end="")
        print(f"{totals[name]:,} newlines")
    print(f"replace / count: {best['replace'] / best['count']:.2f}")
    return 0 if len(set(totals.values())) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
