"""What the robustness tests share: the real logs (fixtures and the shared corpus, read in
place), their kills, mutations that keep track of the lines they touch, and a deadline."""

from __future__ import annotations

import contextlib
import random
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import FrameType

import oomsleuth
from oomsleuth.model import Report

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
MARGIN = 15  # lines after a kill line its record or block may still need (journal -o verbose)
Key = tuple[int, int]  # (line of the kill, victim pid)


def candidates() -> list[Path]:
    corpus = sorted(CORPUS.glob("*.log")) if CORPUS.is_dir() else []
    fixtures = [
        p
        for p in sorted((ROOT / "fixtures").rglob("*"))
        if p.is_file()
        and p.suffix in (".txt", ".log", ".json")
        and not p.name.endswith((".facts.json", ".expect.json", ".meta.json"))
    ]
    return [*fixtures, *corpus]


def run(path: Path) -> Report:
    return oomsleuth.analyze([path], tz="UTC", year=2026, on_warning=lambda _: None)


def regions(report: Report) -> dict[Key, tuple[int, int]]:
    """Each kill and the lines it rests on: the kill line, the line before it (a glued line
    may belong to it) and MARGIN lines after; a userspace killer's block around its line. The
    rest of a kernel report may be damaged: its kill line alone is a kill."""
    out = {
        (k.where.line, k.victim.pid): (k.where.line - 1, k.where.line + MARGIN)
        for rep in report.reports
        for k in rep.kills
    }
    for u in report.userspace:
        if u.pid is not None:
            out[u.where.line, u.pid] = (u.where.line - MARGIN, u.where.line + MARGIN)
    return out


@dataclass(frozen=True)
class Log:
    path: Path
    data: bytes
    kills: dict[Key, tuple[int, int]]

    @property
    def lines(self) -> list[bytes]:
        return self.data.split(b"\n")


@cache
def logs() -> tuple[Log, ...]:
    """Every fixture and corpus file in which oomsleuth finds a kill, with those kills."""
    out = []
    for path in candidates():
        kills = regions(run(path))
        if kills:
            out.append(Log(path, path.read_bytes(), kills))
    return tuple(out)


def found(report: Report) -> set[Key]:
    return set(regions(report))


@dataclass
class Mutated:
    """Mutated bytes; ``moved`` maps an untouched original line to its new number."""

    data: bytes
    moved: dict[int, int]
    touched: set[int]

    def intact(self, log: Log) -> set[Key]:
        """The kills whose lines the mutation left alone, at their new line numbers."""
        return {
            (self.moved[line], pid)
            for (line, pid), (first, last) in log.kills.items()
            if not any(first <= t <= last for t in self.touched) and line in self.moved
        }


def mutate(
    lines: list[bytes], touch: set[int], build: Callable[[int, bytes], list[bytes]]
) -> Mutated:
    """Lines (1-based numbers in ``touch``) replaced by what ``build`` makes of them."""
    out: list[bytes] = []
    moved = {}
    for number, line in enumerate(lines, 1):
        if number in touch:
            out += build(number, line)
        else:
            out.append(line)
            moved[number] = len(out)
    return Mutated(b"\n".join(out), moved, set(touch))


def flips(lines: list[bytes], rnd: random.Random, n: int = 6) -> Mutated:
    """Bytes flipped (never into or out of a line end)."""
    touch = {rnd.randrange(1, len(lines) + 1) for _ in range(n)}

    def flip(_: int, line: bytes) -> list[bytes]:
        if not line:
            return [b"\xff"]
        b = bytearray(line)
        i = rnd.randrange(len(b))
        b[i] = rnd.choice([c for c in range(256) if c not in (10, 13, b[i])])
        return [bytes(b)]

    return mutate(lines, touch, flip)


def glued(lines: list[bytes], rnd: random.Random, n: int = 5) -> Mutated:
    """Line ends removed: a line glued to the one after it."""
    ends = {rnd.randrange(1, len(lines)) for _ in range(n)} if len(lines) > 1 else set()
    touch = ends | {e + 1 for e in ends}
    held: list[bytes] = []

    def glue(number: int, line: bytes) -> list[bytes]:
        if number in ends:
            held.append(line)
            return []
        joined = b"".join(held) + line
        held.clear()
        return [joined]

    return mutate(lines, touch, glue)


def duplicated(lines: list[bytes], rnd: random.Random, n: int = 5) -> Mutated:
    touch = {rnd.randrange(1, len(lines) + 1) for _ in range(n)}
    return mutate(lines, touch, lambda _, line: [line, line])


def junk_head(lines: list[bytes], rnd: random.Random) -> Mutated:
    """Three lines of junk bytes (no line end) at the head, one of them 9000 bytes long."""
    junk = [
        bytes(rnd.choice([c for c in range(256) if c != 10]) for _ in range(k))
        for k in (9000, 40, 300)
    ]
    return Mutated(b"\n".join([*junk, *lines]), {i: i + 3 for i in range(1, len(lines) + 1)}, set())


def crlf(lines: list[bytes]) -> Mutated:
    return Mutated(b"\r\n".join(lines), {i: i for i in range(1, len(lines) + 1)}, set())


def utf16(lines: list[bytes]) -> Mutated:
    text = b"\n".join(lines).decode("utf-8", "replace")
    return Mutated(text.encode("utf-16"), {i: i for i in range(1, len(lines) + 1)}, set())


class Hang(Exception):
    pass


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise Hang in the block after ``seconds`` (a hang is a failure, not a stuck suite)."""

    def ring(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer in {seconds} s")

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
