"""One kill, one event: real captures of the same kills in several framings (raw dmesg,
``dmesg -T``, dmesg iso, /dev/kmsg, ``LC_ALL=C dmesg``), given together in every pair, are
counted once, keep the best time of any copy, and say where the copies were. The same file
given twice, or a file and its folder, is read once."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

import oomsleuth
from oomsleuth.model import Report

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real"
SCENARIOS = sorted(p.name.removesuffix(".facts.json") for p in REAL.glob("*.facts.json"))
# the better time of a pair: a zoned iso time, else dmesg -T's local time, else none
TIME_RANK = ("dmesg-iso", "dmesg-T")


def framings(scenario: str) -> list[str]:
    return sorted(p.name.split(".")[1] for p in REAL.glob(f"{scenario}.*.txt"))


PAIRS = [(s, a, b) for s in SCENARIOS for a, b in itertools.combinations(framings(s), 2)]


def analyze(*paths: Path) -> Report:
    return oomsleuth.analyze(paths, tz="UTC", on_warning=lambda _: None)


def kills(report: Report) -> list[tuple[int, object]]:
    return [(k.victim.pid, k.stamp.wall) for r in report.reports for k in r.kills]


@pytest.mark.parametrize(("scenario", "a", "b"), PAIRS, ids=lambda x: str(x))
def test_every_pair_of_framings_counts_each_kill_once(scenario: str, a: str, b: str) -> None:
    facts = json.loads((REAL / f"{scenario}.facts.json").read_text())
    first, second = REAL / f"{scenario}.{a}.txt", REAL / f"{scenario}.{b}.txt"
    both = analyze(first, second)
    assert len(kills(both)) == facts["kill_count"]
    assert all(len(r.copies) == 1 for r in both.reports if r.kills)
    notes = [w for w in both.warnings if w.code == "copies-merged"]
    assert len(notes) == sum(1 for r in both.reports if r.kills)
    best = next((f for f in TIME_RANK if f in (a, b)), None)
    if best is not None:  # the merged kill has the time of the better-timed copy
        alone = analyze(REAL / f"{scenario}.{best}.txt")
        assert [w for _, w in kills(both)] == [w for _, w in kills(alone)]
    else:
        assert all(w is None for _, w in kills(both))


def test_a_file_given_twice_and_its_folder_are_read_once(tmp_path: Path) -> None:
    log = tmp_path / "kern.log"
    log.write_bytes((REAL / "memcg-single.dmesg-iso.txt").read_bytes())
    (tmp_path / "link.log").symlink_to(log)
    said: list[str] = []
    report = oomsleuth.analyze([log, log, tmp_path], tz="UTC", on_warning=said.append)
    assert report.sources == (str(log),)
    assert len(kills(report)) == 1 and not report.reports[0].copies
    assert sum("read once" in s for s in said) == 3


def test_a_c_locale_copy_of_a_non_ascii_name_is_the_same_process() -> None:
    """``LC_ALL=C dmesg`` prints each non-ASCII byte of a comm as ``\\xNN``."""
    from oomsleuth.clock.copies import _plain

    assert _plain("caf\\xc3\\xa9 worker") == "café worker"
    assert _plain("Ж\\x41") == "Ж\\x41"  # not a C-locale rendering: left alone
