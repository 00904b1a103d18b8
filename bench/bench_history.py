#!/usr/bin/env python3
"""Benchmark: correlating one OOM incident with a month of history, against merely reading it.

Generates (in a temporary folder) a month of 1-minute ``sar -r -B -S -q ALL`` text, ``atop -P``
per-process data for 300 processes at atop's default 10-minute interval (plus 1-minute host
lines), and a kernel log holding one real OOM report (fixtures/real/memcg-bystander, moved to the
middle of the month) whose culprit grows in the hour before it. Then, side by side in one run:

  read      a Python process that only reads the same files line by line (the floor)
  analyze   ``oomsleuth analyze KERNEL_LOG --history sar --history atop --format json``
  1 proc    the same with ``OOMSLEUTH_NO_FORK=1``: every file read in one process, one after
            another (no files side by side, no atop text cut in parts); its JSON is compared

  before    the same ``analyze`` by an earlier tree (``--before PATH``: a folder holding an
            ``oomsleuth/`` package, e.g. ``git archive REV oomsleuth | tar -x -C PATH``), on
            ``PYTHONPATH``; its JSON is compared with this tree's

Each is a fresh process, run ``--repeat`` times in turn (the fastest counts: other jobs share
the machine); the script reports wall time, peak RSS (of the largest process: a forked
reader's when it is the largest), the ratio analyze/read and the load average, for several
lengths of history so that linear time and flat memory can be seen.

    python bench/bench_history.py [--days 7,31] [--procs 300] [--repeat 3] [--before PATH]
                                  [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from measure import run

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "fixtures" / "real" / "memcg-bystander.dmesg-iso.txt"
FACTS = ROOT / "fixtures" / "real" / "memcg-bystander.facts.json"
START = datetime(2026, 10, 1, tzinfo=timezone.utc)
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,(\d{6})[+-]\d\d:\d\d ")


def kernel_log(out: Path, kill: datetime) -> None:
    """The real report with its stamps moved to ``kill`` (relative offsets kept)."""
    lines = REPORT.read_text().splitlines()
    first = None
    with out.open("w") as f:
        for line in lines:
            m = ISO.match(line)
            if m is None:
                f.write(line + "\n")
                continue
            t = datetime.fromisoformat(line[: m.end() - 1].replace(",", "."))
            first = first or t
            new = kill + (t - first)
            f.write(new.isoformat().replace(".", ",") + line[m.end() - 1 :] + "\n")


def sar_text(out: Path, days: int) -> None:
    rnd = random.Random(1)
    sections = [
        (
            "kbmemfree   kbavail kbmemused  %memused kbbuffers  kbcached  kbcommit   %commit  "
            "kbactive   kbinact   kbdirty",
            lambda: (
                f"{rnd.randint(1, 9) * 1000000:>12} {rnd.randint(1, 9) * 1000000:>9} "
                f"{400000:>9} {1.7:>9.2f} {11576:>9} {415388:>9} {394480:>9} {1.6:>9.2f} "
                f"{156364:>9} {549612:>9} {4436:>9}"
            ),
        ),
        (
            "pgpgin/s pgpgout/s   fault/s  majflt/s  pgfree/s pgscank/s pgscand/s pgsteal/s"
            "    %vmeff",
            lambda: "    " + "  ".join(f"{rnd.random() * 100:8.2f}" for _ in range(9)),
        ),
        (
            "kbswpfree kbswpused  %swpused  kbswpcad   %swpcad",
            lambda: f"{0:>12} {0:>9} {0.0:>9.2f} {0:>9} {0.0:>9.2f}",
        ),
        (
            "%smem-10  %smem-60 %smem-300     %smem  %fmem-10  %fmem-60 %fmem-300     %fmem",
            lambda: "    " + "  ".join(f"{rnd.random():8.2f}" for _ in range(8)),
        ),
    ]
    with out.open("w") as f:
        for d in range(days):
            day = START + timedelta(days=d)
            f.write(f"Linux 6.1.0-18-amd64 (bench) \t{day:%m/%d/%y} \t_x86_64_\t(2 CPU)\n\n")
            for header, row in sections:
                f.write(f"00:00:01    {header}\n")
                for m in range(1, 1440):
                    t = day + timedelta(minutes=m, seconds=1)
                    f.write(f"{t:%H:%M:%S} {row()}\n")
                f.write("\n")


def atop_text(
    out: Path,
    days: int,
    procs: int,
    kill: datetime,
    culprit: tuple[int, str],
    victim: tuple[int, str],
) -> None:
    rnd = random.Random(2)
    names = [(3000 + i, f"worker-{i % 37}") for i in range(procs - 2)] + [culprit, victim]
    base = {pid: rnd.randint(2000, 90000) for pid, _ in names}
    t = START
    end = START + timedelta(days=days)
    with out.open("w") as f:
        f.write("RESET\n")
        while t < end:
            epoch = int(t.timestamp())
            head = f"bench {epoch} {t:%Y/%m/%d %H:%M:%S} 600"
            f.write(
                f"MEM {head} 4096 6171023 5930415 103883 2896 27013 1144 20943 0 2214 0 0 "
                "2097152 0 0 0 0 0 168 0 942\n"
            )
            f.write(f"SWP {head} 4096 0 0 0 103400 3085511 0 0 0\n")
            f.write(f"PAG {head} 4096 11705513 0 0 0 0 46 0 0 0 11348623 403530\n")
            f.write(
                f"PSI {head} y 0.1 0.2 0.3 18456 0.0 0.1 0.1 11408 0.0 0.0 0.0 6983 0.0 "
                "0.0 0.3 26158 0.0 0.0 0.3 24637\n"
            )
            to_kill = (kill - t).total_seconds()
            for pid, comm in names:
                rss = base[pid]
                if pid == culprit[0] and 0 <= to_kill <= 3600:
                    rss += int((3600 - to_kill) * 20)  # grows 20 kB/s in the last hour
                f.write(
                    f"PRG {head} {pid} ({comm}) S 0 0 {pid} 1 0 {epoch - 86400} () 0 0 1 0 "
                    "0 0 0 0 0 0 0 n 0 0 - N ()\n"
                )
                f.write(
                    f"PRM {head} {pid} ({comm}) S 4096 {rss * 3} {rss} 5308 0 0 0 0 8 "
                    f"40812 132 0 {pid} y 0 48292 -3 -3 -3 -3\n"
                )
            f.write("SEP\n")
            t += timedelta(minutes=10)


READER = """
import sys
n = 0
for name in sys.argv[1:]:
    with open(name, "rb") as f:
        for line in f:
            n += 1
