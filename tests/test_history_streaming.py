"""Prometheus history of any size: streamed as bytes, no line limit, errors said.

Through ``oomsleuth.analyze`` with the real OOM report of fixtures/real/memcg-bystander and
generated ``query_range`` responses around its kill.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import oomsleuth
import oomsleuth.load.history as load_history

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "fixtures" / "real" / "memcg-bystander.dmesg-iso.txt"
KILL = int(datetime.fromisoformat(LOG.read_text().split(" ", 1)[0].replace(",", ".")).timestamp())
FREE = "node_memory_MemFree_bytes"
IN_WINDOW = 35 * 60  # 1 s points from 30 min before the kill (at .32 s) to 5 min after


def response(points: int, step: int = 1, *, names: tuple[str, ...] = (FREE,)) -> str:
    """One compact line: ``points`` points a series ending 10 min after the kill."""
    result = []
    for name in names:
        values = ",".join(
            f'[{t},"{1 << 30 if t < KILL - 600 else 1 << 20}"]'
            for t in range(KILL + 600 - points * step, KILL + 600, step)
        )
        result.append(f'{{"metric":{{"__name__":"{name}","instance":"web1"}},"values":[{values}]}}')
    return '{"status":"success","data":{"resultType":"matrix","result":[' + ",".join(result) + "]}}"


def history(report: oomsleuth.model.Report) -> dict[str, Any]:
    doc: dict[str, Any] = report.to_dict()["history"]
    return doc


def test_a_one_line_response_longer_than_any_line_limit_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The line-based loader would cut this line (its limit made small here): the byte stream
    has no limit, so every point in the window is kept and nothing is said to be cut."""
    monkeypatch.setattr(load_history, "JSON_LINE_BYTES", 64 << 10)
    path = tmp_path / "range.json"
    path.write_text(response(120_000) + "\n")  # 3.5 MB on one line, 1 s step
    assert path.stat().st_size > 40 * (64 << 10)
    got = history(oomsleuth.analyze([LOG], history=[path], on_warning=lambda _: None))
    assert got["sources"] == [{"source": str(path), "format": "prometheus"}]
    assert got["samples_kept"] == IN_WINDOW
    assert got["warnings"] == []


def test_a_truncated_compressed_response_keeps_the_series_before_the_cut(tmp_path: Path) -> None:
    names = ("node_memory_MemFree_bytes", "node_memory_Cached_bytes", "node_memory_Shmem_bytes")
    data = gzip.compress((response(3000, names=names) + "\n").encode())
    path = tmp_path / "range.json.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    warned: list[str] = []
    got = history(oomsleuth.analyze([LOG], history=[path], on_warning=warned.append))
    codes = [w["code"] for w in got["warnings"]]
    assert "input-damaged" in codes and "bad-json" in codes
    kept = got["samples_kept"]
    assert IN_WINDOW <= kept < 3 * IN_WINDOW  # the first series whole, not all three


def test_an_error_response_is_its_error_not_an_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "range.json"
    error = 'invalid parameter "query": 1:14: parse error: unexpected "}"'
    path.write_text(json.dumps({"status": "error", "errorType": "bad_data", "error": error}))
    proc = subprocess.run(
        [sys.executable, "-m", "oomsleuth", "analyze", str(LOG), "--history", str(path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0
    assert f"the query failed: bad_data: {error}" in proc.stderr
    assert "not a history format" not in proc.stderr
    got = history(oomsleuth.analyze([LOG], history=[path], on_warning=lambda _: None))
    assert [w["code"] for w in got["warnings"]] == ["query-error"]
    assert got["warnings"][0]["message"] == f"bad_data: {error}"


@pytest.mark.slow
def test_a_300_mb_one_line_response_yields_its_samples(tmp_path: Path) -> None:
    """What used to be cut at the 256 MiB line limit, with all its samples lost."""
    path = tmp_path / "big.json"
    points = 1_500_000  # 8 series of 1.5 M points at 1 s: about 300 MB
    names = tuple(f"node_memory_{k}_bytes" for k in ("MemFree", "Cached", "Shmem", "Slab"))
    with path.open("w") as f:
        f.write(response(points, names=names * 2))
        f.write("\n")
    assert path.stat().st_size > 300_000_000
    got = history(oomsleuth.analyze([LOG], history=[path], on_warning=lambda _: None))
    assert got["samples_kept"] == 8 * IN_WINDOW
    assert got["warnings"] == []


def test_a_line_that_breaks_a_value_and_itself_keeps_what_each_holds() -> None:
    """Line 1 is cut off, line 2 starts a new response (read again on its own: it holds a whole
    series) and is itself cut by junk, line 3 is whole: the three series are kept, one warning
    says where it broke, and nothing of line 2's half value leaks into line 3's."""
    from oomsleuth.history import prometheus
    from oomsleuth.model import Warning_

    head = '{"status":"success","data":{"resultType":"matrix","result":['
    series = '{"metric":{"__name__":"node_memory_%s_bytes"},"values":[[1795646000,"%d"]]}'
    lines = [
        head + (series % ("Cached", 4096))[:-2],
        '{"data":{"result":[' + series % ("Slab", 1024) + ',{"metric": <oops>',
        head + series % ("Shmem", 2048) + "]}}",
    ]
    heard: list[Warning_] = []
    got = list(prometheus.parse(lines, source="t", tz=timezone.utc, warn=heard.append))
    assert [(s.metric, s.value) for s in got] == [
        ("cached_kb", 4.0),
        ("slab_kb", 1.0),
        ("shmem_kb", 2.0),
    ]
    assert [(w.where.line, w.code) for w in heard] == [(2, "bad-json")]
