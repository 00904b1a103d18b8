"""One pass over a folder or an archive (:func:`oomsleuth.load.archive.scan`), keeping what a
bundle reader needs and no more: the members that may be inputs, with what their heads say
(:mod:`oomsleuth.load.sniff`); the small files that may be host facts, whole (at most
``FACT_BYTES`` each: /proc files, sysctl output, manifests, cgroup control files); the links
among those; and enough of the names to tell the single top folder and the kind of bundle.
Memory grows with the inputs and facts kept, not with the members walked past.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import Protocol

from oomsleuth.load import bundle_read, sosreport
from oomsleuth.load.archive import Member
from oomsleuth.load.bundle_read import FACT_BYTES
from oomsleuth.load.paths import is_log_name
from oomsleuth.load.sniff import Sniffed, skipped_name, sniff_head, sniff_stream
from oomsleuth.load.text import SNIFF_BYTES
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import record

Say = Callable[[str], None]
_FACTS = lazy_compile(f"{sosreport.FACTS.pattern}|{bundle_read.FACTS.pattern}")
# members a bundle reads by path, whatever their heads say
_BY_PATH = lazy_compile(f"{sosreport.LOGS.pattern}|{sosreport.HISTORY.pattern}|(?:logs|history)/.+")
# names that tell the kind of bundle: (prefix, whole name?)
_MARKS = (("sos_commands/", False), ("sos_reports/", False), ("version.txt", True))


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@record(frozen=True, slots=True)
class Scanned:
    """A member that may be an input: what its head says, and whether it is named like a log."""

    member: Member
    sniffed: Sniffed
    named_log: bool


class Tree:
    """What one scan kept (module doc); :meth:`visit` is the scan's visitor."""

    def __init__(self, warn: Say, info: Say) -> None:
        self.warn = warn
        self.info = info
        self.items: list[tuple[str, Scanned]] = []
        self.texts: dict[str, bytes] = {}
        self.links: dict[str, str] = {}
        self.journald = 0
        self.count = 0
        self._tops: set[str] = set()
        self._loose = False
        self._marks: set[tuple[str, str]] = set()

    def visit(self, member: Member, reader: _Readable | None) -> None:
        first, sep, rest = member.rel.partition("/")
        rels = [member.rel, rest] if sep else [member.rel]
        self._note(first, bool(sep), rels)
        fact = any(_FACTS.fullmatch(r) for r in rels)
        if member.link is not None or reader is None:
            if fact and member.link is not None:
                self.links[member.rel] = member.link
            return
        self.count += 1
        if fact and member.size <= FACT_BYTES:
            data = reader.read(FACT_BYTES)
            self.texts[member.rel] = data
            sniffed = sniff_head(data[:SNIFF_BYTES])
        elif member.rel.endswith((".journal", ".journal~")):
            sniffed = Sniffed("journald", "a binary journald file")
        else:
            sniffed = sniff_stream(reader, member.name)
        self._keep(member, sniffed, any(_BY_PATH.fullmatch(r) for r in rels), fact)

    def _keep(self, member: Member, sniffed: Sniffed, by_path: bool, fact: bool) -> None:
        """Keep a member that may be an input; say why another is skipped (a fact is read)."""
        filename = PurePosixPath(member.rel).name
        why = skipped_name(filename)
        named = is_log_name(filename)
        if sniffed.kind == "journald":
            self.journald += 1
            self.info(f"skipped {member.name}: {sniffed.why}")
        elif sniffed.kind == "archive":
            self.warn(f"skipped {member.name}: {sniffed.why}")
        elif fact:
            return  # read whole already: a fact, never an input
        elif why is None and (sniffed.kind in ("log", "history") or named or by_path):
            self.items.append((member.rel, Scanned(member, sniffed, named)))
        else:
            self.info(f"skipped {member.name}: {why or sniffed.why}")

    def _note(self, first: str, nested: bool, rels: list[str]) -> None:
        if len(self._tops) < 2:
            self._tops.add(first)
        self._loose = self._loose or not nested
        roots = ("", first)
        for root, rel in zip(roots, rels, strict=False):
            for mark, whole in _MARKS:
                if rel == mark if whole else rel.startswith(mark):
                    self._marks.add((root, mark))

    @property
    def top(self) -> str | None:
        """The single folder every member is in (a tarball's), or None."""
        return next(iter(self._tops)) if len(self._tops) == 1 and not self._loose else None

    def has(self, mark: str) -> bool:
        """Whether a path under the top starts with (or, for a file, is) ``mark``."""
        return (self.top or "", mark) in self._marks

    def _strip(self, rel: str) -> str | None:
        top = self.top
        if top is None:
            return rel
        return rel[len(top) + 1 :] if rel.startswith(top + "/") else None

    def under(self) -> Iterator[tuple[str, Scanned]]:
        """The candidate inputs, by their paths under the top folder."""
        for rel, item in self.items:
            inner = self._strip(rel)
            if inner is not None:
                yield inner, item

    def texts_under(self) -> dict[str, bytes]:
        return {inner: v for k, v in self.texts.items() if (inner := self._strip(k)) is not None}

    def links_under(self) -> dict[str, str]:
        return {inner: v for k, v in self.links.items() if (inner := self._strip(k)) is not None}
