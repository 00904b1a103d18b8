#!/usr/bin/env python3
"""Benchmark: scanning a big kernel log for OOM reports, side by side with grep.

Generates a kern.log of SIZE MB of ordinary kernel and syslog noise with one real OOM report
(fixtures/real/memcg-bystander) in the middle, then times, each as a fresh process:

  grep      grep -c 'Killed process' LOG            (the floor: a C scan that only counts)
  analyze   oomsleuth analyze LOG --format json     (finds and parses the report)

and prints wall times, the ratio and oomsleuth's peak RSS.

    python bench/bench_scan.py [--mb 200] [--keep FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

from measure import run

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "fixtures" / "real" / "memcg-bystander.dmesg.txt"
NOISE = (
    "eth0: Link is Up - 1Gbps/Full - flow control rx/tx",
    "EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro",
    'audit: type=1400 audit({t}:{n}): apparmor="DENIED" operation="open" profile="snap"',
    "TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.",
    "usb 1-1: new high-speed USB device number {n} using xhci_hcd",
    "systemd[1]: Started Session {n} of user ubuntu.",
    "[UFW BLOCK] IN=eth0 OUT= MAC=00:00 SRC=10.0.0.{n8} DST=10.0.0.1 LEN=40 PROTO=TCP",
)


def generate(path: Path, megabytes: int) -> None:
    rnd = random.Random(3)
    report = REPORT.read_text().splitlines()
    target = megabytes * 1024 * 1024
    written, n, inserted = 0, 0, False
    with path.open("w") as f:
        while written < target:
            n += 1
            t = n / 50
            text = rnd.choice(NOISE).format(t=int(t), n=n, n8=n % 250)
            stamp = f"Nov 25 10:{(n // 3000) % 60:02d}:{(n // 50) % 60:02d}"
            line = f"{stamp} web-1 kernel: [{t:12.6f}] {text}\n"
            written += f.write(line)
            if not inserted and written >= target // 2:
                inserted = True
                for r in report:
                    written += f.write(f"Nov 25 10:30:00 web-1 kernel: {r}\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--keep", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = args.keep or Path(tmp) / "kern.log"
        generate(log, args.mb)
        lines = sum(1 for _ in log.open("rb"))
        t_grep, _, _ = run(["grep", "-c", "Killed process", str(log)])
        t_an, rss, out = run(
            [sys.executable, "-m", "oomsleuth", "analyze", str(log), "--format", "json"]
        )
        kills = [e for e in json.loads(out)["events"] if e["kind"] == "oom_kill"]
        print(
            f"{'MB':>6} {'lines':>10} {'grep s':>7} {'analyze s':>9} {'ratio':>6} "
            f"{'us/line':>7} {'RSS MB':>6} kills"
        )
        print(
            f"{args.mb:>6} {lines:>10} {t_grep:>7.2f} {t_an:>9.2f} {t_an / t_grep:>6.0f} "
            f"{t_an / lines * 1e6:>7.2f} {rss / 1024:>6.0f} {len(kills)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
