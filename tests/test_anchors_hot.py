"""The anchor tracker keeps the last line's stream and epoch (``AnchorTracker._hot``) for the next
line of the same source and host: the segments must be those of a tracker that looks both up
afresh for every line, on every fixture and shared-corpus log, and on lines of several hosts
and sources interleaved with boot banners."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oomsleuth.clock.anchors import AnchorTracker
from oomsleuth.frame.framer import frame_lines
from oomsleuth.model import BootSegment, LogLine

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
FILES = [
    p
    for folder in ("real", "handwritten", "evidence/late-journal")
    for p in sorted((ROOT / "fixtures" / folder).iterdir())
    if p.suffix in (".txt", ".log", ".json") and not p.name.endswith(".facts.json")
] + (sorted(CORPUS.glob("*.log")) if CORPUS.is_dir() else [])


def segments(lines: list[LogLine], hot: bool) -> tuple[BootSegment, ...]:
    tracker = AnchorTracker()
    for line in lines:
        if not hot:
            tracker._hot = None
        tracker.observe(line)
    return tracker.segments()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_logs_give_the_same_segments(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    lines = list(frame_lines(text.splitlines(), path.name))
    assert segments(lines, True) == segments(lines, False)


def line(source: str, host: str, n: int, boot: int) -> LogLine:
    """A syslog line of ``host``: boots ``boot`` minutes after midnight, ``n`` seconds up."""
    text = f"Nov 25 00:{boot + n // 60:02d}:{n % 60:02d} {host} kernel: [{n:5d}.000000] x"
    return next(frame_lines([text], source))


BANNER = next(frame_lines(["-- Boot 0123456789abcdef0123456789abcdef --"], "a"))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["web-1", "web-2", "web-3"])),
        min_size=1,
        max_size=30,
    ),
    st.sets(st.integers(0, 29)),
)
def test_interleaved_hosts_and_sources_give_the_same_segments(
    who: list[tuple[str, str]], banners: set[int]
) -> None:
    boots = {"web-1": 1, "web-2": 7, "web-3": 13}
    lines: list[LogLine] = []
    for n, (source, host) in enumerate(who):
        if n in banners:
            lines.append(BANNER)
        lines.append(line(source, host, n + 1, boots[host]))
    assert segments(lines, True) == segments(lines, False)


def test_two_hosts_of_one_source_keep_their_own_boot() -> None:
    lines = [line("a", host, n, boot) for n in range(1, 9) for host, boot in (("x", 1), ("y", 7))]
    got = segments(lines, True)
    assert [s.host for s in got] == ["x", "y"]
    assert got[0].boot_wall is not None and got[1].boot_wall is not None
    assert (got[1].boot_wall - got[0].boot_wall).total_seconds() == 360
