"""Run a command as a fresh process and measure it: wall time, its own peak RSS, stdout.

A small Python process starts the command and times it from just before the start to its
end: the wall time is the command's own, without the measuring process's start-up (~50 ms
here, which would shrink every ratio of two short commands towards 1)."""

from __future__ import annotations

import os
import subprocess
import sys

MEASURE = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)
wall = time.perf_counter() - t0
sys.stdout.buffer.write(proc.stdout)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write(f"{proc.returncode} {wall!r} {rss}\\n")
"""


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall time, peak RSS in kB (of this command alone) and stdout of a fresh process; exit
    codes 0 and 1 (oomsleuth's "found" and "none found") count as success. ``env``: variables
    added to this process's environment."""
    wall, (peak,), out = _measured(MEASURE, argv, env)
    return wall, peak, out


def _measured(
    script: str, argv: list[str], env: dict[str, str] | None
) -> tuple[float, list[int], str]:
    """``argv`` run under the measuring ``script`` (which writes its exit code, the command's
    wall time and then its figures as the last line of stderr): wall time, the figures,
    stdout."""
    proc = subprocess.run(
        [sys.executable, "-c", script, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **env} if env else None,
    )
    code, wall, *figures = proc.stderr.strip().splitlines()[-1].split()
    if code not in ("0", "1"):
        sys.exit(f"failed: {' '.join(argv)}\n{proc.stderr}")
    return float(wall), [int(f) for f in figures], proc.stdout


TREE = """
import os, resource, subprocess, sys, threading, time
def tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out
def pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("Pss:"))
    except (OSError, StopIteration):
        return 0
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
chunks = []
reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()))
reader.start()
peak = 0
while True:
    peak = max(peak, sum(pss(p) for p in tree(proc.pid)))
    try:
        proc.wait(timeout=0.02)  # (returns as soon as the command ends)
        break
    except subprocess.TimeoutExpired:
        pass
wall = time.perf_counter() - t0
reader.join()
sys.stdout.buffer.write(b"".join(chunks))
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write(f"{proc.returncode} {wall!r} {rss} {peak}\\n")
"""


def run_tree(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int, str]:
    """As :func:`run`, and the peak of the summed PSS (proportional set size: shared pages
    split between the processes sharing them) of the command and every process it started,
    sampled every 20 ms, in kB: the memory of a command that forks helpers. The sampling adds
    a little time; compare it with itself."""
    wall, (peak, tree), out = _measured(TREE, argv, env)
    return wall, peak, tree, out


def compiled(*packages: str) -> None:
    """Compile each ``oomsleuth/`` package folder to bytecode first, as ``pip install`` does:
    a process that cannot write ``__pycache__`` (``PYTHONDONTWRITEBYTECODE``, a read-only
    tree) would otherwise compile every changed module from source at each start and time
    that instead of oomsleuth."""
    for package in packages:
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", package],
            check=True,
            stdout=subprocess.DEVNULL,
        )
