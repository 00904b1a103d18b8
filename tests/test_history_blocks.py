"""History read a block of lines at a time gives what the line-at-a-time readers gave.

The oracle is the code it replaced (tests/reference_lines.py): ``Input.lines`` through
``io.TextIOWrapper.readline``, and the ``atop -P`` loop one line a step. Inputs are generated
history and real fixtures with hostile stretches (CR, NUL, invalid UTF-8, over-long lines, cut
samples, other hosts and labels, bad epochs), plain, gzipped, cut and corrupt, UTF-16.
"""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import reference_lines as ref
from dateutil import tz as dateutil_tz

import oomsleuth
from oomsleuth.history import atop, registry, sar
from oomsleuth.history.span import Span
from oomsleuth.history.windows import Windows
from oomsleuth.load import files
from oomsleuth.load.files import Input
from oomsleuth.model import Warning_

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "fixtures" / "real" / "memcg-bystander.dmesg-iso.txt"
KILL = datetime.fromisoformat(LOG.read_text().split(" ", 1)[0].replace(",", "."))
START = KILL - timedelta(hours=20)
PARIS = dateutil_tz.gettz("Europe/Paris")


def atop_text(hours: int = 40, procs: int = 12) -> bytes:
    """atop -P at 10-minute samples around the kill; pid 20928 (the culprit) grows."""
    out = ["RESET"]
    for i in range(hours * 6):
        t = START + timedelta(minutes=10 * i)
        head = f"bench {int(t.timestamp())} {t:%Y/%m/%d %H:%M:%S} 600"
        out.append(f"MEM {head} 4096 6171023 5930415 103883 2896 27013 1144 20943 0 2214 0 0")
        out.append(f"SWP {head} 4096 0 0 0 103400 3085511 0 0 0")
        out.append(f"PSI {head} y 0.1 0.2 0.3 18456 0.0 0.1 0.1 11408 0.0 0.0 0.0 6983")
        for pid in [20928, *range(3000, 3000 + procs)]:
            rss = 5000 + (i * 40 if pid == 20928 else pid)
            out.append(f"PRG {head} {pid} (w {pid}) S 0 0 {pid} 1 0 1 () 0 0 1 0 0 0 0 0 0 0 0 n")
            out.append(
                f"PRM {head} {pid} (w {pid}) S 4096 {3 * rss} {rss} 5 0 0 0 0 8 1 2 0 {pid} y"
            )
        out.append("SEP")
    return ("\n".join(out) + "\n").encode()


def sar_text(days: int = 3) -> bytes:
    """sar -r for ``days`` days from 2026-10-24 (Paris leaves summer time on the 25th): a
    banner each day, then one banner for rows that run on past midnight (the day changes when
    the clock goes back), a blank line before each midnight (a run of rows starts after it)."""
    out = []
    for d in range(days):
        day = datetime(2026, 10, 24) + timedelta(days=d)
        out += [f"Linux 6.1.0 (bench) \t{day:%m/%d/%y} \t_x86_64_\t(2 CPU)", ""]
        out.append("00:00:01    kbmemfree   kbavail kbmemused  %memused")
        out += [
            f"{day + timedelta(minutes=m, seconds=1):%H:%M:%S} {m * 7} 9 9 1.5"
            for m in range(1, 1440)
        ]
        out.append("")
    out += ["Linux 6.1.0 (bench) \t10/24/26 \t_x86_64_\t(2 CPU)", ""]
    out.append("00:00:01    kbmemfree   kbavail kbmemused  %memused")
    for m in range(1, 1440 * days):
        t = datetime(2026, 10, 24) + timedelta(minutes=m, seconds=1)
        out += [""] if t.hour == 0 and t.minute == 0 else []
        out.append(f"{t:%H:%M:%S} {m * 7} 9 9 1.5")
    return ("\n".join(out) + "\n").encode()


