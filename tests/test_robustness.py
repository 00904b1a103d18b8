"""Evidence is never lost to a bad stretch: every real log we have (fixtures, and the shared
corpus read in place when present), cut at any line or mutated as logs get damaged, still
gives every kill whose own lines are intact, without a crash or a hang; damaged rotations and
FIFOs in a folder cost a warning, never the run.

The default run cuts each log at sampled points (around every kill, and a few more) and applies
each mutation once (about a minute); the ``slow`` run (which ``.ci/run`` runs: it deselects
nothing) cuts each log at 30 more lines (every line of the short ones) and applies the random
mutations with two more seeds (about three minutes on two cores).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest
import robust
from robust import Log, Mutated, deadline, found, logs, run

ROOT = Path(__file__).resolve().parent.parent
LOGS = logs()
IDS = [str(log.path.relative_to(log.path.parents[1])) for log in LOGS]
MUTATIONS = ("flips", "glued", "duplicated", "junk_head", "crlf", "utf16")


def test_there_are_real_logs_with_kills() -> None:
    fixtures = [log for log in LOGS if robust.CORPUS not in log.path.parents]
    assert len(fixtures) >= 130 and sum(len(log.kills) for log in fixtures) >= 280
    if robust.CORPUS.is_dir():  # the shared corpus, read in place
        assert len(LOGS) - len(fixtures) >= 20  # the others hold no kill (negative cases)


def _cut(log: Log, tmp: Path, cut: int, chars: int = 0) -> None:
    """The log's first ``cut`` lines (and ``chars`` characters of the next): every kill whose
    lines all lie in it is found."""
    lines = log.lines
    data = b"\n".join(lines[:cut]) + b"\n" + (lines[cut][:chars] if cut < len(lines) else b"")
    path = tmp / "prefix.log"
    path.write_bytes(data)
    with deadline(30):
        got = found(run(path))
    want = {key for key, (_, last) in log.kills.items() if last <= cut}
    assert want <= got, f"{log.path} cut after line {cut}: lost {sorted(want - got)}"


def _cuts(log: Log) -> list[int]:
    n = len(log.lines)
    around = {line + d for line, _ in log.kills for d in (-1, 0, robust.MARGIN)}
    return sorted({c for c in (*around, n // 3, 2 * n // 3) if 0 < c < n})


@pytest.mark.parametrize("log", LOGS, ids=IDS)
def test_every_prefix_keeps_its_intact_kills(log: Log, tmp_path: Path) -> None:
    for cut in _cuts(log):
        _cut(log, tmp_path, cut, chars=cut % 37)


@pytest.mark.slow
@pytest.mark.parametrize("log", LOGS, ids=IDS)
def test_prefixes_at_many_lines(log: Log, tmp_path: Path) -> None:
    """Every line of a log of up to 30 lines, 30 lines spread over a longer one."""
    n = len(log.lines)
    for cut in sorted({max(1, i * n // 30) for i in range(30)} - {n}):
        _cut(log, tmp_path, cut)


def _mutated(log: Log, how: str, seed: int) -> Mutated:
    rnd = random.Random(f"{log.path.name}:{how}:{seed}")
    if how in ("crlf", "utf16"):
        return getattr(robust, how)(log.lines)  # type: ignore[no-any-return]
    return getattr(robust, how)(log.lines, rnd)  # type: ignore[no-any-return]


def _check(log: Log, how: str, seed: int, tmp: Path) -> None:
    mutated = _mutated(log, how, seed)
    path = tmp / "mutated.log"
    path.write_bytes(mutated.data)
    with deadline(30):
        got = found(run(path))
    want = mutated.intact(log)
    assert want <= got, f"{log.path} {how} (seed {seed}): lost {sorted(want - got)}"


@pytest.mark.parametrize("how", MUTATIONS)
def test_mutations_keep_every_intact_kill(how: str, tmp_path: Path) -> None:
    for log in LOGS:
        _check(log, how, 0, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("how", ("flips", "glued", "duplicated", "junk_head"))
def test_mutations_with_more_seeds(how: str, tmp_path: Path) -> None:
    for seed in (1, 2):
        for log in LOGS:
            _check(log, how, seed, tmp_path)


# -- a folder of rotations, some damaged, and FIFOs ----------------------------------------------

INCIDENTS = ROOT / "fixtures" / "incidents"


def _pids(path: Path) -> set[int]:
    return {pid for _, pid in found(run(path))}


def _cli(
    *args: str, timeout: float = 120, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "oomsleuth", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=stdin)


def test_damaged_rotations_and_fifos_in_a_folder(tmp_path: Path) -> None:
    """kern.log and kern.log.1 are whole; kern.log.2.gz is cut short, kern.log.3.gz corrupt
    in its middle, kern.log.4.gz corrupt in its header; two FIFOs nobody writes to sit beside
    them. The run ends, names each damaged file, and keeps every kill of the whole files and
    of what the cut rotation still holds."""
    logs_dir = tmp_path / "log"
    logs_dir.mkdir()
    whole = {
        "kern.log": INCIDENTS / "sidecar-leak-kills-db" / "kern-dmesg-iso.txt",
        "kern.log.1": INCIDENTS / "repeated-kills-restart" / "kern-dmesg-iso.txt",
    }
    for name, src in whole.items():
        (logs_dir / name).write_bytes(src.read_bytes())
    cut_src = (INCIDENTS / "tmpfs-fills-memory" / "kern-dmesg-iso.txt").read_bytes()
    packed = gzip.compress(cut_src)
    (logs_dir / "kern.log.2.gz").write_bytes(packed[: len(packed) * 3 // 5])
    corrupt = bytearray(
        gzip.compress((INCIDENTS / "leaker-kills-itself" / "kern-dmesg-iso.txt").read_bytes())
    )
    corrupt[len(corrupt) // 2 : len(corrupt) // 2 + 64] = bytes(64)
    (logs_dir / "kern.log.3.gz").write_bytes(corrupt)
    header = bytearray(gzip.compress(cut_src))
    header[10:40] = b"\xff" * 30
    (logs_dir / "kern.log.4.gz").write_bytes(header)
    os.mkfifo(logs_dir / "kern.log.5")
    os.mkfifo(logs_dir / "syslog")
    proc = _cli("analyze", str(logs_dir), "--tz", "UTC", "-f", "json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    pids = {v["pid"] for inc in doc["incidents"] for v in inc["victims"]}
    for src in whole.values():
        assert _pids(src) <= pids
    for name in ("kern.log.2.gz", "kern.log.3.gz", "kern.log.4.gz", "kern.log.5", "syslog"):
        assert name in proc.stderr, f"no warning names {name}: {proc.stderr}"
    assert all(line.startswith("oomsleuth: ") for line in proc.stderr.splitlines())
    readable = zlib.decompressobj(31).decompress(packed[: len(packed) * 3 // 5])
    kept = readable[: readable.rfind(b"\n") + 1]
    partial = tmp_path / "kept.log"
    partial.write_bytes(kept)
    assert _pids(partial) <= pids  # what the cut rotation held before the cut


def test_a_fifo_given_by_name_is_read_as_a_stream(tmp_path: Path) -> None:
    src = INCIDENTS / "bystander-triggers" / "kern-dmesg-iso.txt"
    fifo = tmp_path / "kmsg.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with fifo.open("wb") as f:
            f.write(src.read_bytes())

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    proc = _cli("analyze", str(fifo), "--tz", "UTC", "-f", "json", timeout=60)
    writer.join(5)
    assert proc.returncode == 0, proc.stderr
    pids = {v["pid"] for inc in json.loads(proc.stdout)["incidents"] for v in inc["victims"]}
    assert pids == _pids(src) and pids


def test_fifos_as_history(tmp_path: Path) -> None:
    """A FIFO in a history folder is skipped with a warning (nobody writes to it: reading it
    would wait forever); one given by name (``--history <(sadf ...)``) is read once, and used
    by every pass over the history (here: the clock check and the windows)."""
    case = INCIDENTS / "sidecar-leak-kills-db"
    folder = tmp_path / "history"
    folder.mkdir()
    (folder / "atop-P.txt").write_bytes((case / "atop-P.txt").read_bytes())
    os.mkfifo(folder / "sampler.fifo")
    log = str(case / "kern-dmesg-T.txt")
    proc = _cli("analyze", log, "--tz", "UTC", "--history", str(folder), "-f", "json", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "skipped history" in proc.stderr and "sampler.fifo" in proc.stderr
    fifo = tmp_path / "atop.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with fifo.open("wb") as f:
            f.write((case / "atop-P.txt").read_bytes())

    threading.Thread(target=write, daemon=True).start()
    proc = _cli("analyze", log, "--tz", "Europe/Paris", "--history", str(fifo), "-f", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["history"]["sources"] == [{"source": str(fifo), "format": "atop"}]
    assert "clock is 1 h ahead of the log's" in proc.stderr  # the traces pass read it too


MAGIC_JUNK = {
    "zip": b"PK\x03\x04junk junk\n",
    "empty zip": b"PK\x05\x06junk\n",
    "tar": b"x" * 257 + b"ustar" + b"y" * 300 + b"\n",
    "gzip": b"\x1f\x8b\x08\x00junk junk\n",
    "xz": b"\xfd7zXZ\x00junk\n",
    "bzip2": b"BZh91AYjunk\n",
    "journald": b"LPKSHHRHjunk\n",
}


@pytest.mark.parametrize("kind", MAGIC_JUNK)
def test_junk_behind_a_format_s_magic_is_refused_as_binary(kind: str, tmp_path: Path) -> None:
    """Bytes that start as an archive, a compressed stream or a journal and are none: alone, the
    one documented refusal (exit 2, the file named, "binary" said); beside a real log, a warning
    that names the file, and the log's kills (a damaged file never costs the run)."""
    import oomsleuth
    from oomsleuth.errors import InputError

    junk = tmp_path / "junk.log"
    junk.write_bytes(MAGIC_JUNK[kind] + b"Killed process 1 (a) total-vm:1kB\n")
    with pytest.raises(InputError) as refused:
        oomsleuth.analyze(junk)
    assert str(junk) in refused.value.message and "binary" in refused.value.message
    said: list[str] = []
    real = Path(__file__).resolve().parent.parent / "fixtures" / "real" / "memcg-adj.dmesg.txt"
    report = oomsleuth.analyze([real, junk], on_warning=said.append)
    assert sum(len(r.kills) for r in report.reports) == 2
    assert any(str(junk) in s for s in said)
