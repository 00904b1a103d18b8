#!/usr/bin/env python3
"""Benchmark: logs dense with reports parsed in two halves side by side, against an earlier
revision (before the halves) and against this tree in one process, in one run.

Generates (``bench_scan.py``'s generators): kern.logs of ``--mb`` MB of ordinary noise with
``--reports`` real reports spread evenly through each (one log per count), and DENSE reports
back to back; then times, each as a fresh process, the fastest of --repeat runs, the sides in
turn (the VM's speed drifts):

  before        oomsleuth analyze LOG --format json, the tree of --rev (git archive)
  halves        the same with this tree
  one process   this tree with OOMSLEUTH_NO_FORK=1

with each side's peak RSS (of its largest process), and whether the three JSON texts agree.

    python bench/bench_halves.py --rev 484af23 [--mb 256] [--reports 500,2400,8000]
                                 [--dense 2000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench_before_after import LAUNCH, MAIN, extract
from bench_scan import ROOT, dense, noisy
from measure import compiled, run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rev", required=True, help="an earlier revision (git), before the halves")
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--reports", default="500,2400,8000", help="source copies in each log")
    ap.add_argument("--dense", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        extract(args.rev, old)
        compiled(str(old / "oomsleuth"), str(ROOT / "oomsleuth"))
        logs = []
        for count in map(int, args.reports.split(",")):
            path = Path(tmp) / f"noisy-{count}.log"
            kills = noisy(path, args.mb, count)  # (copies of the sources: one holds two reports)
            logs.append((f"{args.mb} MB, {kills} reports", path))
        logs.append((f"dense ({args.dense})", Path(tmp) / "dense.log"))
        dense(logs[-1][1], args.dense)
        sides = {
            "before": (str(old), None),
            "halves": (str(ROOT), None),
            "one process": (str(ROOT), {"OOMSLEUTH_NO_FORK": "1"}),
        }
        print(f"{'log':<26}" + "".join(f"{s:>14} {'RSS MB':>7}" for s in sides) + "  JSON")
        for name, log in logs:
            runs: dict[str, list[tuple[float, int, str]]] = {side: [] for side in sides}
            for _ in range(args.repeat):
                for side, (path, env) in sides.items():
                    argv = [sys.executable, "-c", LAUNCH + MAIN, path, "analyze", str(log)]
                    runs[side].append(run([*argv, "--format", "json"], env))
            best = {side: min(r, key=lambda x: x[0]) for side, r in runs.items()}
            cells = "".join(f"{t:>14.2f} {rss / 1024:>7.0f}" for t, rss, _ in best.values())
            same = len({out for _, _, out in best.values()}) == 1
            print(f"{name:<26}{cells}  {'same' if same else 'DIFFERENT'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
