"""The report never costs evidence: ``-o`` onto an input is refused, an interrupted or failed
write leaves the old file as it was and no temporary file, and the exit codes are the documented
ones (2 with one line ``cannot write ...``, 130 on Ctrl-C, as if all was written under ``| head``).
Through the real CLI, in subprocesses."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "fixtures" / "real" / "memcg-bystander.dmesg.txt"
HISTORY = ROOT / "fixtures" / "incidents" / "sidecar-leak-kills-db" / "atop-P.txt"
STAMP = re.compile(rb"^\[\s*(\d+\.\d+)\]")
CLI = [sys.executable, "-m", "oomsleuth", "analyze"]


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def one_line(stderr: str, start: str) -> None:
    assert stderr.count("\n") == 1 and stderr.startswith(f"oomsleuth: error: {start}"), stderr
    assert "Traceback" not in stderr


def many_reports(path: Path, copies: int = 60) -> Path:
    """The real report repeated with later stamps: a report that takes seconds to render."""
    out = []
    for i in range(copies):
        for line in LOG.read_bytes().splitlines():
            m = STAMP.match(line)
            if m:
                line = b"[%12.6f]" % (float(m[1]) + 100 * i) + line[m.end() :]
            out.append(line)
    path.write_bytes(b"\n".join(out) + b"\n")
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "history"])
def test_output_onto_an_input_is_refused(how: str, tmp_path: Path) -> None:
    log = tmp_path / "kern.log"
    log.write_bytes(LOG.read_bytes())
    history = tmp_path / "atop.txt"
    history.write_bytes(HISTORY.read_bytes())
    target = {"same": log, "history": history}.get(how, tmp_path / "report.txt")
    if how == "symlink":
        target.symlink_to(log)
    elif how == "hardlink":
        os.link(log, target)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (log, history)}
    proc = cli(str(log), "--history", str(history), "-o", str(target))
    assert proc.returncode == 2
    one_line(proc.stderr, "refusing to write the report over ")
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (log, history)} == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt", ["terminal", "html"])
def test_ctrl_c_while_rendering_keeps_the_old_report(fmt: str, tmp_path: Path) -> None:
    log = many_reports(tmp_path / "kern.log")
    report = tmp_path / "report.out"
    report.write_text("yesterday's report\n")
    proc = subprocess.Popen(
        [*CLI, str(log), "-f", fmt, "-o", str(report)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    end = time.monotonic() + 60
    while not leftovers(tmp_path) and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.002)  # the temporary file appears when rendering starts
    assert leftovers(tmp_path), "rendering never started, or ended before it was seen"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err == "oomsleuth: interrupted\n"
    assert report.read_text() == "yesterday's report\n"
    assert leftovers(tmp_path) == []


def test_dev_full_is_one_line_cannot_write() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    proc = cli(str(LOG), "-o", "/dev/full")
    assert proc.returncode == 2
    one_line(proc.stderr, "cannot write /dev/full: no space left on device")


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 64 KiB tmpfs (root only: skipped where mount is not allowed)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_full_disk_keeps_the_old_report(small_disk: Path, tmp_path: Path) -> None:
    log = many_reports(tmp_path / "kern.log", copies=20)
    report = small_disk / "report.txt"
    report.write_text("yesterday's report\n")
    proc = cli(str(log), "-o", str(report))
    assert proc.returncode == 2
    one_line(proc.stderr, f"cannot write {report}: no space left on device")
    assert report.read_text() == "yesterday's report\n"
    assert leftovers(small_disk) == []


def test_a_pipe_closed_early_exits_as_if_all_was_written(tmp_path: Path) -> None:
    """``oomsleuth analyze LOG | head -1``: the reader closed the pipe; the exit code still
    says what was found (0), not a write error."""
    log = many_reports(tmp_path / "kern.log", copies=5)
    for fmt in ("terminal", "json", "md"):
        shell = f"{' '.join(CLI)} {log} -f {fmt} | head -c 10 >/dev/null; exit ${{PIPESTATUS[0]}}"
        proc = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (fmt, proc.stderr)
        assert proc.stderr == "", (fmt, proc.stderr)


def test_ctrl_c_while_reading_is_one_line_and_130(tmp_path: Path) -> None:
    """Stuck reading a FIFO whose writer paused: Ctrl-C ends it the same way."""
    fifo = tmp_path / "kmsg.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [*CLI, str(fifo), "-o", str(tmp_path / "report.txt")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with fifo.open("wb") as writer:
        writer.write(LOG.read_bytes()[:2000])
        writer.flush()
        time.sleep(1.5)  # the reader has the first lines and waits for more
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err == "oomsleuth: interrupted\n"
    assert leftovers(tmp_path) == [] and not (tmp_path / "report.txt").exists()