def variants(data: bytes, tmp: Path, name: str) -> list[Path]:
    """``data`` as it is, damaged, gzipped, a cut gzip, a corrupt gzip and UTF-16."""
    bad = ref.damaged(data, seed=len(data))
    packed = gzip.compress(bad)
    corrupt = bytearray(packed)
    corrupt[len(corrupt) // 2] ^= 0x55
    made = {
        "plain": data,
        "damaged": bad,
        "damaged.gz": packed,
        "cut.gz": packed[: len(packed) * 2 // 3],
        "corrupt.gz": bytes(corrupt),
        "utf16": bad.decode("latin-1").encode("utf-16"),
        "utf16-cut": bad.decode("latin-1").encode("utf-16")[:-3],
    }
    for kind, content in made.items():
        (tmp / f"{name}.{kind}").write_bytes(content)
    return [tmp / f"{name}.{kind}" for kind in made]


@pytest.mark.parametrize("limit", [64, 1000, 8191, 1 << 20])
def test_lines_and_warnings_are_the_line_readers(tmp_path: Path, limit: int) -> None:
    data = atop_text(6, 3) + ref.damaged(sar_text(1), seed=3) + b"y" * 20000 + b"\r\n\x00\n"
    for path in variants(data, tmp_path, "h"):
        for stream in (False, True):  # a file in big reads; a stream 8 KB a read
            opener = (lambda p=path: p.open("rb")) if stream else None
            inp = Input(path.name, None if stream else path, limit, opener=opener)
            heard: list[Warning_] = []
            got = list(inp.lines(heard.append))
            want_heard: list[tuple[str, int, str]] = []
            want = list(ref.lines(Input(path.name, path, limit), want_heard))
            assert got == want, path.name
            rows = [(c, n, m) for c, n, m in ref.warning_rows(heard)]
            assert [r[:2] for r in rows] == [r[:2] for r in want_heard], path.name
            assert all(w[2] in r[2] for r, w in zip(rows, want_heard, strict=True))


@pytest.mark.parametrize("seed", range(6))
def test_atop_skips_refused_samples_as_the_line_loop_did(tmp_path: Path, seed: int) -> None:
    data = ref.damaged(atop_text(), seed=seed, edits=40)
    path = tmp_path / "atop.txt"
    path.write_bytes(data)
    windows = [
        Windows([KILL], timedelta(minutes=30), timedelta(minutes=5)),
        Windows([START, KILL + timedelta(hours=19)], timedelta(hours=1), timedelta(0)),
        Windows([], timedelta(0), timedelta(0)),
    ]
    for keep in [w.keep for w in windows] + [lambda t: True]:
        got: list[Warning_] = []
        want: list[Warning_] = []
        inp = Input(path.name, path, files.MAX_LINE_BYTES)
        samples = list(
            atop.parse_blocks(
                inp.line_blocks(), source="t", tz=timezone.utc, keep=keep, warn=got.append
            )
        )
        expected = list(ref.atop_lines(inp.lines(), keep, want.append))
        assert samples == expected
        assert ref.warning_rows(got) == ref.warning_rows(want)
        assert samples or keep == windows[2].keep


@pytest.mark.parametrize("zone", [timezone.utc, PARIS])
def test_sar_rows_set_aside_change_nothing(zone: Any) -> None:
    """Rows far from the windows are set aside unasked: the same samples, warnings and span
    as asking about each, with the windows in the rows' zone or in UTC (2 h apart)."""
    text = ref.damaged(sar_text(), seed=5, edits=30).decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    kept = 0
    for at in (zone, timezone.utc):
        kill = datetime(2026, 10, 25, 2, 30, tzinfo=at)  # the hour Paris lives twice
        summer = datetime(2026, 10, 24, 12, tzinfo=at)  # Paris 2 h ahead of UTC
        far = datetime(2026, 9, 1, tzinfo=at)  # no row near: the span still said
        for moments in ([kill], [summer, kill + timedelta(hours=30)], [far]):
            windows = Windows(moments, timedelta(minutes=90), timedelta(minutes=5))
            span, plain = Span(windows.keep, windows.spans), Span(windows.keep, [])
            runs = []
            for keep in (span, plain):  # spans given: far rows set aside; none: each row asked
                heard: list[Warning_] = []
                samples = sar.parse(lines, source="s", tz=zone, keep=keep, warn=heard.append)
                runs.append((list(samples), heard))
            assert runs[0] == runs[1]
            assert (span.first, span.last) == (plain.first, plain.last) != (None, None)
            kept += len(runs[0][0])
    assert kept > 100


def test_analyze_with_month_like_history_is_the_line_readers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the public API: the report with block reading equals the one with every reader
    fed one line a step by the old loader, the old atop loop and no rows set aside."""
    atop_gz = tmp_path / "atop.txt.gz"
    atop_gz.write_bytes(gzip.compress(ref.damaged(atop_text(), seed=9, edits=40)))
    sar_file = tmp_path / "sar.txt"
    sar_file.write_bytes(ref.damaged(sar_text(), seed=9, edits=20))

    def run() -> dict[str, Any]:
        said: list[str] = []
        doc: dict[str, Any] = oomsleuth.analyze(
            [LOG], history=[atop_gz, sar_file], tz="UTC", on_warning=said.append
        ).to_dict()
        return {"doc": doc, "said": said}

    fast = run()
    assert fast["doc"]["history"]["samples_kept"] > 0
    readers = tuple(r if r.name != "atop" else _line_atop(r) for r in registry.READERS)
    monkeypatch.setattr(registry, "READERS", readers)
    monkeypatch.setattr(sar, "band", lambda keep: None)
    monkeypatch.setattr(
        Input, "line_blocks", lambda self, problem=None: ([x] for x in ref.lines(self, []))
    )
    assert run() == fast


def _line_atop(reader: registry.Reader) -> registry.Reader:
    def parse(lines: Any, *, source: str, tz: Any, keep: Any, warn: Any) -> Any:
        return ref.atop_lines(lines, keep, warn, source)

    return registry.Reader(reader.name, reader.description, reader.sniff, parse, None, None)
