"""Task-table rows read through their header (parsers.taskdump.parse_row): the numbers are
read by ``int`` where it reads exactly what ``-?\\d+`` accepts, and by the pattern where a
``+`` or ``_`` would make them differ; rows of every real report, and rows built of every
kind of would-be number, read as the pattern-only reading reads them."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from oomsleuth.parsers.taskdump import RawRow, parse_row, parse_table_header

ROOT = Path(__file__).resolve().parent.parent
NUM = re.compile(r"^-?\d+$")
ROW = re.compile(r"^\[\s*(?P<pid>-?\d+)\]\s+(?P<rest>.*)$")
COLUMNS = ("uid", "tgid", "total_vm", "rss", "pgtables_bytes", "swapents", "oom_score_adj", "name")


def reference(text: str, columns: tuple[str, ...]) -> RawRow | None:
    """The reading before ``int`` took over: every part matched against ``-?\\d+``."""
    m = ROW.match(text.strip())
    if m is None:
        return None
    n = len(columns) - 1
    parts = m["rest"].split(None, n)
    if len(parts) < n + 1 or not all(NUM.match(p) for p in parts[:n]):
        return None
    values = tuple(zip(columns[:n], (int(p) for p in parts[:n]), strict=True))
    return RawRow(int(m["pid"]), values, parts[n])


CORPUS = ROOT.parent / "shared" / "corpus"  # the shared corpus, where it is beside us


def _logs() -> list[Path]:
    return sorted((ROOT / "fixtures" / "real").glob("*.txt")) + sorted(CORPUS.glob("*.log"))


def test_every_row_of_every_real_report_reads_as_before() -> None:
    rows = 0
    for path in _logs():
        columns = None
        for line in path.read_text(errors="surrogateescape").splitlines():
            for at in (m.start() for m in re.finditer(r"\[", line)):
                text = line[at:].strip()
                if (header := parse_table_header(text)) is not None:
                    columns = header
                    break
                if columns is not None and ROW.match(text):
                    assert parse_row(text, columns) == reference(text, columns), line
                    rows += parse_row(text, columns) is not None
                    break
    assert rows > (500 if CORPUS.is_dir() else 20)


PART = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.text(alphabet="0123456789-+_٣²½x ", min_size=0, max_size=6),
)


@given(st.lists(PART, min_size=0, max_size=9), st.text(max_size=8))
@example(["5_000", "1", "2", "3", "4", "5", "6"], "sshd")
@example(["+5", "1", "2", "3", "4", "5", "6"], "sshd")
@example(["-", "1", "2", "3", "4", "5", "6"], "sshd")
@example(["٣", "-٣", "2", "3", "4", "5", "6"], "sshd")
@example(["²", "1", "2", "3", "4", "5", "6"], "sshd")
@example(["--5", "1", "2", "3", "4", "5", "6"], "sshd")
def test_built_rows_read_as_the_pattern_reads_them(parts: list[str], name: str) -> None:
    text = f"[ 4242] {' '.join(parts)} {name}"
    assert parse_row(text, COLUMNS) == reference(text, COLUMNS)
