#!/usr/bin/env python3
"""Benchmark: start-up, one report to JSON, against ``python -c "import typer"``, many runs.

Start-up is a matter of tens of milliseconds, and this VM's speed drifts by a third over
minutes, so every command runs as a fresh process RUNS times, all of them taken in turn (one
run of each, then the next round): the fastest and the median of each, and their ratios to
``import typer``'s, are printed. The commands:

  typer              python -c "import typer"
  typer, no gc       python -c "import gc; gc.disable(); import typer"  (what the console
                     script's own import of typer costs: oomsleuth._startup pauses the
                     collector while it imports)
  this tree          python -m oomsleuth analyze ONE --format json
  before             the same with an earlier revision's oomsleuth/ first on PYTHONPATH
                     (--rev, extracted with git archive), when given

ONE is one real report (``bench_scan.py``'s generator). The trees are compiled to bytecode
first, as ``pip install`` does. The JSON of both trees is compared.

    python bench/bench_startup.py [--runs 30] [--rev 427135f]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_before_after import extract
from bench_scan import dense
from measure import compiled

ROOT = Path(__file__).resolve().parent.parent


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd="/")
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        sys.exit(f"failed: {' '.join(argv)}\n{proc.stderr}")
    return wall, proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rev", help="an earlier revision to time beside this tree")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.log"
        dense(one, 1)
        trees = {"this tree": ROOT}
        if args.rev:
            trees = {"before": Path(tmp) / "before", **trees}
            extract(args.rev, trees["before"])
        compiled(*(str(t / "oomsleuth") for t in trees.values()))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        analyze = [sys.executable, "-m", "oomsleuth", "analyze", str(one), "--format", "json"]
        commands = {
            "typer": ([sys.executable, "-c", "import typer"], env),
            "typer, no gc": ([sys.executable, "-c", "import gc; gc.disable(); import typer"], env),
            **{name: (analyze, {**env, "PYTHONPATH": str(t)}) for name, t in trees.items()},
        }
        walls: dict[str, list[float]] = {name: [] for name in commands}
        outs: dict[str, str] = {}
        for _ in range(args.runs):
            for name, (argv, environ) in commands.items():
                wall, outs[name] = timed(argv, environ)
                walls[name].append(wall)
    fast, mid = min(walls["typer"]), statistics.median(walls["typer"])
    print(f"{'command':<14} {'fastest ms':>10} {'median ms':>10} {'x typer':>8} {'x (median)':>10}")
    for name, w in walls.items():
        best, med = min(w), statistics.median(w)
        print(f"{name:<14} {best * 1000:>10.1f} {med * 1000:>10.1f} ", end="")
        print(f"{best / fast:>8.2f} {med / mid:>10.2f}")
    if args.rev:
        print(f"JSON identical: {outs['before'] == outs['this tree']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
