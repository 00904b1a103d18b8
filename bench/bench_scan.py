#!/usr/bin/env python3
"""Benchmark: oomsleuth on big and dense kernel logs, side by side with grep and Python itself.

Generates, in one temporary folder:

  noise    SIZE MB of ordinary kernel and syslog noise (kern.log framing), no report (the scan)
  noisy    SIZE MB of ordinary kernel and syslog noise (kern.log framing) with REPORTS real OOM
           reports (fixtures/real/*.dmesg.txt, in turn) spread evenly through it, their kernel
           stamps moved onto the noise's clock
  noisy.gz the same, gzip -1
  dense    DENSE reports back to back (per-report cost)
  one      one report (start-up)

and times each as a fresh process, in one run (RSS MB: the peak of oomsleuth's largest process;
all PSS: the peak of the memory of oomsleuth and any process it forked, shared pages split
between them, sampled every 20 ms):

  grep -c 'Killed process' noise         against  oomsleuth analyze noise --format json
  grep -c 'Killed process' noisy         against  oomsleuth analyze noisy --format json
  (the same, pure-Python finder: OOMSLEUTH_NO_HYPERSCAN=1)
  zcat noisy.gz | grep -c ...            against  oomsleuth analyze noisy.gz --format json
  (noise, noisy and noisy.gz also in one process, OOMSLEUTH_NO_FORK=1: no search-ahead process)
  oomsleuth analyze one                  against  dense: (dense - one) / DENSE = per report (also
                                                  in one process: no halves side by side)
  oomsleuth analyze crowd-one            against  crowd: CROWD reports of 151 tasks each (the
                                                  real memcg-crowd capture), per report and row
  oomsleuth analyze global-one           against  global: GLOBAL global reports of the 3.7 era
                                                  (Mem-Info, per-cpu lines), per report
  python -c "import typer"               against  oomsleuth analyze one --format json

    python bench/bench_scan.py [--mb 1024] [--reports 702] [--dense 2000] [--crowd 200]
                               [--global 1000] [--repeat N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from measure import compiled, run, run_tree

ROOT = Path(__file__).resolve().parent.parent
# the reports of the noisy and dense logs (the big task table is a case of its own: CROWD)
REPORTS = sorted(
    p for p in (ROOT / "fixtures" / "real").glob("*.dmesg.txt") if "crowd" not in p.name
)
CROWD = ROOT / "fixtures" / "real" / "memcg-crowd.dmesg.txt"  # one report, a table of 151 tasks
# a global report of the 3.7 era: Mem-Info with per-cpu lines, an [<address>] call trace
GLOBAL = ROOT / "fixtures" / "handwritten" / "k3.7-global-pid-comm.dmesg.txt"
STAMP = re.compile(r"^\[\s*(\d+\.\d+)\]")
ROW = re.compile(r"\] \[\s*\d+\] ")  # a task table row, after its kernel stamp
NOISE = (
    "eth0: Link is Up - 1Gbps/Full - flow control rx/tx",
    "EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro",
    'audit: type=1400 audit({t}:{n}): apparmor="DENIED" operation="open" profile="snap"',
    "TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.",
    "usb 1-1: new high-speed USB device number {n} using xhci_hcd",
    "systemd[1]: Started Session {n} of user ubuntu.",
    "[UFW BLOCK] IN=eth0 OUT= MAC=00:00 SRC=10.0.0.{n8} DST=10.0.0.1 LEN=40 PROTO=TCP",
)


START = datetime(2026, 11, 25)


def _stamp(n: int) -> str:
    """The syslog prefix of noise line ``n`` (50 a second from midnight, 25 Nov: the log spans
    days, and its wall clock and kernel uptime agree throughout)."""
    at = START + timedelta(seconds=n // 50)
    return f"{at:%b} {at.day:2d} {at:%H:%M:%S} web-1 kernel: "


def _report(lines: Path | list[str], uptime: float, stamp: str) -> tuple[list[str], float]:
    """A real report's lines (a file's, or given) in kern.log framing, its kernel stamps moved
    to start at uptime."""
    lines = lines.read_text().splitlines() if isinstance(lines, Path) else lines
    first = next((float(m[1]) for x in lines if (m := STAMP.match(x))), 0.0)
    out, last = [], uptime
    for line in lines:
        m = STAMP.match(line)
        if m:
            last = float(m[1]) - first + uptime
            line = f"[{last:12.6f}]" + line[m.end() :]
        out.append(stamp + line + "\n")
    return out, last


def noisy(path: Path, megabytes: int, reports: int) -> int:
    """Noise with ``reports`` reports spread evenly; returns the number of kills written."""
    rnd = random.Random(3)
    target = megabytes * 1024 * 1024
    every = target // (reports + 1) if reports else target + 1
    written, n, done, kills, batch = 0, 0, 0, 0, []
    with path.open("w") as f:
        while written < target:
            n += 1
            t = n / 50
            text = rnd.choice(NOISE).format(t=int(t), n=n, n8=n % 250)
            line = f"{_stamp(n)}[{t:12.6f}] {text}\n"
            batch.append(line)
            written += len(line)
            if done < reports and written >= every * (done + 1):
                lines, _ = _report(REPORTS[done % len(REPORTS)], t + 0.001, _stamp(n))
                kills += sum("Killed process" in x for x in lines)
                batch += lines
                written += sum(map(len, lines))
                done += 1
            if len(batch) > 10000:
                f.writelines(batch)
                batch = []
        f.writelines(batch)
    return kills


def dense(path: Path, reports: int, sources: list[Path] | None = None) -> None:
    """``reports`` reports back to back, each one report of ``sources`` (REPORTS by default)
    in turn: a source that holds several (memcg-adj holds two) gives them one at a time, so
    the log holds exactly ``reports`` (per report = time / reports)."""
    uptime, pieces = 10.0, [p for s in sources or REPORTS for p in _pieces(s)]
    with path.open("w") as f:
        for i in range(reports):
            lines, uptime = _report(pieces[i % len(pieces)], uptime + 1.0, _stamp(int(uptime * 50)))
            f.writelines(lines)


def _pieces(path: Path) -> list[list[str]]:
    """The lines of ``path`` cut before each report's first line (``invoked oom-killer``)."""
    out: list[list[str]] = []
    for line in path.read_text().splitlines():
        if "invoked oom-killer" in line or not out:
            out.append([])
        out[-1].append(line)
    return out


