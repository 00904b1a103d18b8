#!/usr/bin/env python3
"""Benchmark: the JSON render alone, orjson against the standard library, in one process.

Analyzes LOG once (default: a dense log of DENSE real reports back to back, ``bench_scan.py``'s
generator), then renders the result to a stream that keeps nothing, in turn with orjson
(``oomsleuth/renderers/json_fast.py``) and with the standard library (``OOMSLEUTH_NO_ORJSON``),
--repeat times each, and prints the fastest of each, the load average, and whether the two texts
are the same (md5).

    python bench/bench_json_render.py [--log FILE | --dense 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

from bench_scan import dense

import oomsleuth
from oomsleuth.renderers import json_fast


class Null(io.TextIOBase):
    """Keeps only an md5 of what is written."""

    def __init__(self) -> None:
        self.md5 = hashlib.md5()

    def write(self, text: str) -> int:
        self.md5.update(text.encode())
        return len(text)


class Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


def use_orjson(on: bool) -> None:
    os.environ[json_fast.NO_ORJSON] = "0" if on else "1"
    json_fast.encoder.cache_clear()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--log", type=Path, help="the log to analyze (default: a dense log)")
    ap.add_argument("--dense", type=int, default=500, help="reports in the dense log")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = args.log
        if log is None:
            log = Path(tmp) / "dense.log"
            dense(log, args.dense)
        result = oomsleuth.analyze([log])
    sides = {"stdlib": False, "orjson": True}
    best = dict.fromkeys(sides, float("inf"))
    md5 = {}
    for side, on in sides.items():
        use_orjson(on)
        if on and json_fast.encoder() is None:
            sys.exit("orjson is not installed (pip install 'oomsleuth[fast]')")
        sink = Null()
        oomsleuth.render(result, "json", sink)
        md5[side] = sink.md5.hexdigest()
    for _ in range(args.repeat):
        for side, on in sides.items():
            use_orjson(on)
            t0 = time.perf_counter()
            oomsleuth.render(result, "json", Discard())
            best[side] = min(best[side], time.perf_counter() - t0)
    print(f"{len(result.reports)} reports, {len(result.to_dict()['events'])} events")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for side in sides:
        print(f"render {side:<7} {best[side]:.3f} s (fastest of {args.repeat})")
    gain = 1 - best["orjson"] / best["stdlib"]
    print(f"orjson saves {gain:.0%} of the render; same text: {md5['stdlib'] == md5['orjson']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
