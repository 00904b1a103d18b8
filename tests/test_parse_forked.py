"""Several big kernel-log sources are parsed side by side, each in a forked process: the result
is the one-process parsing's exactly (reports, order, warnings, boots, segments, what the user is
told), and an error surfaces as it does in one process."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

import oomsleuth
from oomsleuth import scanner
from oomsleuth.errors import InputError
from oomsleuth.load import forking
from oomsleuth.load import sources_forked as forked
from oomsleuth.load.files import Input

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
MIXED = [
    FIX / "real" / "memcg-adj.dmesg-T.txt",
    FIX / "handwritten" / "k6.1-memcg-v2.journal.json",
    FIX / "real" / "memcg-bystander.kmsg.txt",
    FIX / "handwritten" / "k5.14-el9-memcg-v2.rsyslog.log",
    FIX / "userspace" / "earlyoom-current-syslog.log",
    FIX / "handwritten" / "k5.15-global.journal-short-precise.txt",
    FIX / "real" / "memcg-names.dmesg-iso.txt",
    FIX / "handwritten" / "k6.1-memcg-callbacks-suppressed.dmesg.txt",
]


class Run:
    """One analyze: the report (or the error), its JSON and what the user was told."""

    def __init__(self, paths: list[Path]) -> None:
        self.said: list[str] = []
        self.error: tuple[type, str] | None = None
        self.report: oomsleuth.Report | None = None
        self.json = ""
        try:
            self.report = oomsleuth.analyze(paths, tz="UTC", on_warning=self.said.append)
        except Exception as exc:
            self.error = (type(exc), str(exc))
            return
        out = io.StringIO()
        oomsleuth.render(self.report, "json", out)
        self.json = out.getvalue()


def _both(
    monkeypatch: pytest.MonkeyPatch, paths: list[Path], fork_bytes: int = 0
) -> tuple[Run, Run, list[int], int]:
    """One process, then side by side; the jobs of each fork and how many merges were made."""
    forks: list[int] = []
    merges: list[bool] = []
    real_fork, real_merge = forked.read_forked, scanner.merged

    def counted(jobs, done=None):  # type: ignore[no-untyped-def]
        forks.append(len(jobs))
        return real_fork(jobs, done)

    def merge(parts):  # type: ignore[no-untyped-def]
        got = real_merge(parts)
        merges.append(got is not None)
        return got

    monkeypatch.setattr(forked, "read_forked", counted)
    monkeypatch.setattr(scanner, "merged", merge)
    monkeypatch.setattr(forked, "FORK_BYTES", fork_bytes)
    monkeypatch.setattr(forked, "cores", lambda: 2)
    monkeypatch.setattr(forked, "safe_to_fork", lambda: True)  # other tests' idle threads
    monkeypatch.setenv(forking.NO_FORK, "1")
    alone = Run(paths)
    monkeypatch.setenv(forking.NO_FORK, "0")
    side = Run(paths)
    return alone, side, forks, sum(merges)


def _same(alone: Run, side: Run) -> None:
    assert side.error == alone.error
    assert side.said == alone.said
    assert side.report == alone.report
    assert side.json == alone.json
    if alone.report is not None and side.report is not None:
        assert side.report.to_dict() == alone.report.to_dict()
        assert json.loads(side.json) == json.loads(alone.json) != {}


def test_mixed_framings_side_by_side(monkeypatch: pytest.MonkeyPatch) -> None:
    alone, side, forks, merges = _both(monkeypatch, MIXED)
    assert forks == [len(MIXED)] and merges == 1
    _same(alone, side)
    assert side.report is not None and len(side.report.reports) >= len(MIXED) - 1


def test_order_follows_the_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given in reverse, the sources, reports and segments follow the new order (a merge that
    sorted or kept the children's arrival order would fail here or in the comparison)."""
    paths = MIXED[::-1]
    alone, side, forks, merges = _both(monkeypatch, paths)
    assert forks == [len(paths)] and merges == 1
    _same(alone, side)
    report = side.report
    assert report is not None
    assert list(report.sources) == [str(p) for p in paths]
    rank = {str(p): i for i, p in enumerate(paths)}
    seen = [rank[e.where.source] for e in report.reports if e.where.source in rank]
    assert seen == sorted(seen) and len(set(seen)) > 3
    segs = [rank[s.source] for s in report.segments if s.source in rank]
    assert segs == sorted(segs)


