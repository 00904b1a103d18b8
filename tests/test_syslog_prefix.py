"""The syslog framer keeps the last ``Mon DD HH:MM:SS host ident[pid]: `` prefix it read and
reads a line that starts with it from it (:func:`oomsleuth.frame.syslog.named`, and the framer's
fast lane): the result must be what reading the line afresh gives, for real syslog files and for
lines built to trip a prefix cache (a tag at the end of the line, no space after the colon, the
same stamp with another host or tag, fractions, pids, odd spacing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oomsleuth.frame import syslog
from oomsleuth.frame.framer import frame_lines
from oomsleuth.model import LogLine

ROOT = Path(__file__).resolve().parent.parent
REAL = [
    ROOT / "fixtures/handwritten/k5.14-el9-memcg-v2.rsyslog.log",
    ROOT / "fixtures/handwritten/k5.15-global.journal-short-precise.txt",
    ROOT / "fixtures/evidence/late-journal/kern.log",
    ROOT / "fixtures/evidence/late-journal/messages",
    ROOT / "fixtures/userspace/systemd-unit-notes-syslog.log",
    ROOT / "fixtures/userspace/echoes-not-kills-syslog.log",
]
EMPTY = ("", "", None, None, None, None)


def afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every call of named() starts with no prefix kept, and the framer's fast lane is off."""
    plain = syslog.named

    def cold(s: str) -> object:
        monkeypatch.setattr(syslog, "_last", EMPTY)
        return plain(s)

    monkeypatch.setattr(syslog, "named", cold)
    monkeypatch.setattr(syslog, "last_prefix", lambda: "")


def framed(lines: list[str]) -> list[LogLine]:
    return list(frame_lines(lines))


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_syslog_files_frame_as_read_afresh(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    assert any(syslog.named(line) is not None for line in lines)
    warm = framed(lines)
    afresh(monkeypatch)
    assert warm == framed(lines)


STAMPS = st.sampled_from(
    [
        "Nov 25 00:00:10",
        "Nov  5 00:00:10",
        "Nov 25 00:00:10.123456",
        "Feb 29 12:00:00",
        "Xyz 25 00:00:10",
    ]
)
HOSTS = st.sampled_from(["web-1", "web-1:", "web-2", "h[1]", "", "a b"])
TAGS = st.sampled_from(["kernel:", "kernel[12]:", "kernel[x]:", "earlyoom[1]:", "kernel", "k:"])
GAPS = st.sampled_from([" ", "  ", ""])
RESTS = st.sampled_from(
    ["", " [   11.000012] text", " [ 1.5][  T42] x", "x", "  two", " oom-kill:a=b", ":"]
)
LINE = st.builds(lambda *parts: "".join(parts), STAMPS, GAPS, HOSTS, GAPS, TAGS, RESTS)


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE, min_size=1, max_size=12))
def test_named_with_a_kept_prefix_is_named_afresh(lines: list[str]) -> None:
    for line in lines:
        warm = syslog.named(line)
        kept = syslog._last
        syslog._last = EMPTY
        cold = syslog.named(line)
        syslog._last = kept
        assert warm == cold, line


@settings(max_examples=100, deadline=None)
@given(st.lists(LINE, min_size=1, max_size=12))
def test_built_lines_frame_as_read_afresh(lines: list[str]) -> None:
    warm = framed(lines)
    with pytest.MonkeyPatch.context() as mp:
        afresh(mp)
        assert warm == framed(lines)
