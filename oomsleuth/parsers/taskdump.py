"""The task-dump table, read through its own header line so every column set works.

Headers seen in the wild (see the format reference, section 6)::

    [ pid ]   uid  tgid total_vm      rss cpu oom_adj name                      2.6.25-2.6.35
    [ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name   3.6-3.19
    [  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents
        oom_score_adj name                                                    6.8+ (one line)

Rows are kept raw (pages) until the report's page size is known; ``to_row`` converts them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from operator import itemgetter

from oomsleuth.model import TaskRow
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import record

_HEADER = lazy_compile(r"^\[\s*pid\s*\]\s+(?P<cols>.*\bname)\s*$")
_ROW = lazy_compile(r"^\[\s*(?P<pid>-?\d+)\]\s+(?P<rest>.*)$")
_NUM = lazy_compile(r"^-?\d+$")

# columns whose values are pages; everything else keeps its own unit
PAGE_COLUMNS = {
    "total_vm",
    "rss",
    "rss_anon",
    "rss_file",
    "rss_shmem",
    "swapents",
    "nr_ptes",
    "nr_pmds",
}
# the stable prefix of every era, used for rows whose header line is missing
FALLBACK_COLUMNS = ("uid", "tgid", "total_vm", "rss")
_FALLBACK = (*FALLBACK_COLUMNS, "oom_score_adj")  # a row without a header: the last number too


def parse_table_header(text: str) -> tuple[str, ...] | None:
    """Column names after ``pid`` (``name`` last), or None when the line is no table header."""
    m = _HEADER.match(text.strip())
    if m is None:
        return None
    cols = tuple(m["cols"].split())
    return cols if cols and cols[-1] == "name" else None


@record(frozen=True, slots=True)
class RawRow:
    """A row as read, in pages: its numbers by the columns' names (``columns`` may name one
    more, the comm's)."""

    pid: int
    columns: tuple[str, ...]
    numbers: tuple[int, ...]
    comm: str

    @property
    def values(self) -> tuple[tuple[str, int], ...]:
        """(column, number) pairs, in order."""
        return tuple(zip(self.columns, self.numbers))  # noqa: B905 (columns: one more)


def parse_row(text: str, columns: tuple[str, ...] | None) -> RawRow | None:
    """A table row; ``columns`` from the header (None when the header was not seen)."""
    m = _ROW.match(text.strip())
    if m is None:
        return None
    pid = int(m["pid"])
    rest = m["rest"]
    if columns is not None:
        n_numeric = len(columns) - 1
        parts = rest.split(None, n_numeric)
        numbers = _numbers(parts[:n_numeric]) if len(parts) > n_numeric else None
        if numbers is None:
            return None
        return RawRow(pid, columns, tuple(numbers), parts[n_numeric])
    # no header: numbers up to the name; the era's first four columns are stable, and the
    # last number is oom_score_adj (or oom_adj before 2.6.36, which we cannot tell apart)
    parts = rest.split()
    nums: list[int] = []
    for part in parts:
        if not _NUM.match(part) or len(nums) >= 12:
            break
        nums.append(int(part))
    if len(nums) < 5 or len(nums) == len(parts):
        return None
    comm = rest.split(None, len(nums))[-1]
    return RawRow(pid, _FALLBACK, (*nums[:4], nums[-1]), comm)


def _numbers(parts: list[str]) -> list[int] | None:
    """Each part as an int, or None unless every one is ``-?\\d+`` (:data:`_NUM`). A row of a
    big task table has ten of them, hundreds of rows a report: ``int`` reads the same parts
    (no space in them, split out) and refuses the same, but for a ``+`` or ``_``, which it
    would read and the pattern does not, so a part with either goes the pattern's way."""
    joined = "".join(parts)
    if "+" in joined or "_" in joined:
        return [int(p) for p in parts] if all(_NUM.match(p) for p in parts) else None
    try:
        return list(map(int, parts))
    except ValueError:
        return None


# the columns a TaskRow has a field for; any other is kept in ``extra``
_KNOWN = frozenset(
    PAGE_COLUMNS | {"uid", "tgid", "pgtables_bytes", "oom_score_adj", "oom_adj", "cpu"}
)
# the columns TaskRow fields are read from, in the order _layout gives their places
_READ = (
    *("tgid", "uid", "total_vm", "rss", "rss_anon", "rss_file", "rss_shmem", "swapents"),
    *("oom_score_adj", "oom_adj", "pgtables_bytes", "nr_ptes", "nr_pmds"),
)
Layout = tuple[Callable[[tuple[int | None, ...]], tuple[int | None, ...]], tuple[int, ...]]


@lru_cache(maxsize=64)  # a few headers a log; bounded whatever a hostile log holds
def _layout(columns: tuple[str, ...], count: int) -> Layout:
    """What reads :data:`_READ` from a row's numbers with a None after them (each the last
    column of that name among the first ``count``, as a dict of the pairs keeps it; the None
    for a column the header lacks), and the places of the columns that are not
    :data:`_KNOWN` (``extra``)."""
    at = {name: i for i, name in enumerate(columns[:count])}
    extra = tuple(i for i, name in enumerate(columns[:count]) if name not in _KNOWN)
    return itemgetter(*(at.get(name, count) for name in _READ)), extra


def to_row(raw: RawRow, page_kb: int) -> TaskRow:
    """The row in kB (pages times ``page_kb``). Runs for every row of every report: the
    places of its columns looked up once per header (:func:`_layout`), no dict a row."""
    n, columns = raw.numbers, raw.columns
    read, extra = _layout(columns, len(n))
    tgid, uid, vm, rss, anon, file, shmem, swap, adj, old_adj, pgb, ptes, pmds = read((*n, None))
    pgtables: int | None = None
    if pgb is not None:
        pgtables = pgb // 1024
    elif ptes is not None:
        pgtables = (ptes + (pmds or 0)) * page_kb
    return TaskRow(  # by position (the fields' order), quicker than by name
        raw.pid,
        raw.comm,
        tgid,
        uid,
        None if vm is None else vm * page_kb,
        None if rss is None else rss * page_kb,
        None if anon is None else anon * page_kb,
        None if file is None else file * page_kb,
        None if shmem is None else shmem * page_kb,
        pgtables,
        None if swap is None else swap * page_kb,
        adj,
        old_adj,
        tuple((columns[i], n[i]) for i in extra) if extra else (),
    )
