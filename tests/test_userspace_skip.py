"""The userspace killers' parser skips kernel lines that cannot give it anything (no ``oomd``, no
colour codes, no systemd-oomd kill pending): every userspace fixture, and each of them with the
kernel lines of a real report put after every line, gives the same kills, at the same lines, and
the same warnings with the skip as without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomsleuth.frame.framer import frame_lines
from oomsleuth.model import LogLine, UserspaceKill, Warning_
from oomsleuth.parsers.userspace import UserspaceParser

ROOT = Path(__file__).resolve().parent.parent
LOGS = sorted((ROOT / "fixtures" / "userspace").glob("*.log"))
REPORT = ROOT / "fixtures" / "handwritten" / "k5.14-el9-memcg-v2.rsyslog.log"


def framed(path: Path) -> list[LogLine]:
    return list(frame_lines(path.read_text(encoding="utf-8").splitlines(), path.name))


Given = tuple[list[tuple[int, UserspaceKill]], list[Warning_]]


def parsed(lines: list[LogLine], skip: bool = True) -> Given:
    """Each kill with the line it came out at, and the warnings; ``skip`` False: every line
    through the full path (``_feed``)."""
    parser = UserspaceParser()
    feed = parser.feed if skip else parser._feed
    kills = [(i, k) for i, line in enumerate(lines) for k in feed(line)]
    return kills + [(len(lines), k) for k in parser.close()], parser.warnings


def interleaved(lines: list[LogLine], kernel: list[LogLine]) -> list[LogLine]:
    return [x for line in lines for x in (line, *kernel[:5])]


@pytest.mark.parametrize("path", LOGS, ids=lambda p: p.name)
def test_skipping_kernel_lines_changes_nothing(path: Path) -> None:
    kernel = [line for line in framed(REPORT) if line.ident == "kernel"]
    assert len(kernel) > 5
    for lines in (framed(path), interleaved(framed(path), kernel)):
        assert parsed(lines) == parsed(lines, skip=False)


def test_the_fixtures_hold_kills() -> None:
    assert sum(len(parsed(framed(path))[0]) for path in LOGS) > 10
