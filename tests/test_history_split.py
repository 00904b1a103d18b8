"""A big atop -P text read in parts by forked processes gives exactly the one-process reading
(``OOMSLEUTH_NO_FORK=1``): the same samples in the same order, warnings (line numbers, the
per-code limit and its summaries), RESET samples, names a PRM line takes from the sample before,
history-outside-window text and messages. On atop data made by bench/bench_history.py's
generator, edited so that every state the reader carries from one sample to the next meets a
cut, and on every real atop capture of the fixtures; the split threshold is lowered so that
small files are cut at (nearly) every sample."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import oomsleuth
from oomsleuth.history import atop
from oomsleuth.history.windows import Windows
from oomsleuth.load import history as loader
from oomsleuth.load import history_forked as forked
from oomsleuth.load import history_split as split
from oomsleuth.load.files import Input

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import bench_history as bench  # noqa: E402  (the generator of the benchmark's month)

KILL = bench.START + timedelta(hours=14, minutes=3)
WINDOW = "2h:1h"  # 18 samples of 10 minutes kept around the kill
Edit = Callable[[list[list[str]]], list[list[str]]]


def _generated(tmp_path: Path, edit: Edit | None = None, kill: datetime = KILL) -> list[Path]:
    """One day of ``atop -P`` for 12 processes (144 samples) and a kernel log with the real
    report at ``kill``; ``edit`` changes the samples (each a list of lines, ``SEP`` last)."""
    facts = json.loads(bench.FACTS.read_text())
    roles = {p["role"]: (p["pid"], p["comm"]) for p in facts["processes"]}
    log, text = tmp_path / "kern.log", tmp_path / "atop.txt"
    bench.kernel_log(log, kill)
    bench.atop_text(text, 1, 12, KILL, roles["leaker"], roles["database"])
    if edit is not None:
        samples, sample = [], []
        for line in text.read_text().splitlines():
            sample.append(line)
            if line == "SEP":
                samples.append(sample)
                sample = []
        text.write_text("".join(line + "\n" for s in edit(samples) for line in s))
    return [log, text]


def _cut(monkeypatch: pytest.MonkeyPatch, parts: int) -> list[int]:
    """Files of any size cut into up to ``parts`` parts (2 cores, forking allowed); the list
    gets how many parts each cut file had."""
    cuts: list[int] = []
    real = split.plan

    def counted(item: Input, max_line: int, most: int) -> list[split.Part] | None:
        got = real(item, max_line, most)
        if got is not None:
            cuts.append(len(got))
        return got

    monkeypatch.setattr(split, "plan", counted)
    monkeypatch.setattr(split, "SPLIT_BYTES", 0)
    monkeypatch.setattr(split, "PART_BYTES", 1)
    monkeypatch.setattr(forked, "PARTS_PER_CORE", max(1, parts // 2))
    monkeypatch.setattr(forked, "FORK_BYTES", 0)
    monkeypatch.setattr(forked, "_cores", lambda: 2)
    monkeypatch.setattr(forked, "_safe_to_fork", lambda: True)  # other tests' idle threads
    return cuts


def _both(
    monkeypatch: pytest.MonkeyPatch, log: Path, history: list[Path], window: str = WINDOW
) -> tuple[tuple[oomsleuth.Report, list[str]], tuple[oomsleuth.Report, list[str]]]:
    """(report, messages) read in one process, then with forking allowed."""
    runs = []
    for no_fork in ("1", "0"):
        monkeypatch.setenv(forked.NO_FORK, no_fork)
        said: list[str] = []
        report = oomsleuth.analyze(
            [log], history=history, tz="UTC", window=window, on_warning=said.append
        )
        runs.append((report, said))
    return runs[0], runs[1]


def _warnings(report: oomsleuth.Report) -> list[tuple[str, int, str]]:
    assert report.history is not None
    return [(w.code, w.where.line, w.message) for w in report.history.warnings]


@pytest.mark.parametrize("parts", [2, 8, 60])
def test_a_generated_day_cut_in_parts_reads_as_one(
    parts: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log, text = _generated(tmp_path)
    cuts = _cut(monkeypatch, parts)
    alone, side = _both(monkeypatch, log, [text])
    assert cuts == [parts] and side == alone
    assert alone[0].history is not None and len(alone[0].history.samples) > 500
    data = text.read_bytes()
    item = Input(str(text), text, loader.JSON_LINE_BYTES)
    for part in split.plan(item, loader.JSON_LINE_BYTES, parts) or []:
        # a cut lands anywhere in a sample and moves on to the end of its SEP line
        assert part.start == 0 or data[part.start - 5 : part.start] == b"\nSEP\n"


def _hostile(samples: list[list[str]]) -> list[list[str]]:
    """Every sample: PRM lines before the PRG lines (their names and command lines come from
    the sample before), PRG lines with a command line; first, two broken PRM lines of the
    sample before's time (skipped when that sample was refused, warned about when it was
    kept), a PAG line cut short and a line that is not atop's; a RESET every fifth sample (its
    counters run since boot); an empty sample after every seventh."""
    out = []
    before = "1 2026/10/01 00:00:00"
    for i, sample in enumerate(samples):
        mem = next(line for line in sample if line.startswith("MEM ")).split()
        now = " ".join(mem[2:5])
        prm = [line for line in sample if line.startswith("PRM ")]
        prg = [
            line.replace(" () 0 0 1 0 ", f" (run {line.split()[6]}) 0 0 1 0 ")
            for line in sample
            if line.startswith("PRG ")
        ]
        host = [line for line in sample if line[:3] in ("MEM", "SWP", "PAG", "PSI")]
        broken = [
            f"PRM bench {before.split()[0]} cut",
            f"PRM bench {before} 600",
            f"PAG bench {now} 600",
            f"junk {i} \u00e9\x01",
        ]
        reset = ["RESET"] if i % 5 == 0 else []
        cpu = f"CPU bench {now} 600 100 2 1 2 3 4 5 6 7 8 0 0 0 100 0 0"
        out.append([*reset, *broken, cpu, *host, *prm, *prg, "SEP"])
        if i % 7 == 3:
            out.append(["SEP"])  # an empty sample: the state at the next one is older
        before = now
    return out


@pytest.mark.parametrize("parts", [4, 40, 400])
def test_resets_broken_lines_names_and_the_warning_limit_across_cuts(
    parts: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log, text = _generated(tmp_path, _hostile)
    cuts = _cut(monkeypatch, parts)
    (alone, said_alone), (side, said_side) = _both(monkeypatch, log, [text])
    samples = text.read_text().count("SEP\n")
    assert cuts == [min(parts, samples)]  # 400 parts asked of 165 samples: one a sample
    assert side == alone and said_side == said_alone
    warned = _warnings(alone)
    for code in ("atop-unparsable-line", "atop-short-line"):
        given = [w for w in warned if w[0] == code]
        assert len(given) == atop.MAX_WARNINGS + 1  # and a summary, at the last line:
        assert given[-1][1] == text.read_text().count("\n")
        assert given[-1][2].endswith(" more like it")
    assert alone.history is not None
    samples = alone.history.samples
    assert any(dict(s.labels).get("cmdline", "").startswith("run ") for s in samples)
    rates = {s.time for s in samples if s.metric == "pgscan_s"}
    gauges = {s.time for s in samples if s.metric == "mem_free_kb"}
    assert len(gauges) == 18 and len(gauges - rates) == 4  # the RESET samples: no rates


@pytest.mark.parametrize("scan", [7, 64, 4096])
def test_crlf_lines_and_sep_lines_across_the_scans_reads(
    scan: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """SEP lines are looked for a few bytes at a time (``_SCAN``), forward for the cuts and
    back for the priming, so that some are cut by the reads' ends; lines end in CRLF."""
    log, text = _generated(tmp_path, _hostile)
    text.write_bytes(text.read_bytes().replace(b"\n", b"\r\n"))
    monkeypatch.setattr(split, "_SCAN", scan)
    cuts = _cut(monkeypatch, 30)
    alone, side = _both(monkeypatch, log, [text])
    assert cuts == [30] and side == alone
    assert alone[0].history is not None and alone[0].history.samples
    data = text.read_bytes()
    item = Input(str(text), text, loader.JSON_LINE_BYTES)
    starts = [part.start for part in split.plan(item, loader.JSON_LINE_BYTES, 30) or []]
    expected = [0]
    for i in range(1, 30):  # the end of the first SEP line at or after each 30th of the file
        at = data.index(b"\nSEP\r\n", max(len(data) * i // 30, expected[-1]) - 1) + 6
        expected.append(at)
    assert starts == expected


def test_the_cut_parts_need_the_reader_state_of_the_sample_before(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What the priming is for: parts read from a fresh state lose the names of the sample
    before and warn about broken lines the whole reading skips, so the test above can fail."""
    log, text = _generated(tmp_path, _hostile)
    _cut(monkeypatch, 40)

    def fresh(f: object, part: split.Part, span: object, recorder: object) -> object:
        return atop.reading(part.item.name, recorder, span)  # type: ignore[arg-type]

    monkeypatch.setattr(split, "_primed", fresh)
    alone, side = _both(monkeypatch, log, [text])
    assert _warnings(side[0]) != _warnings(alone[0])
    assert side[0].history != alone[0].history


def test_samples_outside_every_window(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    log, text = _generated(tmp_path, kill=KILL + timedelta(days=3))
    _cut(monkeypatch, 9)
    (alone, said_alone), (side, said_side) = _both(monkeypatch, log, [text])
    assert side == alone and said_side == said_alone
    outside = [w for w in _warnings(alone) if w[0] == "history-outside-window"]
    assert len(outside) == 1 and "its samples run from 2026-10-01 00:00:00 UTC" in outside[0][2]


def _few(samples: list[list[str]]) -> list[list[str]]:
    return samples[84:87]  # 14:00 to 14:20: the kill's


def test_fewer_samples_than_parts_and_no_sample_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log, text = _generated(tmp_path, _few)
    cuts = _cut(monkeypatch, 16)
    alone, side = _both(monkeypatch, log, [text])
    assert cuts == [3] and side == alone
    no_sep = tmp_path / "one-sample.txt"
    no_sep.write_text(text.read_text().replace("SEP\n", ""))
    item = Input(str(no_sep), no_sep, loader.JSON_LINE_BYTES)
    assert split.plan(item, loader.JSON_LINE_BYTES, 16) is None


def _long(samples: list[list[str]]) -> list[list[str]]:
    return [[*s[:-1], "x" * 500, s[-1]] for s in samples]


def test_a_part_with_an_over_long_line_reads_the_file_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log, text = _generated(tmp_path, _long)
    monkeypatch.setattr(loader, "JSON_LINE_BYTES", 300)
    cuts = _cut(monkeypatch, 6)
    alone, side = _both(monkeypatch, log, [text])
    assert cuts == [6] and side == alone
    assert sum(1 for w in _warnings(alone[0]) if w[0] == "line-too-long") == 144


def test_a_file_cut_shorter_after_it_was_planned(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log, text = _generated(tmp_path)
    _cut(monkeypatch, 6)
    planned = split.plan

    def then_cut(item: Input, max_line: int, most: int) -> list[split.Part] | None:
        got = planned(item, max_line, most)
        with text.open("r+b") as f:
            f.truncate(text.stat().st_size // 2)
        return got

    monkeypatch.setenv(forked.NO_FORK, "0")
    monkeypatch.setattr(split, "plan", then_cut)
    side = oomsleuth.analyze([log], history=[text], tz="UTC", window=WINDOW)
    monkeypatch.setenv(forked.NO_FORK, "1")
    assert side == oomsleuth.analyze([log], history=[text], tz="UTC", window=WINDOW)


def _fixtures() -> Iterator[tuple[Path, Path]]:
    for folder in ("incidents", "evidence"):
        for path in sorted((ROOT / "fixtures" / folder).glob("*/atop-P.txt")):
            yield path.parent / "kern-dmesg-iso.txt", path


@pytest.mark.parametrize("log,text", list(_fixtures()), ids=lambda p: p.parent.name)
def test_real_atop_captures_cut_at_every_sample(
    log: Path, text: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the other history of the capture beside it (sar, pidstat, JSON...): only the atop
    text is cut, and the whole reading is the same."""
    history = sorted(p for p in text.parent.iterdir() if p.suffix in (".txt", ".csv", ".json"))
    history = [p for p in history if not p.name.startswith(("kern-", "facts"))]
    cuts = _cut(monkeypatch, 200)
    (alone, said_alone), (side, said_side) = _both(monkeypatch, log, history, "30m:5m")
    data = text.read_text()
    assert cuts == [1 + data.count("\nSEP\n") - data.endswith("\nSEP\n")]
    assert side == alone and said_side == said_alone
    assert alone.history is not None and alone.history.samples


@pytest.mark.parametrize("name", ["atop.P.txt", "atop.PZ.txt"])
def test_the_atop_format_fixtures_cut_at_every_sample(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = ROOT / "fixtures" / "history" / "atop" / name
    lines = text.read_text().splitlines()
    times = [
        datetime.fromtimestamp(int(t.split()[2]), timezone.utc) for t in lines if t[:4] == "PRM "
    ]
    windows = Windows([times[len(times) // 2]], timedelta(minutes=1), timedelta(0))
    cuts = _cut(monkeypatch, 100)
    readings = []
    for no_fork in ("1", "0"):
        monkeypatch.setenv(forked.NO_FORK, no_fork)
        said: list[str] = []
        got = loader.load_history([str(text)], windows, timezone.utc, said.append)
        readings.append((got, said))
    assert cuts and cuts[0] > 10 and readings[1] == readings[0]
    assert readings[0][0].samples and len(readings[0][0].samples) < 5000


def test_gzip_small_and_other_formats_are_not_cut(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = ROOT / "fixtures" / "incidents" / "bystander-triggers" / "atop-P.txt"
    item = Input(str(text), text, loader.JSON_LINE_BYTES)
    assert text.stat().st_size < split.SPLIT_BYTES
    assert split.plan(item, loader.JSON_LINE_BYTES, 8) is None
    monkeypatch.setattr(split, "SPLIT_BYTES", 0)
    monkeypatch.setattr(split, "PART_BYTES", 1)
    assert split.plan(item, loader.JSON_LINE_BYTES, 8) is not None
    packed = tmp_path / "atop-P.txt.gz"
    packed.write_bytes(gzip.compress(text.read_bytes()))
    sar = text.parent / "sar-A.txt"
    for path in (packed, sar):
        assert split.plan(Input(str(path), path, loader.JSON_LINE_BYTES), 1 << 28, 8) is None
