"""oomsleuth fleet on a local Dask cluster against oomsleuth.analyze host by host in one process.

    python bench/bench_fleet.py --hosts 200,1000 [--workers 2]

Builds a tree of N host folders from the fixtures (real captures in several framings, a
hand-written RHEL rsyslog report, a journal export, userspace killers, real incidents with their
pidstat and PSI history: eight kinds of host, repeated), then, each in a fresh process:

- **one process**: ``oomsleuth.analyze(host)`` for every host in turn, rows made as fleet makes
  them (the baseline: what a loop over the hosts costs);
- **fleet**: ``oomsleuth.fleet(tree, kills.parquet, scheduler=...)`` on the local cluster
  ``oomsleuth fleet`` starts (``oomsleuth.fleet.run.local_cluster``), started beforehand (its
  start-up is timed apart), then every worker's peak RSS (``ru_maxrss``).

Both must find the same number of rows. Prints a Markdown table (bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
KINDS = [
    ["real/memcg-bystander.dmesg-iso.txt", "real/memcg-bystander.kmsg.txt"],
    ["real/memcg-names.dmesg-iso.txt", "real/memcg-names.dmesg-T.txt"],
    ["real/memcg-adj.dmesg-T.txt"],
    ["handwritten/k5.14-el9-memcg-v2.rsyslog.log"],
    ["handwritten/k6.1-memcg-v2.journal.json"],
    ["userspace/earlyoom-current-syslog.log"],
    [f"incidents/sidecar-leak-kills-db/{n}" for n in ("kern-dmesg-iso.txt", "pidstat-r.txt")],
    [f"incidents/repeated-kills-restart/{n}" for n in ("kern-dmesg-iso.txt", "psi-cgroup.txt")],
]

BASELINE = """
import json, resource, sys, time
from pathlib import Path
import oomsleuth
from oomsleuth.fleet.rows import report_rows
t0 = time.perf_counter()
rows = 0
for host in sorted(Path(sys.argv[1]).iterdir()):
    rows += len(report_rows(oomsleuth.analyze([str(host)], tz="UTC"), host.name))
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": rows,
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

FLEET = """
import json, resource, sys, time
import oomsleuth
from oomsleuth.fleet.run import local_cluster
t0 = time.perf_counter()
with local_cluster(int(sys.argv[3])) as client:  # the cluster oomsleuth fleet starts
    start = time.perf_counter() - t0
    t1 = time.perf_counter()
    result = oomsleuth.fleet([sys.argv[1]], sys.argv[2], scheduler=client.scheduler.address,
                             tz="UTC")
    seconds = time.perf_counter() - t1
    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
print(json.dumps({"seconds": seconds, "start": start, "rows": len(result.rows),
                  "errors": len(result.errors), "bytes": result.size_bytes,
                  "worker_peak_kb": sorted(peaks.values()),
                  "driver_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def build(tree: Path, hosts: int) -> int:
    """``hosts`` host folders, kinds in turn; returns the bytes written."""
    size = 0
    for i in range(hosts):
        folder = tree / f"host-{i:05d}"
        folder.mkdir(parents=True)
        for name in KINDS[i % len(KINDS)]:
            shutil.copy2(FIX / name, folder / Path(name).name)
            size += (FIX / name).stat().st_size
    return size


def run(code: str, *args: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT
    )
    if proc.returncode != 0:
        sys.exit(f"failed:\n{proc.stderr[-3000:]}")
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hosts", default="1000", help="comma-separated host counts")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    print(
        "| hosts | MB | one process s | hosts/s | MB/s | fleet s | hosts/s | MB/s | speed-up "
        "| cluster start s | rows | worker peak RSS MB | one process peak RSS MB |"
    )
    print("|" + "---:|" * 13)
    for hosts in (int(h) for h in args.hosts.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench-fleet-") as scratch:
            tree = Path(scratch) / "hosts"
            size = build(tree, hosts)
            base = run(BASELINE, str(tree))
            fleet = run(FLEET, str(tree), str(Path(scratch) / "kills.parquet"), str(args.workers))
        if base["rows"] != fleet["rows"] or fleet["errors"]:
            sys.exit(f"rows differ: one process {base}, fleet {fleet}")
        mb = size / 1e6
        b, f = float(base["seconds"]), float(fleet["seconds"])  # type: ignore[arg-type]
        peaks = [kb / 1024 for kb in fleet["worker_peak_kb"]]  # type: ignore[attr-defined]
        print(
            f"| {hosts} | {mb:.1f} | {b:.1f} | {hosts / b:.0f} | {mb / b:.2f} | {f:.1f} "
            f"| {hosts / f:.0f} | {mb / f:.2f} | {b / f:.2f} | {fleet['start']:.1f} "
            f"| {fleet['rows']} | {' / '.join(f'{p:.0f}' for p in peaks)} "
            f"| {int(base['peak_kb']) / 1024:.0f} |",  # type: ignore[call-overload]
            flush=True,
        )
    print(f"\n{args.workers} workers, {os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