def _untreed(argv: list[str], env: dict[str, str] | None) -> tuple[float, int, int, str]:
    """:func:`measure.run`, with the all-processes PSS given as the one process's RSS."""
    wall, rss, out = run(argv, env)
    return wall, rss, rss, out


def _kills(out: str) -> int:
    return sum(e["kind"] == "oom_kill" for e in json.loads(out)["events"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--reports", type=int, default=702)
    ap.add_argument("--dense", type=int, default=2000)
    ap.add_argument("--crowd", type=int, default=200, help="reports of the big task table")
    ap.add_argument("--global", type=int, default=1000, dest="globals", help="global reports")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each command; the fastest")
    ap.add_argument("--keep", type=Path, help="a folder to write the generated logs to")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        log, gz, packed, one = (
            folder / n for n in ("noisy.log", "noisy.log.gz", "dense.log", "one.log")
        )
        if not (log.exists() and gz.exists()):  # a --keep folder from an earlier run is reused
            noisy(log, args.mb, args.reports)
            with log.open("rb") as src, gzip.open(gz, "wb", compresslevel=1) as dst:
                while block := src.read(1 << 22):
                    dst.write(block)
        quiet = folder / "noise.log"
        if not quiet.exists():
            noisy(quiet, args.mb, 0)
        dense(packed, args.dense)
        crowd, crowd_one = folder / "crowd.log", folder / "crowd-one.log"
        dense(crowd, args.crowd, [CROWD])
        dense(crowd_one, 1, [CROWD])
        wide, wide_one = folder / "global.log", folder / "global-one.log"
        dense(wide, args.globals, [GLOBAL])
        dense(wide_one, 1, [GLOBAL])
        dense(one, 1)
        lines = sum(1 for _ in log.open("rb"))
        kills = sum(b"Killed process" in x for x in log.open("rb"))
        size = log.stat().st_size / 2**20
        print(f"noisy log: {size:.0f} MB, {lines:,} lines, {kills} 'Killed process' lines")
        print(f"dense log: {args.dense} reports back to back; start-up: one report", flush=True)
        analyze = [sys.executable, "-m", "oomsleuth", "analyze"]
        compiled(str(Path(__file__).resolve().parent.parent / "oomsleuth"))

        rows = []

        def pair(
            name: str,
            base: list[str],
            ours: list[str],
            env: dict[str, str] | None = None,
            times: int = 0,
        ) -> None:
            """The fastest of ``times`` (--repeat) runs of each, taken in turn so that both see
            the same machine (a shared machine only ever adds time); the memory of all of
            oomsleuth's processes sampled too, but for runs of tens of ms (``times``)."""
            measure = run_tree if not times else _untreed
            runs = [(run(base), measure(ours, env)) for _ in range(times or args.repeat)]
            t_base, rss_base, _ = min((b for b, _ in runs), key=lambda r: r[0])
            t_ours, rss, tree, out = min((o for _, o in runs), key=lambda r: r[0])
            rows.append((name, t_base, t_ours, rss_base, rss, _kills(out)))
            print(f"{name:<22} {t_base:>10.3f} {t_ours:>11.3f} {t_ours / t_base:>6.2f} ", end="")
            print(f"{rss_base / 1024:>11.0f} {rss / 1024:>6.0f} {tree / 1024:>7.0f} ", end="")
            print(_kills(out), flush=True)

        print(f"{'case':<22} {'baseline s':>10} {'oomsleuth s':>11} {'ratio':>6} ", end="")
        print(f"{'base RSS MB':>11} {'RSS MB':>6} {'all PSS':>7} kills", flush=True)

        grep = ["grep", "-c", "Killed process"]
        pair("noise only", [*grep, str(quiet)], [*analyze, str(quiet), "--format", "json"])
        pair(
            "noisy",
            ["grep", "-c", "Killed process", str(log)],
            [*analyze, str(log), "--format", "json"],
        )
        one_process = {"OOMSLEUTH_NO_FORK": "1"}  # no search-ahead process
        pair("noise, 1 process", [*grep, str(quiet)],
             [*analyze, str(quiet), "--format", "json"], one_process)  # fmt: skip
        pair("noisy, 1 process", ["grep", "-c", "Killed process", str(log)],
             [*analyze, str(log), "--format", "json"], one_process)  # fmt: skip
        pair("noisy, pure Python", ["grep", "-c", "Killed process", str(log)],
             [*analyze, str(log), "--format", "json"], {"OOMSLEUTH_NO_HYPERSCAN": "1"})  # fmt: skip
        zgrep = ["sh", "-c", f"zcat '{gz}' | grep -c 'Killed process'"]
        pair("noisy.gz", zgrep, [*analyze, str(gz), "--format", "json"])
        pair("noisy.gz, 1 process", zgrep, [*analyze, str(gz), "--format", "json"], one_process)
        pair(f"dense ({args.dense})", [*analyze, str(one), "--format", "json"],
             [*analyze, str(packed), "--format", "json"])  # fmt: skip
        pair("dense, 1 process", [*analyze, str(one), "--format", "json"],
             [*analyze, str(packed), "--format", "json"], one_process)  # fmt: skip
        pair(f"crowd ({args.crowd})", [*analyze, str(crowd_one), "--format", "json"],
             [*analyze, str(crowd), "--format", "json"])  # fmt: skip
        pair(f"global ({args.globals})", [*analyze, str(wide_one), "--format", "json"],
             [*analyze, str(wide), "--format", "json"])  # fmt: skip
        pair(
            "start-up",
            [sys.executable, "-c", "import typer"],
            [*analyze, str(one), "--format", "json"],
            times=max(args.repeat, 15),  # tens of ms: one slow run of either would decide
        )
        for case in ("dense (", "dense, 1 process"):
            t_one, t_dense = next(r[1:3] for r in rows if r[0].startswith(case))
            per = (t_dense - t_one) / args.dense * 1000
            print(f"per report, ({case.strip(' (')} - one) / {args.dense}: {per:.2f} ms")
        t_one, t_crowd = next(r[1:3] for r in rows if r[0].startswith("crowd"))
        per = (t_crowd - t_one) / args.crowd * 1000
        rows_each = sum(ROW.search(x) is not None for x in CROWD.open())
        print(f"per crowd report, (crowd - one) / {args.crowd}: {per:.2f} ms ", end="")
        print(f"({per / rows_each * 1000:.1f} us a task row of {rows_each}, with the rest)")
        t_one, t_wide = next(r[1:3] for r in rows if r[0].startswith("global"))
        per = (t_wide - t_one) / args.globals * 1000
        print(f"per global report, (global - one) / {args.globals}: {per:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
