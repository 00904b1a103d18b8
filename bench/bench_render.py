#!/usr/bin/env python3
"""Benchmark: the four output formats of many reports, an earlier revision against this tree.

Extracts ``oomsleuth/`` and ``templates/`` of REV (``git archive``) into a temporary folder,
generates a dense log of DENSE real reports back to back (``bench_scan.py``'s generator), and
runs ``oomsleuth analyze dense --format F`` (stdout a pipe: the terminal's text is 80 columns,
no colour) for F in terminal, html, md, json, each as a fresh process, the fastest of
--repeat, before and after in turn; for the terminal also this tree in one process
(``OOMSLEUTH_NO_FORK=1``: its panels not rendered on the other core, and a big log not
searched ahead by a second process either). Prints wall time, the
process's peak RSS, the peak of all its processes' PSS (``measure.run_tree``) and whether the
texts are the same (the HTML's "made at" time aside).

    python bench/bench_render.py --rev a7ac846~1 [--dense 2000] [--repeat 3]
                                 [--log FILE] [--formats terminal,json]

``--log``: this log instead of the dense one (e.g. bench_scan.py's noisy gigabyte, ``--keep``).
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from bench_before_after import LAUNCH, MAIN
from bench_scan import ROOT, dense
from measure import compiled, run_tree

MADE = re.compile(r"at \d{4}-\d\d-\d\dT[0-9:]+\+00:00\.")
FORMATS = ("terminal", "html", "md", "json")


def extract(rev: str, into: Path) -> None:
    tar = subprocess.run(
        ["git", "archive", rev, "oomsleuth", "templates"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(into, filter="data")


def fastest(
    tree: Path, log: Path, fmt: str, repeat: int, env: dict[str, str] | None = None
) -> tuple[float, int, int, str]:
    argv = [sys.executable, "-c", LAUNCH + MAIN, str(tree), "analyze", str(log), "--format", fmt]
    runs = [run_tree(argv, env) for _ in range(repeat)]
    return min(runs, key=lambda r: r[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True, help="the earlier revision (git)")
    parser.add_argument("--dense", type=int, default=2000, help="reports back to back")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--log", type=Path, help="a log to render instead of the dense one")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before, log = Path(tmp) / "before", Path(tmp) / "dense.log"
        extract(args.rev, before)
        compiled(str(before / "oomsleuth"), str(ROOT / "oomsleuth"))
        if args.log is not None:
            log = args.log
            print(f"log: {log}; before = {args.rev}")
        else:
            dense(log, args.dense)
            print(f"dense log: {args.dense} reports; before = {args.rev}")
        print(f"{'format':20} {'before s':>9} {'after s':>8} {'ratio':>6} "
              f"{'RSS MB':>11} {'all PSS MB':>11} same")  # fmt: skip
        for fmt in args.formats.split(","):
            sides = [fastest(t, log, fmt, args.repeat) for t in (before, ROOT)]
            rows = [(fmt, sides)]
            if fmt == "terminal":
                alone = fastest(ROOT, log, fmt, args.repeat, {"OOMSLEUTH_NO_FORK": "1"})
                rows.append(("terminal, 1 process", [sides[0], alone]))
            for label, (old, new) in rows:
                same = MADE.sub("", old[3]) == MADE.sub("", new[3])
                print(f"{label:20} {old[0]:9.2f} {new[0]:8.2f} {old[0] / new[0]:6.2f} "
                      f"{old[1] // 1024:5} {new[1] // 1024:5} {old[2] // 1024:5} {new[2] // 1024:5}"
                      f" {'yes' if same else 'NO'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
