"""What a file is, judged from its head (the first ``SNIFF_BYTES``, decompressed): a kernel or
system log, a history format oomsleuth reads, our own JSON report, a binary journald file, or
nothing of ours. Folders, archives and bundles choose their inputs with it, reading no more
than the head of each file.

Order of the questions: journald's binary magic; sysstat ``sa`` and raw atop magic (history);
binary data (nothing); our own JSON output (skipped: ``schema_version`` and ``tool`` at the top
of a JSON object); a history format (:func:`oomsleuth.history.registry.sniff` on the first
lines); a log framing or an OOM keyword anywhere in the head (a log).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from oomsleuth.errors import InputError
from oomsleuth.load import atop_raw, sa_binary
from oomsleuth.load.files import decompressed, read_errors, reason
from oomsleuth.load.text import LOGLIKE, SNIFF_BYTES, encoding_of, looks_binary
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import record

HEAD_LINES = 60  # as many as load.history gives a history reader's sniff
JOURNALD_MAGIC = b"LPKSHHRH"
# a line of a framing oomsleuth reads, or OOM words: LOGLIKE (dmesg stamps, clock times, OOM
# keywords, journal fields), plus /dev/kmsg records and journal export fields
LOG_HEAD = lazy_compile(
    LOGLIKE.pattern + rb"|(?m:^\d+,\d+,\d+,[^;\n]{0,8};)|(?m:^(?:MESSAGE|_TRANSPORT|PRIORITY)=)"
)
_JSON_OBJECT = lazy_compile(rb"\A\s*\{")
_OUR_KEYS = (lazy_compile(rb'"schema_version"\s*:'), lazy_compile(rb'"tool"\s*:'))
# files beside logs that are never evidence: fixtures' expectations and ground truth, manifests
SKIPPED_NAMES = {
    ".expect.json": "an expectation file (fixtures)",
    ".facts.json": "a ground-truth file (fixtures)",
    "manifest.json": "a manifest, not a log",
}


# configuration, source and document files: never logs, whatever words they hold (a
# node-problem-detector rule or a README may quote "Killed process")
_NOT_LOGS = lazy_compile(
    r"\.(?:conf|cfg|cnf|ini|ya?ml|toml|md|rst|adoc|html?|css|js|py|sh|bash|pl|rb|go|rs|c|h|cc|cpp"
    r"|java|j2|tmpl|service|timer|socket|rules|pem|crt|key|pub|patch|diff|spec|sql)"
    r"(?:\.(?:gz|xz|bz2|zst))?$"
)
_OWN = "give it as a path of its own"


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@record(frozen=True, slots=True)
class Sniffed:
    """``kind``: log | history | journald | archive | ours | binary | other | unreadable;
    ``why`` in words."""

    kind: str
    why: str


def skipped_name(filename: str) -> str | None:
    """Why a file of this name is never read (an expectation, ground truth, a manifest, a
    configuration, source or document file)."""
    for end, why in SKIPPED_NAMES.items():
        if filename == end.lstrip(".") or filename.endswith(end):
            return why
    if _NOT_LOGS.search(filename):
        return "a configuration, source or document file (by its name)"
    return None


def sniff_stream(raw: _Readable, name: str) -> Sniffed:
    """The head of a raw (maybe compressed) byte stream, judged; never raises for bad data."""
    try:
        head = decompressed(raw, name).read(SNIFF_BYTES)
    except InputError as exc:  # zstd without the zstandard module
        return Sniffed("unreadable", exc.message)
    except read_errors() as exc:
        return Sniffed("unreadable", reason(exc))
    return sniff_head(head)


def sniff_file(path: Path) -> Sniffed:
    """:func:`sniff_stream` of a file on disk."""
    try:
        with path.open("rb") as raw:
            return sniff_stream(raw, str(path))
    except OSError as exc:
        return Sniffed("unreadable", reason(exc))


def sniff_head(head: bytes) -> Sniffed:
    """What the first (decompressed) bytes of a file say it is."""
    if head.startswith(JOURNALD_MAGIC):
        return Sniffed("journald", "a binary journald file")
    if sa_binary.is_sa_binary(head):
        return Sniffed("history", "a binary sysstat sa file")
    if atop_raw.is_atop_raw(head):
        return Sniffed("history", "a raw atop file")
    if head[257:262] == b"ustar" or head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return Sniffed("archive", f"an archive inside a folder or archive is not opened: {_OWN}")
    if not head.strip():
        return Sniffed("other", "empty")
    encoding = encoding_of(head)
    if encoding is None and looks_binary(head):
        return Sniffed("binary", "binary data")
    if _JSON_OBJECT.match(head) and all(k.search(head, 0, 1024) for k in _OUR_KEYS):
        return Sniffed("ours", "an oomsleuth JSON report (our own output)")
    text = head.decode(encoding or "utf-8", errors="replace")
    lines = text.splitlines()
    if len(head) >= SNIFF_BYTES and len(lines) > 1:
        lines.pop()  # cut at the head's end
    reader = _history_reader(lines[:HEAD_LINES])
    if reader is not None:
        return Sniffed("history", f"{reader} history")
    if LOG_HEAD.search(head if encoding is None else text.encode("utf-8", "replace")):
        return Sniffed("log", "log lines or OOM words in its head")
    return Sniffed("other", f"no log line, OOM word or history format in its first {_kb()} kB")


def _history_reader(head: list[str]) -> str | None:
    from oomsleuth.history.registry import sniff

    reader = sniff(head)
    return None if reader is None else reader.name


def _kb() -> int:
    return SNIFF_BYTES // 1024
