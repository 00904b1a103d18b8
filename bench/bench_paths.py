#!/usr/bin/env python3
"""Benchmark: what the changes to some paths since REV are worth, alone, in one run.

``bench_before_after.py`` compares a whole earlier tree with this one, so it also counts what
others changed meanwhile. Here both sides are this commit (``HEAD``, never the working tree,
which may hold others' unfinished edits): "before" with PATHS (files or folders of
``oomsleuth/``) as they were at REV, "after" as committed. The rest is bench_before_after's
measurement: a dense log of DENSE real reports back to back and one report (bench_scan's
generator), each side run as fresh processes, fastest of --repeat, per report = (dense - one) /
DENSE; the two JSON outputs are compared. The load average is printed before and after.

    python bench/bench_paths.py --rev 213ba21 oomsleuth/frame oomsleuth/parsers oomsleuth/clock \\
        oomsleuth/scanner.py oomsleuth/correlate [--dense 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_before_after import LAUNCH, MAIN, ROOT, extract
from bench_scan import dense
from measure import compiled, run


def git(*args: str) -> bytes:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=True).stdout


def rewind(folder: Path, rev: str, paths: list[str]) -> list[str]:
    """Put the files under ``paths`` back as they were at ``rev`` (removed if new since)."""
    changed = git("diff", "--name-only", rev, "HEAD", "--", *paths).decode().split()
    for name in changed:
        target = folder / name
        try:
            text = git("show", f"{rev}:{name}")
        except subprocess.CalledProcessError:
            target.unlink(missing_ok=True)  # a file added since rev
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text)
    return changed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rev", required=True, help="the revision PATHS go back to (git)")
    ap.add_argument("paths", nargs="+", help="files or folders of oomsleuth/")
    ap.add_argument("--dense", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print("load average", os.getloadavg(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        before, after = Path(tmp) / "before", Path(tmp) / "after"
        extract("HEAD", before)
        extract("HEAD", after)
        changed = rewind(before, args.rev, args.paths)
        print(f"{len(changed)} files as at {args.rev}: {' '.join(changed)}", flush=True)
        compiled(str(before / "oomsleuth"), str(after / "oomsleuth"))
        packed, one = Path(tmp) / "dense.log", Path(tmp) / "one.log"
        dense(packed, args.dense)
        dense(one, 1)
        rows: dict[str, dict[str, float]] = {"before": {}, "after": {}}
        outs: dict[str, str] = {}
        print(f"{'case':<26} {'before s':>9} {'after s':>9}", flush=True)
        for case, log in (("one report to JSON", one), (f"dense ({args.dense}) to JSON", packed)):
            for side, path in (("before", before), ("after", after)):
                argv = [sys.executable, "-c", LAUNCH + MAIN, str(path), "analyze", str(log)]
                runs = [run([*argv, "--format", "json"]) for _ in range(args.repeat)]
                rows[side][case], _, outs[side] = min(runs, key=lambda r: r[0])
            print(f"{case:<26} {rows['before'][case]:>9.3f} {rows['after'][case]:>9.3f}")
        print(f"dense JSON identical: {outs['before'] == outs['after']}")
        for side, r in rows.items():
            t_one, t_dense = r.values()
            print(f"{side}: {(t_dense - t_one) / args.dense * 1000:.2f} ms per report")
    print("load average", os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
