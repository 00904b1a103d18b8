"""The kill table on disk: JSON Lines or Parquet, chosen by the output's extension, written
atomically (:mod:`oomsleuth.output`: a temporary file renamed over the target when complete, so
an interrupted run leaves yesterday's table as it was).

JSON Lines: one object per row, every column of :data:`~oomsleuth.fleet.rows.COLUMNS` in order,
written as the JSON report is (UTF-8; invisible and bidi characters ``\\u``-escaped, so a line
is safe to print, and a parser reads back the true value).
Parquet: the same columns with their types (string, int64, float64), one file, zstd-compressed
(snappy when pyarrow lacks zstd); :func:`read_rows` reads either back as the same dicts.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from oomsleuth.errors import UsageError
from oomsleuth.fleet.rows import COLUMNS, NAMES, Row
from oomsleuth.output import atomic, atomic_binary
from oomsleuth.renderers.json import dumps

JSONL = (".jsonl", ".ndjson")
PARQUET = (".parquet", ".pq")
ROW_GROUP = 64 * 1024


def table_format(output: Path) -> str:
    """``jsonl`` or ``parquet``, from the extension; UsageError for anything else."""
    suffix = output.suffix.lower()
    if suffix in JSONL:
        return "jsonl"
    if suffix in PARQUET:
        return "parquet"
    raise UsageError(f"{output}: the table is written as .jsonl or .parquet (by its extension)")


def write_rows(rows: Iterable[Row], output: Path) -> None:
    if table_format(output) == "jsonl":
        with atomic(output) as stream:
            for row in rows:
                stream.write(dumps({k: row.get(k) for k in NAMES}, indent=None))
                stream.write("\n")
            stream.flush()
        return
    pq = _module("pyarrow.parquet")
    table = _arrow_table(list(rows))
    with atomic_binary(output) as stream:
        pq.write_table(table, stream, compression=_codec(), row_group_size=ROW_GROUP)
        stream.flush()


def arrow_schema() -> Any:
    """The Parquet schema of the kill table."""
    pa = _module("pyarrow")

    types = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
    return pa.schema([pa.field(name, types[kind]) for name, (kind, _) in COLUMNS.items()])


def _arrow_table(rows: list[Row]) -> Any:
    pa = _module("pyarrow")

    columns = {name: [row.get(name) for row in rows] for name in NAMES}
    return pa.Table.from_pydict(columns, schema=arrow_schema())


def _codec() -> str:
    pa = _module("pyarrow")

    return "zstd" if pa.Codec.is_available("zstd") else "snappy"


def read_rows(path: Path) -> list[Row]:
    """The rows of a table written by :func:`write_rows` (JSON Lines or Parquet)."""
    if table_format(path) == "jsonl":
        with path.open(encoding="utf-8") as stream:
            return [json.loads(line) for line in stream if line.strip()]
    pq = _module("pyarrow.parquet")
    rows: list[Row] = pq.read_table(path).to_pylist()
    return rows


def _module(name: str) -> Any:
    """An optional dependency (the fleet extra), untyped."""
    return importlib.import_module(name)
