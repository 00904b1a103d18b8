"""The command line as a user meets it: exit codes, stdin, errors without tracebacks."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real"
EXAMPLE = REAL / "memcg-bystander.dmesg.txt"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "oomsleuth", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": "100", "TZ": "UTC"},
    )


def events(proc: subprocess.CompletedProcess[bytes]) -> list[dict[str, object]]:
    doc = json.loads(proc.stdout)
    assert doc["schema_version"] == 1
    return list(doc["events"])


def test_found_events_exit_0_and_json_on_stdout() -> None:
    proc = run("analyze", str(EXAMPLE), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    kills = [e for e in events(proc) if e["kind"] == "oom_kill"]
    facts = json.loads((REAL / "memcg-bystander.facts.json").read_text())
    victim = next(p for p in facts["processes"] if "OOM kill" in p["fate"])
    assert [k["victim"]["pid"] for k in kills] == [victim["pid"]]  # type: ignore[index]


def test_stdin_dash_reads_the_same_as_the_file() -> None:
    from_file = run("analyze", str(EXAMPLE), "--format", "json")
    from_stdin = run("analyze", "-", "--format", "json", stdin=EXAMPLE.read_bytes())
    assert from_stdin.returncode == 0
    strip = ("source",)
    a = [{k: v for k, v in e.items() if k not in strip} for e in events(from_file)]
    b = [{k: v for k, v in e.items() if k not in strip} for e in events(from_stdin)]
    assert a == b


def test_no_oom_in_input_exits_1(tmp_path: Path) -> None:
    log = tmp_path / "kern.log"
    log.write_text("Nov 25 10:00:00 host kernel: [    1.000000] Linux version 6.1.0\n" * 3)
    proc = run("analyze", str(log), "--format", "json")
    assert proc.returncode == 1
    assert events(proc) == []


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda d: str(d / "missing.log"), "no such file"),
        (lambda d: str(d), "no log files"),
        (lambda d: _binary(d), "binary"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, make: object, needle: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    proc = run("analyze", path)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert needle in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert proc.stdout == b""


def _binary(d: Path) -> str:
    p = d / "junk.bin"
    p.write_bytes(bytes(range(256)) * 64)
    return str(p)


def test_bad_usage_exits_2() -> None:
    proc = run("analyze", "--format", "yaml", str(EXAMPLE))
    assert proc.returncode == 2
    assert b"Traceback" not in proc.stderr


def test_directory_and_compressed_inputs(tmp_path: Path) -> None:
    logs = tmp_path / "var" / "log"
    logs.mkdir(parents=True)
    (logs / "kern.log.1.gz").write_bytes(gzip.compress(EXAMPLE.read_bytes()))
    (logs / "unrelated.conf").write_text("Killed process 1 (init) total-vm:1kB\n")
    proc = run("analyze", str(tmp_path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    kills = [e for e in events(proc) if e["kind"] == "oom_kill"]
    assert len(kills) == 1
    assert str(kills[0]["source"]).endswith("kern.log.1.gz")


def test_output_file_and_terminal_format(tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    proc = run("analyze", str(EXAMPLE), "-o", str(out), "--width", "100")
    assert proc.returncode == 0
    text = out.read_text()
    assert "steady-db" in text
    assert "\x1b" not in text  # a file never gets colour codes


def test_year_and_tz_place_syslog_stamps(tmp_path: Path) -> None:
    line = (
        "Jan  5 15:19:27 host kernel: [ 5864.708608] Killed process 13536 (memorymonster) "
        "total-vm:33558652kB, anon-rss:920kB, file-rss:452kB\n"
    )
    log = tmp_path / "messages"
    log.write_text(line)
    proc = run("analyze", str(log), "--format", "json", "--year", "2015", "--tz", "Europe/Paris")
    (kill,) = events(proc)
    assert kill["time"] == "2015-01-05T15:19:27+01:00"
    assert kill["time_confidence"] == "estimated"
    bad = run("analyze", str(log), "--tz", "Mars/Olympus")
    assert bad.returncode == 2 and b"unknown time zone" in bad.stderr


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith("oomsleuth ")