def _cut(lines: list[str], at: int, folder: Path, names: tuple[str, str]) -> list[Path]:
    out = []
    for name, part in zip(names, (lines[:at], lines[at:]), strict=True):
        path = folder / name
        data = "".join(part).encode()
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        out.append(path)
    return out


def test_one_report_split_across_two_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    lines = (FIX / "real" / "memcg-single.dmesg.txt").read_text().splitlines(keepends=True)
    kill = next(i for i, line in enumerate(lines) if "Killed process" in line)
    for at in (1, kill // 2, kill, kill + 1):
        paths = _cut(lines, at, tmp_path, (f"a{at}.log", f"b{at}.log"))
        alone, side, forks, merges = _both(monkeypatch, paths)
        assert forks == [2] and merges == 1
        _same(alone, side)


def test_rotated_logs_with_a_gzip_a_damaged_gzip_and_junk(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = (FIX / "handwritten" / "k5.14-el9-memcg-v2.rsyslog.log").read_text()
    lines = text.splitlines(keepends=True)
    third = len(lines) // 3
    old = _cut(lines[: 2 * third], third, tmp_path, ("messages.3.gz", "messages.2"))
    new = tmp_path / "messages"
    new.write_text("".join(lines[2 * third :]))
    packed = gzip.compress(text.encode() * 40)
    broken = tmp_path / "messages.1.gz"
    broken.write_bytes(packed[: len(packed) * 2 // 3])
    junk = tmp_path / "notes.bin"
    junk.write_bytes(bytes(range(256)) * 64)
    for paths in ([*old, broken, new], [*old, junk, broken, new], [junk, *old]):
        alone, side, forks, merges = _both(monkeypatch, paths)
        assert forks == [len(paths) - (junk in paths)] and merges == 1  # junk: skipped before
        _same(alone, side)
        assert side.said and side.report is not None  # the damaged gzip or the junk is told
        damaged = [w.where.source for w in side.report.warnings if w.code == "input-damaged"]
        assert damaged == ([str(broken)] if broken in paths else [])


def test_an_error_surfaces_as_in_one_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A source that cannot be read once parsing began (here: a stand-in for an I/O error) raises
    the one-process error, after the same warnings about the sources before it."""
    from oomsleuth.load.blocks import BlockLines

    real_open = BlockLines._open

    def failing(self: BlockLines) -> None:
        if "boom" in self.input.name:
            raise InputError(f"cannot read {self.input.name}: stand-in")
        real_open(self)

    monkeypatch.setattr(BlockLines, "_open", failing)
    packed = gzip.compress(MIXED[0].read_bytes() * 50)
    broken = tmp_path / "kern.log.2.gz"
    broken.write_bytes(packed[: len(packed) // 2])
    boom, after = tmp_path / "boom.log", tmp_path / "after.log.gz"
    boom.write_bytes(MIXED[2].read_bytes())
    after.write_bytes(packed[: len(packed) // 3])  # damaged too: never reached, never told
    paths = [MIXED[0], broken, boom, after, MIXED[1]]
    alone, side, forks, merges = _both(monkeypatch, paths)
    _same(alone, side)
    assert alone.error is not None and alone.error[0] is InputError
    assert "boom.log" in alone.error[1] and len(side.said) == 1 and "kern.log.2.gz" in side.said[0]
    assert forks == [len(paths)] and merges == 0


@pytest.mark.parametrize(
    "name", ["systemd-oomd-syslog.log", "earlyoom-current-syslog.log", "nohang-current-journal.log"]
)
def test_userspace_killers_split_anywhere(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A userspace parser left holding a record at the end of a file goes on in the next one:
    the merge declines (one process then) or is exact."""
    lines = (FIX / "userspace" / name).read_text().splitlines(keepends=True)
    declined = 0
    for at in range(1, len(lines)):
        paths = _cut(lines, at, tmp_path, (f"{at}.log.1", f"{at}.log"))
        alone, side, forks, merges = _both(monkeypatch, paths)
        assert forks == [2]
        _same(alone, side)
        declined += 1 - merges
    assert declined < len(lines) - 1  # most cuts are merged
    if name.startswith("systemd-oomd"):
        assert declined  # a dump cut in two is read by one process


def test_one_source_or_small_sources_are_parsed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    alone, side, forks, merges = _both(monkeypatch, MIXED[:1])
    assert forks == [] and merges == 0
    _same(alone, side)
    alone, side, forks, merges = _both(monkeypatch, MIXED, fork_bytes=32 << 20)  # far smaller
    assert forks == [] and merges == 0
    _same(alone, side)
    monkeypatch.setattr(forked, "FORK_BYTES", 0)
    monkeypatch.setenv(forking.NO_FORK, "0")
    assert forked.worth_forking([Input(str(p), p) for p in MIXED])
    assert not forked.worth_forking([Input("-", None)] * 2)  # stdin
    assert not forked.worth_forking([Input(str(MIXED[0]), MIXED[0])] * 2)  # one name twice
    monkeypatch.setattr(forked, "cores", lambda: 1)
    assert not forked.worth_forking([Input(str(p), p) for p in MIXED])
    monkeypatch.setattr(forked, "cores", lambda: 2)
    monkeypatch.setenv(forking.NO_FORK, "1")
    assert not forked.worth_forking([Input(str(p), p) for p in MIXED])


def test_one_file_given_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    alone, side, forks, merges = _both(monkeypatch, [MIXED[0], MIXED[1], MIXED[0]])
    assert forks == [2] and merges == 1  # analyze reads a path once
    _same(alone, side)


def test_hosts_keep_their_first_appearance_order(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A central syslog's hosts in another order in each file, each file ending with rate-limited
    reports: the end-of-input warnings (no line of their own) come host by host, in the order
    the hosts first appeared over all files, as one scanner gives them."""
    lines = (FIX / "handwritten" / "k5.14-el9-memcg-v2.rsyslog.log").read_text().splitlines()

    def on(host: str) -> list[str]:
        return [line.replace(" idp01 ", f" {host} ") for line in lines]

    def limited(host: str, n: int) -> str:
        return f"Nov 30 03:00:0{n} {host} kernel: oom_kill_process: {n} callbacks suppressed"

    first = tmp_path / "central.log.1"
    first.write_text(
        "\n".join([*on("alpha"), *on("beta"), limited("beta", 1), limited("alpha", 2)])
    )
    second = tmp_path / "central.log"
    second.write_text(
        "\n".join([*on("beta"), *on("alpha"), limited("alpha", 3), limited("beta", 4)])
    )
    alone, side, forks, merges = _both(monkeypatch, [first, second])
    assert forks == [2] and merges == 1
    _same(alone, side)
    assert side.report is not None
    limits = [w.message.split()[0] for w in side.report.warnings if w.where.source == "-"]
    assert limits == ["2", "3", "1", "4"]  # alpha's (both files), then beta's


def test_progress_is_told_as_each_source_is_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a progress callback (the terminal's status line) the sources are still parsed side
    by side; it hears the bytes of the sources parsed so far, of all, up to all of them, and
    the result is the one without it."""
    paths = MIXED[:4]
    _, side, forks, _ = _both(monkeypatch, paths)
    heard: list[tuple[str, int, int, int | None]] = []
    told = oomsleuth.analyze(
        paths, tz="UTC", on_warning=lambda _: None, on_progress=lambda *a: heard.append(a)
    )
    total = sum(p.stat().st_size for p in paths)
    assert forks == [len(paths), len(paths)]  # _both's side-by-side run, then this one
    assert [h[0] for h in heard] == ["4 files side by side"] * (len(paths) + 1)
    assert heard[0][2] == 0 and heard[-1][2] == heard[-1][3] == total
    assert [h[2] for h in heard] == sorted(h[2] for h in heard)
    assert side.report is not None and told.to_dict() == side.report.to_dict()
    assert heard[-1][1] == told.lines_read
