"""A bundle read whole: an archive or a bundle folder scanned once (:mod:`oomsleuth.load.
archive`, :mod:`oomsleuth.load.tree`), then read as a sosreport, an ``oomsleuth collect``
bundle or any archive of logs (:mod:`oomsleuth.load.bundles` decides what is a bundle)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from oomsleuth.errors import InputError
from oomsleuth.load import bundle_read, sosreport
from oomsleuth.load.archive import scan
from oomsleuth.load.paths import age_key
from oomsleuth.load.tree import Scanned, Tree
from oomsleuth.model import HostFacts

if TYPE_CHECKING:
    from oomsleuth.load.evidence import Evidence

Say = Callable[[str], None]
Role = Callable[[str, Scanned], "str | None"]


def tree_evidence(where: Path, label: str, kind: str, warn: Say, info: Say) -> Evidence:
    tree = Tree(warn, info)
    scan(where, label, kind, tree.visit, warn)
    if tree.journald:
        warn(
            f"skipped {tree.journald} binary journald file(s) in {label}; convert with: "
            "journalctl --file FILE -o export > FILE.export"
        )
    texts = tree.texts_under()
    if sosreport.is_sosreport(tree.has):
        info(f"{label} is a sosreport")
        facts = sosreport.host_facts(tree.top or where.name, texts, tree.links_under())
        return _evidence(tree, label, ("a sosreport", _sos_role), facts, warn, info)
    doc = bundle_read.manifest(texts)
    if doc is not None:
        info(f"{label} is an oomsleuth bundle")
        note = bundle_read.newer(doc)
        if note:
            warn(f"{label}: {note}; reading what it can")
        facts = bundle_read.host_facts(where.name, texts, doc)
        return _evidence(tree, label, ("an oomsleuth bundle", _bundle_role), facts, warn, info)
    return _evidence(tree, label, ("an archive", _content_role), None, warn, info)


def _sos_role(rel: str, item: Scanned) -> str | None:
    return sosreport.role(rel, item.sniffed.kind == "log")


def _bundle_role(rel: str, item: Scanned) -> str | None:
    return bundle_read.role(rel)


def _content_role(rel: str, item: Scanned) -> str | None:
    """Any archive of logs, as a folder: by head, or by name for a log."""
    if item.sniffed.kind in ("log", "history"):
        return item.sniffed.kind
    return "log" if item.named_log and item.sniffed.kind != "ours" else None


_UNFIT = ("binary", "unreadable")


def _evidence(
    tree: Tree, label: str, reader: tuple[str, Role], facts: HostFacts | None, warn: Say, info: Say
) -> Evidence:
    """The members the ``reader``'s role chooses, logs in reading order (rotations oldest
    first), with the facts. Raises InputError when no log is left."""
    from oomsleuth.load.evidence import Evidence

    kind, role = reader
    logs: list[tuple[tuple[int, str, tuple[str, int, int, str, str]], Scanned]] = []
    history: list[tuple[str, Scanned]] = []
    for rel, item in tree.under():
        chosen = role(rel, item)
        if chosen is None:
            why = item.sniffed.why
            if item.sniffed.kind in ("log", "history"):
                why = f"not a file {kind} is read for (docs/bundles.md)"
            info(f"skipped {item.member.name}: {why}")
        elif chosen == "log" and item.sniffed.kind in _UNFIT:
            warn(f"skipped {item.member.name}: {item.sniffed.why}")
        elif chosen == "history":
            history.append((rel, item))
        else:
            folder, _, name = rel.rpartition("/")
            logs.append(((sosreport.log_order(rel), folder, age_key(name)), item))
    logs.sort(key=lambda pair: pair[0])
    history.sort(key=lambda pair: pair[0])
    evidence = Evidence(
        logs=[item.member.input() for _, item in logs],
        history=[item.member.input() for _, item in history],
        facts=[] if facts is None else [facts],
    )
    if facts is not None:
        info(f"host facts from {label}: {_listed(tree.texts_under())}")
    if not evidence.logs:
        found = f"; {len(evidence.history)} history file(s) found" if evidence.history else ""
        raise InputError(
            f"no log files in {label} (its {tree.count} file(s) looked at by name and head{found})"
        )
    return evidence


def _listed(texts: dict[str, bytes]) -> str:
    """The fact files read, the cgroup control files counted."""
    cgroup = [r for r in texts if r.startswith(("sys/fs/cgroup/", "cgroups/"))]
    names = sorted(r for r in texts if r not in cgroup)
    if cgroup:
        names.append(f"{len(cgroup)} cgroup control file(s)")
    return ", ".join(names) or "none"
