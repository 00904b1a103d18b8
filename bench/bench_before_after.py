#!/usr/bin/env python3
"""Benchmark: per-report cost and start-up of an earlier revision against this tree, in one run.

Extracts ``oomsleuth/`` of REV (``git archive``) into a temporary folder, generates a dense log
of DENSE real reports back to back and one report (``bench_scan.py``'s generator), and times,
each as a fresh process, the fastest of --repeat runs, before and after in turn:

  python -c "import typer"        with the paths of each side
  oomsleuth analyze one --format json
  oomsleuth analyze dense --format json     per report: (dense - one) / DENSE
  oomsleuth analyze crowd --format json     per report of a table of 151 tasks (the real
                                            memcg-crowd capture): (crowd - one) / CROWD
  oomsleuth analyze global --format json    per global report of the 3.7 era (Mem-Info with
                                            per-cpu lines, an [<address>] call trace;
                                            fixtures/handwritten): (global - one) / GLOBAL

Both sides start through the same launcher, with their own tree first on ``sys.path``;
--before-path adds folders after the old tree (e.g. an older or newer typer from
``pip install --no-deps --target DIR typer==X``). The JSON of both sides is compared.

    python bench/bench_before_after.py --rev 81546c7 [--before-path DIR] [--dense 2000]
                                       [--crowd 200] [--global 1000]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from bench_scan import CROWD, GLOBAL, ROOT, dense
from measure import compiled, run

LAUNCH = "import sys; sys.path[:0] = sys.argv[1].split(':'); del sys.argv[1]; "
# the console script's function (an older tree's has only main)
MAIN = (
    "import oomsleuth.__main__ as m; sys.argv[0] = 'oomsleuth'; "
    "sys.exit(getattr(m, 'script', m.main)())"
)
TYPER = "import typer"


def extract(rev: str, folder: Path) -> None:
    blob = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "oomsleuth"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(folder, filter="data")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rev", required=True, help="the earlier revision (git)")
    ap.add_argument("--before-path", default="", help="folders to add after the old tree")
    ap.add_argument("--dense", type=int, default=2000)
    ap.add_argument("--crowd", type=int, default=200, help="reports of 151 task rows")
    ap.add_argument("--global", type=int, default=1000, dest="globals", help="global reports")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        extract(args.rev, old)
        packed, one = Path(tmp) / "dense.log", Path(tmp) / "one.log"
        dense(packed, args.dense)
        dense(one, 1)
        crowd, crowd_one = Path(tmp) / "crowd.log", Path(tmp) / "crowd-one.log"
        dense(crowd, args.crowd, [CROWD])
        dense(crowd_one, 1, [CROWD])
        globals_, global_one = Path(tmp) / "global.log", Path(tmp) / "global-one.log"
        dense(globals_, args.globals, [GLOBAL])
        dense(global_one, 1, [GLOBAL])
        sides = {
            "before": ":".join(p for p in (str(old), args.before_path) if p),
            "after": str(ROOT),
        }
        compiled(str(old / "oomsleuth"), str(ROOT / "oomsleuth"))

        def best(code: str, *rest: str) -> dict[str, tuple[float, str]]:
            """Each side's fastest run, the sides taken in turn (the VM's speed drifts)."""
            runs: dict[str, list[tuple[float, int, str]]] = {side: [] for side in sides}
            for _ in range(args.repeat):
                for side, path in sides.items():
                    runs[side].append(run([sys.executable, "-c", LAUNCH + code, path, *rest]))
            fastest = {side: min(r, key=lambda x: x[0]) for side, r in runs.items()}
            return {side: (wall, out) for side, (wall, _, out) in fastest.items()}

        rows: dict[str, dict[str, float]] = {s: {} for s in sides}
        outs: dict[str, dict[str, str]] = {s: {} for s in sides}
        print(f"{'case':<34} {'before s':>9} {'after s':>9}", flush=True)
        for case, code, rest in (
            ("python -c 'import typer'", TYPER, ()),
            ("one report to JSON", MAIN, ("analyze", str(one), "--format", "json")),
            (f"dense ({args.dense}) to JSON", MAIN, ("analyze", str(packed), "--format", "json")),
            ("one crowd report to JSON", MAIN, ("analyze", str(crowd_one), "--format", "json")),
            (f"crowd ({args.crowd}) to JSON", MAIN, ("analyze", str(crowd), "--format", "json")),
            ("one global report to JSON", MAIN, ("analyze", str(global_one), "--format", "json")),
            (
                f"global ({args.globals}) to JSON",
                MAIN,
                ("analyze", str(globals_), "--format", "json"),
            ),
        ):
            for side, (t, out) in best(code, *rest).items():
                rows[side][case], outs[side][case] = t, out
            print(f"{case:<34} {rows['before'][case]:>9.3f} {rows['after'][case]:>9.3f}")
        same = all(outs["before"][c] == outs["after"][c] for c in outs["after"])
        print(f"JSON identical in every case: {same}")
        for side, r in rows.items():
            t_typer, t_one, t_dense, t_one_crowd, t_crowd, t_one_global, t_global = r.values()
            per = (t_dense - t_one) / args.dense * 1000
            crowded = (t_crowd - t_one_crowd) / args.crowd * 1000
            wide = (t_global - t_one_global) / args.globals * 1000
            print(f"{side}: {per:.2f} ms per report, {crowded:.2f} ms per crowd report, ", end="")
            print(f"{wide:.2f} ms per global report; ", end="")
            print(f"start-up {t_one / t_typer:.2f}x import typer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