print(n)
"""


def fastest(
    cases: dict[str, tuple[list[str], dict[str, str] | None]], repeat: int
) -> dict[str, tuple[float, int, str]]:
    """Each case's fastest run (wall, peak RSS, stdout), the cases run in turn ``repeat``
    times so that a burst of load from other jobs hits them alike."""
    best: dict[str, tuple[float, int, str]] = {}
    for _ in range(repeat):
        for name, (argv, env) in cases.items():
            got = run(argv, env)
            if name not in best or got[0] < best[name][0]:
                best[name] = got
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--days", default="7,31")
    ap.add_argument("--procs", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each command (fastest)")
    ap.add_argument("--before", type=Path, help="a folder with an earlier oomsleuth/ package")
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = ap.parse_args()
    facts = json.loads(FACTS.read_text())
    roles = {p["role"]: (p["pid"], p["comm"]) for p in facts["processes"]}
    # -P: the working folder is not put first on sys.path (it would beat --before's PYTHONPATH)
    exe = [sys.executable, "-P", "-m", "oomsleuth"]
    print(
        f"{'days':>5} {'sar MB':>7} {'atop MB':>8} {'read s':>7} {'analyze s':>9} "
        f"{'ratio':>6} {'read RSS MB':>11} {'analyze RSS MB':>14} {'1 proc s':>8} {'JSON':>5}"
        + (f" {'before s':>8} {'ratio':>6} {'RSS MB':>6} {'JSON':>5}" if args.before else "")
        + f" {'load avg':>8}  culprit"
    )
    for days in (int(d) for d in args.days.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            folder = args.keep or Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            kill = START + timedelta(days=days // 2, hours=14, minutes=3)
            log, sar, atop = folder / "kern.log", folder / "sar.txt", folder / "atop.txt"
            kernel_log(log, kill)
            sar_text(sar, days)
            atop_text(atop, days, args.procs, kill, roles["leaker"], roles["database"])
            argv = [*exe, "analyze", str(log), "--history", str(sar), "--history", str(atop)]
            cases = {
                "read": ([sys.executable, "-c", READER, str(log), str(sar), str(atop)], None),
                "analyze": ([*argv, "--format", "json"], {"PYTHONPATH": str(ROOT)}),
                "1 proc": (
                    [*argv, "--format", "json"],
                    {"PYTHONPATH": str(ROOT), "OOMSLEUTH_NO_FORK": "1"},
                ),
            }
            if args.before:
                env = {"PYTHONPATH": str(args.before.resolve())}
                cases["before"] = ([*argv, "--format", "json"], env)
            best = fastest(cases, args.repeat)
            (t_read, rss_read, _), (t_an, rss_an, out) = best["read"], best["analyze"]
            culprit = json.loads(out)["incidents"][0]["culprit"]
            mb = 1024 * 1024
            line = (
                f"{days:>5} {sar.stat().st_size / mb:>7.1f} {atop.stat().st_size / mb:>8.1f} "
                f"{t_read:>7.2f} {t_an:>9.2f} {t_an / t_read:>6.1f} {rss_read / 1024:>11.0f} "
                f"{rss_an / 1024:>14.0f}"
            )
            t_one, _, out_one = best["1 proc"]
            line += f" {t_one:>8.2f} {'same' if out_one == out else 'DIFF':>5}"
            if args.before:
                t_b, rss_b, out_b = best["before"]
                same = "same" if out_b == out else "DIFF"
                line += f" {t_b:>8.2f} {t_b / t_read:>6.1f} {rss_b / 1024:>6.0f} {same:>5}"
            load = os.getloadavg()[0]
            print(
                f"{line} {load:>8.2f}  {culprit['comm']} ({culprit['pid']}) {culprit['confidence']}"
            )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    sys.exit(main())
