#!/usr/bin/env python3
"""Benchmark: several rotated kernel logs parsed side by side (forked) against one process.

Generates 4 rotated logs of SIZE MB each with bench_scan's noisy generator (ordinary kernel and
syslog noise with REPORTS real OOM reports spread through each), a day apart on the wall clock
so that they are four stretches of one host's log, the oldest gzipped (-1) as logrotate leaves
it: ``kern.log.3.gz kern.log.2 kern.log.1 kern.log``. Then times, as fresh processes taken in
turn (the fastest of --repeat each):

  oomsleuth analyze kern.log.3.gz kern.log.2 kern.log.1 kern.log --format json
  the same with OOMSLEUTH_NO_FORK=1 (one process, the sources one after another)

and checks that both print the same JSON. The load average is printed before and after: the
machine may be shared.

    python bench/bench_sources.py [--mb 192] [--reports 100] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import bench_scan
from measure import compiled, run

NAMES = ("kern.log.3.gz", "kern.log.2", "kern.log.1", "kern.log")


def generate(folder: Path, megabytes: int, reports: int) -> list[Path]:
    """The four rotated logs (reused when a --keep folder already holds them)."""
    paths = [folder / name for name in NAMES]
    start = bench_scan.START
    for age, path in enumerate(reversed(paths)):
        if path.exists():
            continue
        bench_scan.START = start - timedelta(days=age)  # the older, the earlier
        plain = path.with_suffix("") if path.suffix == ".gz" else path
        bench_scan.noisy(plain, megabytes, reports)
        if plain != path:
            with plain.open("rb") as src, gzip.open(path, "wb", compresslevel=1) as dst:
                while block := src.read(1 << 22):
                    dst.write(block)
            plain.unlink()
    bench_scan.START = start
    return paths


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--mb", type=int, default=192, help="size of each log (the .gz: unpacked)")
    ap.add_argument("--reports", type=int, default=100, help="OOM reports in each log")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each command; the fastest")
    ap.add_argument("--keep", type=Path, help="a folder to write the generated logs to")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        paths = generate(folder, args.mb, args.reports)
        sizes = ", ".join(f"{p.name} {p.stat().st_size / 2**20:.0f} MB" for p in paths)
        print(f"sources: {sizes}; cores: {len(os.sched_getaffinity(0))}")
        compiled(str(Path(__file__).resolve().parent.parent / "oomsleuth"))
        argv = [sys.executable, "-m", "oomsleuth", "analyze", *map(str, paths), "--format", "json"]
        print(f"load average before: {_load()}", flush=True)
        runs = [(run(argv, {"OOMSLEUTH_NO_FORK": "1"}), run(argv)) for _ in range(args.repeat)]
        print(f"load average after:  {_load()}")
        one = min((a for a, _ in runs), key=lambda r: r[0])
        side = min((b for _, b in runs), key=lambda r: r[0])
        print(f"{'case':<26} {'s (fastest)':>11} {'all runs s':<24} {'RSS MB':>6}")
        for name, best, i in (
            ("one process (NO_FORK=1)", one, 0),
            ("side by side (forked)", side, 1),
        ):
            every = " ".join(f"{r[i][0]:.2f}" for r in runs)
            print(f"{name:<26} {best[0]:>11.2f} {every:<24} {best[1] / 1024:>6.0f}")
        print(f"speed-up: {one[0] / side[0]:.2f}x")
        same = all(r[0][2] == r[1][2] for r in runs) and one[2] == side[2]
        print(f"JSON: {'same' if same else 'DIFFERENT'} ({len(one[2]):,} bytes)")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
