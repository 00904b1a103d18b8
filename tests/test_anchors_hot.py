"""The anchor tracker keeps the last line's stream and epoch (``AnchorTracker._hot``) for the next
line of the same source and host: the segments must be those of a tracker that looks both up
afresh for every line, on every fixture and shared-corpus log, and on lines of several hosts
and sources interleaved with boot banners; and a run of lines adds to the boot estimates what its
lines add one by one."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oomsleuth.clock.anchors import AnchorTracker
from oomsleuth.clock.samples import BootEstimates
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


# BootEstimates.add_run against add one line at a time: runs of any length (None for a line
# with no kernel stamp), after any number of earlier lines (the sample thinned: stride > 1,
# the thinning inside the run), on a new or the same wall, of another time space
_UPTIME = st.floats(min_value=0.0, max_value=1e7, allow_nan=False) | st.none()
_WALLS = [
    datetime(2026, 11, 25, 0, 0, 1),
    datetime(1900, 11, 25, 0, 0, 2),
    datetime(2026, 11, 25, 0, 0, 9),
]


@settings(max_examples=300, deadline=None)
@given(
    before=st.integers(0, 2000),
    runs=st.lists(
        st.tuples(
            st.sampled_from(_WALLS), st.lists(_UPTIME, max_size=700), st.sampled_from((0.0, 0.5))
        ),
        max_size=4,
    ),
)
def test_a_run_adds_what_its_lines_add_one_by_one(
    before: int, runs: list[tuple[datetime, list[float | None], float]]
) -> None:
    _compare(before, runs)


def _compare(before: int, runs: list[tuple[datetime, list[float | None], float]]) -> None:
    one, many = BootEstimates(), BootEstimates()
    for est in (one, many):
        for i in range(before):
            est.add(_WALLS[0], 1000.0 - i * 0.25, i)
    line = before
    for wall, uptimes, less in runs:
        for k, u in enumerate(uptimes, line):
            if u is not None:
                one.add(wall, u - less, k)
        many.add_run(wall, uptimes, line, less)
        line += len(uptimes)
    assert many == one


@pytest.mark.parametrize("before", [0, 1, 255, 510, 511, 512, 1021, 1022, 1535, 2044, 4000])
@pytest.mark.parametrize("length", [1, 2, 3, 511, 1500, 5000])
def test_a_long_run_thins_the_sample_as_its_lines_would(before: int, length: int) -> None:
    _compare(before, [(_WALLS[0], [10.0 + i * 1e-3 for i in range(length)], 0.5)])
