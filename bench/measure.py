"""Run a command as a fresh process and measure it: wall time, its own peak RSS, stdout."""

from __future__ import annotations

import os
import subprocess
import sys
import time

MEASURE = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)
sys.stdout.buffer.write(proc.stdout)
sys.stderr.write(f"{proc.returncode} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n")
"""


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall time, peak RSS in kB (of this command alone) and stdout of a fresh process; exit
    codes 0 and 1 (oomsleuth's "found" and "none found") count as success. ``env``: variables
    added to this process's environment."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **env} if env else None,
    )
    wall = time.perf_counter() - t0
    code, peak = proc.stderr.strip().splitlines()[-1].split()
    if code not in ("0", "1"):
        sys.exit(f"failed: {' '.join(argv)}\n{proc.stderr}")
    return wall, int(peak), proc.stdout


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
