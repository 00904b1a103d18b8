"""Every locale, every paste. Real output of journalctl and dmesg -T under 14 host languages
(fixtures/evidence/locale, recorded here), month names of every glibc locale as glibc prints
them, and logs as they are pasted through cat -n, nl, grep -n, grep -H, grep -rn and zgrep (made
by those very tools at test time)."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

import oomsleuth
from oomsleuth.model import OomReport, Report

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "fixtures" / "evidence" / "locale"
FULL_TABLE = json.loads((LOCALES / "month-names.json").read_text())
FACTS = json.loads((LOCALES / "facts.json").read_text())  # what the capture script knew
LANGS = sorted(p.name for p in LOCALES.iterdir() if p.is_dir() and p.name != "C.UTF-8")
KILL = (
    "kernel: Out of memory: Killed process 4242 (stress) total-vm:1kB, anon-rss:1kB, file-rss:0kB"
)


def kills(report: Report) -> list[tuple[int, datetime | None]]:
    return [(k.victim.pid, k.stamp.wall) for r in report.reports for k in r.kills]


def analyze(path: Path) -> Report:
    return oomsleuth.analyze([path], tz="UTC", year=2026, on_warning=lambda _: None)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    "name", ["journalctl-k.short.txt", "dmesg-T.txt", "journalctl-k.short-full.txt"]
)
def test_the_same_kills_in_every_language(lang: str, name: str) -> None:
    got = kills(analyze(LOCALES / lang / name))
    assert got == kills(analyze(LOCALES / "C.UTF-8" / name))
    assert [pid for pid, _ in got] == [k["pid"] for k in FACTS["kills"]]
    assert all(w is not None for _, w in got)
    if name == "dmesg-T.txt":  # dmesg -T shows the kernel's stamp + btime, to the second
        shown = [datetime.fromisoformat(k["dmesg_T_shows_utc"]) for k in FACTS["kills"]]
        assert [w.replace(microsecond=0) for _, w in got if w] == [
            s.replace(microsecond=0) for s in shown
        ]


@pytest.mark.parametrize("lang", ["C.UTF-8", *LANGS])
@pytest.mark.parametrize("name", ["date-syslog.txt", "date-ctime.txt"])
def test_twelve_months_written_by_date(lang: str, name: str) -> None:
    """`date '+%b %e %H:%M:%S'` (syslog, journal short) and `date '+%a %b %e ... %Y'` (dmesg -T)
    for one date in each month: each kill line lands in its month."""
    stamps = (LOCALES / lang / name).read_text(encoding="utf-8").splitlines()
    if name == "date-syslog.txt":
        lines = [f"{s} host {KILL}" for s in stamps]
    else:
        lines = [f"[{s}] {KILL.removeprefix('kernel: ')}" for s in stamps]
    events = [e for e in oomsleuth.scan(lines, tz="UTC", year=2026) if isinstance(e, OomReport)]
    months = [e.kills[0].stamp.wall.month if e.kills[0].stamp.wall else None for e in events]
    assert months == list(range(1, 13)), (lang, name, stamps)


def test_every_month_name_of_every_glibc_locale() -> None:
    """Each form glibc prints for a month (%b, %B, %Ob, %OB) in any locale, as a journalctl -o
    short line: read as that month, ambiguous names as the month most locales mean."""
    wrong = []
    for key, entry in FULL_TABLE["months"].items():
        for form in entry["forms"]:
            if " " in form.strip() and len(form.split()) > 2:
                continue  # names of three words and more are not read (none in common locales)
            line = f"{form.strip()} 5 03:04:05 host {KILL}"
            events = [
                e for e in oomsleuth.scan([line], tz="UTC", year=2026) if isinstance(e, OomReport)
            ]
            wall = events[0].kills[0].stamp.wall if events and events[0].kills else None
            if wall is None or wall.month != entry["v"]:
                wrong.append((key, form, wall))
    assert wrong == []


def test_the_package_table_is_derived_from_the_glibc_table() -> None:
    script = ROOT / "scripts" / "month_table.py"
    proc = subprocess.run(["python3", str(script), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- pastes --------------------------------------------------------------------------------

SOURCES = [
    ROOT / "fixtures" / "real" / "memcg-single.dmesg-iso.txt",
    ROOT / "fixtures" / "real" / "memcg-adj.dmesg.txt",
    ROOT / "fixtures" / "evidence" / "late-journal" / "kern.log",
    ROOT / "fixtures" / "evidence" / "late-journal" / "journalctl-k.short-precise.txt",
]
TOOLS = {
    "cat -n": ["cat", "-n"],
    "nl": ["nl", "-ba"],
    "grep -n": ["grep", "-n", ""],
    "grep -H": ["grep", "-H", ""],
    "grep -Hn": ["grep", "-Hn", ""],
    "grep -rn": ["grep", "-rn", ""],
}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_pastes_with_line_numbers_and_file_names(source: Path, tool: str, tmp_path: Path) -> None:
    if shutil.which(TOOLS[tool][0]) is None:
        pytest.skip(f"{TOOLS[tool][0]} is not installed")
    pasted = subprocess.run([*TOOLS[tool], str(source)], capture_output=True, check=True).stdout
    paste = tmp_path / "paste.txt"
    paste.write_bytes(pasted)
    assert kills(analyze(paste)) == kills(analyze(source))


@pytest.mark.skipif(shutil.which("zgrep") is None, reason="zgrep is not installed")
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_zgrep_over_a_rotated_log(source: Path, tmp_path: Path) -> None:
    rotated = tmp_path / "kern.log.2.gz"
    rotated.write_bytes(gzip.compress(source.read_bytes()))
    pasted = subprocess.run(["zgrep", "-H", "", str(rotated)], capture_output=True, check=True)
    paste = tmp_path / "paste.txt"
    paste.write_bytes(pasted.stdout)
    assert kills(analyze(paste)) == kills(analyze(source))


@pytest.mark.parametrize(
    ("first", "month"),
    [("led", 8), ("sij", 7), ("stycz", None)],  # Czech January, Croatian January, no such name
)
def test_an_ambiguous_month_is_settled_by_the_log_itself(first: str, month: int | None) -> None:
    """``srp`` is August in Czech and July in Croatian: the log's other month names decide."""
    lines = [f"{first} 5 03:04:05 host {KILL}", f"srp 5 03:04:05 host {KILL}"]
    events = [e for e in oomsleuth.scan(lines, tz="UTC", year=2026) if isinstance(e, OomReport)]
    walls = [e.kills[0].stamp.wall for e in events]
    assert walls[-1] is not None
    if month is None:  # nothing settles it: the first of the months locales give it
        assert [w.month for w in walls if w is not None] == [7]
    else:
        assert walls[-1].month == month
