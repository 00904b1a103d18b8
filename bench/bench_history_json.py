#!/usr/bin/env python3
"""Benchmark: a big Prometheus ``query_range`` response as history, in bounded memory.

Generates (in a temporary folder) one compact, one-line ``query_range`` response of node_exporter
series at a 1-second step (what ``curl .../api/v1/query_range?...&step=1`` saves) whose range
holds the kill of a real OOM report (fixtures/real/memcg-bystander), for each size asked. Then,
side by side in one run, each a fresh process:

  read        a Python process that only reads the file in 64 KiB chunks (the floor)
  json.load   ``json.load`` of the whole file (what a non-streaming reader costs; only for sizes
              up to --load-max MB: it needs about ten times the file in memory)
  analyze     ``oomsleuth analyze KERNEL_LOG --history FILE --format json``

and reports wall time, peak RSS, and the samples analyze kept around the kill.

    python bench/bench_history_json.py [--mb 100,1000] [--series 8] [--load-max 300] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from measure import run

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "fixtures" / "real" / "memcg-bystander.dmesg-iso.txt"
GAUGES = ["MemAvailable", "MemFree", "Cached", "Buffers", "SwapFree", "Shmem", "AnonPages"]
POINT_BYTES = 25  # ``[1795646000,"1234567890"],``
READ = "import sys\nf = open(sys.argv[1], 'rb')\nwhile f.read(1 << 16):\n    pass\n"
LOAD = "import json, sys\njson.load(open(sys.argv[1], 'rb'))\n"


def kill_time() -> float:
    first = REPORT.read_text().split(" ", 1)[0].replace(",", ".")
    return datetime.fromisoformat(first).timestamp()


def series_names(count: int) -> list[str]:
    names = [f"node_memory_{g}_bytes" for g in GAUGES]
    names += ["node_pressure_memory_waiting_seconds_total", "node_vmstat_pgscan_direct"]
    return (names * (count // len(names) + 1))[:count]


def write_response(out: Path, mb: int, series: int) -> int:
    """A one-line response of ``series`` series, ``mb`` MB in all, ending 5 minutes after the
    kill; returns the points per series."""
    points = mb * 1_000_000 // series // POINT_BYTES
    end = int(kill_time()) + 300
    start = end - points
    with out.open("w") as f:
        f.write('{"status":"success","data":{"resultType":"matrix","result":[')
        for i, name in enumerate(series_names(series)):
            metric = {"__name__": name, "instance": f"web1:{9100 + i}", "job": "node"}
            f.write(("," if i else "") + '{"metric":' + json.dumps(metric) + ',"values":[')
            counter = name.endswith(("_total", "_direct"))
            for block in range(start, end, 100_000):
                stop = min(block + 100_000, end)
                f.write(
                    ("," if block > start else "")
                    + ",".join(
                        f'[{t},"{(t - start) * 7 if counter else 4_000_000_000 - t % 100_000}"]'
                        for t in range(block, stop)
                    )
                )
            f.write("]}")
        f.write("]}}\n")
    return points


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", default="100,1000", help="sizes of the response, MB, comma-separated")
    ap.add_argument("--series", type=int, default=8)
    ap.add_argument("--load-max", type=int, default=300, help="json.load only up to this size")
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep the files")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="oomsleuth-bench-")
    folder = args.keep or Path(tmp.name)
    folder.mkdir(parents=True, exist_ok=True)
    cli = [sys.executable, "-m", "oomsleuth"]
    print(
        "| MB | series × points | read s | read MB | json.load s | json.load MB "
        "| analyze s | analyze peak RSS MB | samples kept |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for mb in (int(x) for x in args.mb.split(",")):
        path = folder / f"query_range-{mb}mb.json"
        points = write_response(path, mb, args.series)
        size = path.stat().st_size / 1e6
        read_s, read_kb, _ = run([sys.executable, "-c", READ, str(path)])
        load = "—", "—"
        if mb <= args.load_max:
            load_s, load_kb, _ = run([sys.executable, "-c", LOAD, str(path)])
            load = f"{load_s:.2f}", f"{load_kb / 1024:.0f}"
        wall, peak, out = run([*cli, "analyze", str(REPORT), "--history", str(path), "-f", "json"])
        kept = json.loads(out)["history"]["samples_kept"]
        print(
            f"| {size:,.0f} | {args.series} × {points:,} | {read_s:.2f} | {read_kb / 1024:.0f} "
            f"| {load[0]} | {load[1]} | {wall:.1f} | {peak / 1024:.0f} | {kept} |",
            flush=True,
        )
        if args.keep is None:
            path.unlink()


if __name__ == "__main__":
    main()
