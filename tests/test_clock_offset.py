"""A fixed offset between the log's clock and the history's is found and named (clock.offset).

Real captures (fixtures/incidents: logs and history of the same kills, the host in UTC) read
with a wrong ``--tz``, and logs whose stamps are moved by a known amount.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import oomsleuth
from oomsleuth.model import Report, Warning_

INCIDENTS = Path(__file__).resolve().parent.parent / "fixtures" / "incidents"
CASES = sorted(p.name for p in INCIDENTS.iterdir() if p.is_dir())
HISTORY = ("atop-P.txt", "pidstat-r.txt", "psi-cgroup.txt", "sadf-d.csv", "sar-A.txt")
ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d),(\d{6})([+-]\d\d:\d\d) ")


def clock(report: Report) -> list[Warning_]:
    return [w for w in report.warnings if w.code.startswith("clock-")]


def analyze(case: str, log: str | Path, history: tuple[str, ...], tz: str) -> Report:
    path = log if isinstance(log, Path) else INCIDENTS / case / log
    hist = [INCIDENTS / case / h for h in history]
    return oomsleuth.analyze([path], history=hist, tz=tz, on_warning=lambda _: None)


@pytest.mark.parametrize("case", CASES)
def test_the_right_zone_gives_no_offset(case: str) -> None:
    for log in ("kern-dmesg-T.txt", "kern-dmesg-iso.txt"):
        assert clock(analyze(case, log, HISTORY, "UTC")) == []


@pytest.mark.parametrize("case", CASES)
def test_a_local_time_log_read_in_a_wrong_zone_is_named(case: str) -> None:
    """dmesg -T prints local time (UTC on the capture host): read as Paris time the kill is an
    hour early for atop's epoch stamps. pidstat's local times are read in the same wrong zone,
    so they agree with the log and say nothing."""
    said = clock(analyze(case, "kern-dmesg-T.txt", ("atop-P.txt", "pidstat-r.txt"), "Europe/Paris"))
    assert [w.code for w in said] == ["clock-offset"]
    text = said[0].message
    assert text.startswith(f"{INCIDENTS / case / 'atop-P.txt'}'s clock is 1 h ahead of the log's")
    assert "read as UTC+01:00 (--tz)" in text and "it is UTC+00:00" in text
    assert "--tz UTC" in text and " exit" in text  # the victim's exit in atop is the evidence


def test_half_hour_zones_and_zones_behind_utc() -> None:
    case = "sidecar-leak-kills-db"
    kolkata = clock(analyze(case, "kern-dmesg-T.txt", ("atop-P.txt",), "Asia/Kolkata"))
    assert "clock is 5 h 30 min ahead of the log's" in kolkata[0].message
    york = clock(analyze(case, "kern-dmesg-T.txt", ("psi-cgroup.txt",), "America/New_York"))
    assert "clock is 5 h behind the log's" in york[0].message
    assert "OOM-kill counter" in york[0].message  # PSI/cgroup samples: the oom_kill counter


def test_local_time_history_read_in_a_wrong_zone_is_named() -> None:
    """The ISO log carries its zone; pidstat prints local time, read in the wrong --tz."""
    said = clock(
        analyze("repeated-kills-restart", "kern-dmesg-iso.txt", ("pidstat-r.txt",), "Europe/Paris")
    )
    assert [w.code for w in said] == ["clock-offset"]
    assert "clock is 1 h behind the log's (4 kill(s) agree)" in said[0].message
    assert (
        "history prints local time, written in UTC+00:00 but read as UTC+01:00" in said[0].message
    )


def _moved(src: Path, out: Path, by: timedelta) -> Path:
    lines = []
    for line in src.read_text().splitlines():
        m = ISO.match(line)
        if m:
            t = datetime.fromisoformat(f"{m[1]}.{m[2]}{m[3]}") + by
            line = t.isoformat().replace(".", ",") + line[m.end() - 1 :]
        lines.append(line)
    out.write_text("\n".join(lines) + "\n")
    return out


def test_a_clock_off_by_whole_hours_and_one_off_by_minutes(tmp_path: Path) -> None:
    case = "sidecar-leak-kills-db"
    src = INCIDENTS / case / "kern-dmesg-iso.txt"
    two = _moved(src, tmp_path / "two.txt", timedelta(hours=2, seconds=13))
    said = clock(analyze(case, two, ("atop-P.txt",), "UTC"))
    assert [w.code for w in said] == ["clock-offset"]
    assert "clock is 2 h behind the log's" in said[0].message
    assert "an RTC set to local time" in said[0].message
    odd = _moved(src, tmp_path / "odd.txt", timedelta(minutes=7, seconds=13))
    said = clock(analyze(case, odd, ("atop-P.txt",), "UTC"))
    assert [w.code for w in said] == ["clock-mismatch"]
    assert "no zone offset" in said[0].message and "-433 s" in said[0].message


def test_the_offset_reaches_stderr(tmp_path: Path) -> None:
    heard: list[str] = []
    log = INCIDENTS / "tmpfs-fills-memory" / "kern-dmesg-T.txt"
    oomsleuth.analyze(
        [log], history=[log.with_name("atop-P.txt")], tz="Europe/Paris", on_warning=heard.append
    )
    assert any("clock is 1 h ahead of the log's" in h for h in heard)


@pytest.mark.parametrize(
    ("tz", "said"), [("Europe/Paris", "(1 h or"), ("Asia/Kolkata", "(5 h 30 min or")]
)
def test_host_wide_history_outside_every_window_says_which_shift_lines_it_up(
    tz: str, said: str
) -> None:
    """sadf -d prints UTC; sar's host-wide series hold no trace of the kill's own process, so
    the warning that no sample falls in any window says where they are and which zone shift
    would line them up."""
    case = "sidecar-leak-kills-db"
    report = analyze(case, "kern-dmesg-T.txt", ("sadf-d.csv",), tz)
    assert report.history is not None
    (outside,) = [w for w in report.history.warnings if w.code == "history-outside-window"]
    assert "its samples run from 2026-11-25 23:32:23 UTC" in outside.message
    assert "they line up if the history's clock is" in outside.message
    assert said in outside.message and "ahead of the log's" in outside.message
    right = analyze(case, "kern-dmesg-T.txt", ("sadf-d.csv",), "UTC")
    assert right.history is not None and right.history.warnings == ()


def test_a_day_of_sar_outside_the_windows_costs_no_second_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """sysstat keeps a file a day: the days without the kill say nothing about clocks, and
    reading the whole history again for them would double the cost of every such run."""
    import oomsleuth.load.history as loading

    calls: list[int] = []
    real = loading.load_traces

    def counted(*args: object, **kw: object) -> object:
        calls.append(1)
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(loading, "load_traces", counted)
    other_day = INCIDENTS.parent / "history" / "sysstat" / "multiday.sar-r.C.txt"
    case = INCIDENTS / "sidecar-leak-kills-db"
    report = oomsleuth.analyze(
        [case / "kern-dmesg-iso.txt"],
        history=[case / "atop-P.txt", other_day],
        tz="UTC",
        on_warning=lambda _: None,
    )
    assert report.history is not None
    assert [w.code for w in report.history.warnings] == ["history-outside-window"]
    assert calls == [] and clock(report) == []
