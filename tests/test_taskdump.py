"""Task-table rows read through their header (parsers.taskdump.parse_row): the numbers are
read by ``int`` where it reads exactly what ``-?\\d+`` accepts, and by the pattern where a
``+`` or ``_`` would make them differ; rows of every real report, and rows built of every
kind of would-be number, read as the pattern-only reading reads them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from oomsleuth.model import TaskRow
from oomsleuth.parsers.taskdump import PAGE_COLUMNS, RawRow, parse_row, parse_table_header, to_row

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
    return RawRow(int(m["pid"]), columns, tuple(int(p) for p in parts[:n]), parts[n])


CORPUS = ROOT.parent / "shared" / "corpus"  # the shared corpus, where it is beside us


def _logs() -> list[Path]:
    return sorted((ROOT / "fixtures" / "real").glob("*.txt")) + sorted(CORPUS.glob("*.log"))


def _real_rows() -> Iterator[tuple[str, tuple[str, ...] | None]]:
    """Every task row of every real log (its text from the "["), with the columns of the
    table header before it (None: none yet)."""
    for path in _logs():
        columns = None
        for line in path.read_text(errors="surrogateescape").splitlines():
            for at in (m.start() for m in re.finditer(r"\[", line)):
                text = line[at:].strip()
                if (header := parse_table_header(text)) is not None:
                    columns = header
                    break
                if ROW.match(text):
                    yield text, columns
                    break


def test_every_row_of_every_real_report_reads_as_before() -> None:
    rows = 0
    for text, columns in _real_rows():
        if columns is not None:
            assert parse_row(text, columns) == reference(text, columns), text
            rows += parse_row(text, columns) is not None
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


def reference_row(raw: RawRow, page_kb: int) -> TaskRow:
    """to_row as first written (a helper per column, the known columns' set made each time)."""
    vals = dict(raw.values)

    def kb(name: str) -> int | None:
        v = vals.get(name)
        return None if v is None else v * page_kb

    pgtables: int | None = None
    if "pgtables_bytes" in vals:
        pgtables = vals["pgtables_bytes"] // 1024
    elif "nr_ptes" in vals:
        pgtables = (vals["nr_ptes"] + vals.get("nr_pmds", 0)) * page_kb
    known = PAGE_COLUMNS | {"uid", "tgid", "pgtables_bytes", "oom_score_adj", "oom_adj", "cpu"}
    extra = tuple((k, v) for k, v in raw.values if k not in known)
    return TaskRow(
        pid=raw.pid,
        comm=raw.comm,
        tgid=vals.get("tgid"),
        uid=vals.get("uid"),
        total_vm_kb=kb("total_vm"),
        rss_kb=kb("rss"),
        rss_anon_kb=kb("rss_anon"),
        rss_file_kb=kb("rss_file"),
        rss_shmem_kb=kb("rss_shmem"),
        pgtables_kb=pgtables,
        swap_kb=kb("swapents"),
        oom_score_adj=vals.get("oom_score_adj"),
        oom_adj=vals.get("oom_adj"),
        extra=extra,
    )


def test_rows_in_kb_as_first_written() -> None:
    """Every real row, of every era's columns, with and without a header, and rows with
    columns the TaskRow has no field for (kept in extra), in 4 and 64 kB pages."""
    raws: list[RawRow] = []
    for text, columns in _real_rows():
        raws += filter(None, (parse_row(text, columns), parse_row(text, None)))
    odd = ("uid", "tgid", "total_vm", "rss", "nr_ptes", "nr_pmds", "cpu", "weird", "swapents")
    raws.append(RawRow(7, odd, tuple(range(1, 10)), "odd"))
    raws.append(RawRow(8, ("nr_ptes", "extra_b", "name"), (3, 2), "ptes"))
    twice = ("uid", "rss", "weird", "rss", "weird", "nr_ptes", "name", "rss")
    raws.append(RawRow(9, twice, (1, 2, 3, 4, 5, 6, 7), "twice"))  # a header naming some twice
    assert len(raws) > 60
    for raw in raws:
        for page_kb in (4, 64):
            assert to_row(raw, page_kb) == reference_row(raw, page_kb)
