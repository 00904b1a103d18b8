"""A missing tool or a bad history file costs a warning, not the run: every kill and all other
history are still analysed. The tools are hidden by PATH, as on a host without them."""

from __future__ import annotations

import gzip
import shutil
import sys
from pathlib import Path

import pytest

import oomsleuth
from oomsleuth.errors import HistoryError

ROOT = Path(__file__).resolve().parent.parent
SIDECAR = ROOT / "fixtures" / "incidents" / "sidecar-leak-kills-db"
ATOP_RAW = ROOT / "fixtures" / "history" / "atop" / "atop.raw"


def analyze(*history: Path, warnings: list[str] | None = None) -> oomsleuth.Report:
    sink = warnings if warnings is not None else []
    return oomsleuth.analyze(
        [SIDECAR / "kern-dmesg-iso.txt"], history=history, tz="UTC", on_warning=sink.append
    )


def skipped(report: oomsleuth.Report) -> dict[str, str]:
    assert report.history is not None
    return {
        w.where.source: w.message for w in report.history.warnings if w.code == "history-skipped"
    }


def test_without_sadf_and_atop_the_other_history_still_names_the_culprit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "python3").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(tmp_path))  # no sadf, no atop
    assert shutil.which("sadf") is None and shutil.which("atop") is None
    said: list[str] = []
    report = analyze(SIDECAR / "sa.bin", ATOP_RAW, SIDECAR / "atop-P.txt", warnings=said)
    why = skipped(report)
    assert (
        "needs sadf" in why[str(SIDECAR / "sa.bin")]
        and "install sysstat" in why[str(SIDECAR / "sa.bin")]
    )
    assert "atop" in why[str(ATOP_RAW)] and "install" in why[str(ATOP_RAW)]
    assert len(said) == 2 and all(s.startswith("skipped history ") for s in said)
    (inc,) = report.incidents
    assert inc.culprit.comm == "leaky-sidecar"  # from atop-P.txt, which needs no tool
    assert report.history is not None and [f for _, f in report.history.sources] == ["atop"]


@pytest.mark.skipif(shutil.which("sadf") is None, reason="needs sysstat's sadf")
def test_an_sa_file_of_a_newer_sysstat_is_skipped_with_the_fix(tmp_path: Path) -> None:
    """A real sa file whose header was edited to say sysstat 12.7.5 / format 0x2176: the
    installed sadf refuses it, as it refuses a file from a newer host."""
    data = bytearray((SIDECAR / "sa.bin").read_bytes())
    data[2], data[4:7] = 0x76, bytes([12, 7, 5])
    newer = tmp_path / "sa25"
    newer.write_bytes(bytes(data))
    report = analyze(newer, SIDECAR / "pidstat-r.txt")
    why = skipped(report)[str(newer)]
    assert "sysstat 12.7.5" in why and "install sysstat 12.7.5 or newer" in why
    assert report.incidents[0].culprit.comm == "leaky-sidecar"


def test_unknown_files_in_a_history_folder_and_alone_are_warnings(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing to see here\n")
    report = analyze(tmp_path / "notes.txt", SIDECAR / "psi-cgroup.txt")
    assert "not a history format" in skipped(report)[str(tmp_path / "notes.txt")]
    assert report.has_events and report.incidents


def test_a_history_path_that_does_not_exist_is_bad_usage(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="no such file"):
        analyze(tmp_path / "typo.txt")


def test_a_history_file_that_breaks_part_way_is_read_up_to_there_with_a_warning(
    tmp_path: Path,
) -> None:
    packed = gzip.compress((SIDECAR / "atop-P.txt").read_bytes())
    cut = tmp_path / "atop-P.txt.gz"
    cut.write_bytes(packed[: len(packed) * 2 // 3])
    report = analyze(cut)
    assert report.history is not None and report.history.sources == ((str(cut), "atop"),)
    (damaged,) = [w for w in report.history.warnings if w.code == "input-damaged"]
    assert damaged.where.source == str(cut) and "breaks after line" in damaged.message
    assert report.incidents  # the kills are all still there
