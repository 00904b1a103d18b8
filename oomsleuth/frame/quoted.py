"""Text pasted into mail, issues and documents: quoting, elisions, prompts, escaped newlines.

Mail quoting (``> ``, any depth) and a uniform indentation of the whole paste are stripped before
a line's framing is detected. Lines that never continue or wrap another: lines starting with
``[`` (trinity's ``[child1:446]``, task rows), elision marks (``...``), shell prompts
(``user@host:~$ ``). rsyslog's ``#012`` splits a line into several logical lines (``#011``
becomes a tab) in ``syslog``/``rfc3339`` lines, as kmsg's ``\\x0a`` does. Line numbers and file
names that ``cat -n``, ``nl``, ``grep -n``, ``grep -H``, ``grep -rn`` and ``zgrep`` put before
each line are cut off when what follows reads as a log line (:func:`prefixes`).
"""

from __future__ import annotations

from oomsleuth.frame.head import Head
from oomsleuth.model.patterns import lazy_compile

QUOTE = lazy_compile(r"[ \t]*(?:>[ \t]?)+")
PRIORITY = lazy_compile(r"<\d{1,3}>")
_ELISION = lazy_compile(r"(?:\.{2,}|…|\[\.\.\.\]|\[snip\]|<snip>)\s*\Z")
_PROMPT = lazy_compile(r"(?:[\w.-]+@[\w.-]+:\S*)?[$#] ")


def pieces(head: Head) -> list[str]:
    """Split a message with escaped newlines (kmsg ``\\x0a``, rsyslog ``#012``)."""
    if head.framing == "kmsg":
        parts = head.text.split("\n")
    elif "#01" in head.text and head.framing in ("syslog", "rfc3339"):
        parts = head.text.replace("#011", "\t").split("#012")
    else:
        return [head.text]
    kept = [p for p in parts if p.strip()]
    return kept or [head.text]


# line numbers and file names that tools put before each line: ``cat -n`` and ``nl`` (number,
# tab), ``grep -n`` (``N:``, ``N-`` for context), ``grep -H``/``zgrep`` (``path:``) and
# ``grep -rn`` (``path:N:``)
_NUMBERED = lazy_compile(r" *\d{1,12}(?:\t|[:-](?=\S))")
_NAMED = lazy_compile(r"[^\s:]{1,4096}:(?=\S)")
_NUMBER = lazy_compile(r"\d{1,12}[:-](?=\S)")


def prefixes(s: str) -> list[int]:
    """Where the text may start after a tool's line number or file name (cheapest first); the
    caller keeps a cut only when what follows reads as a log line."""
    cuts = []
    match = _NUMBERED.match(s)
    if match is not None:
        cuts.append(match.end())
    match = _NAMED.match(s)
    if match is not None:
        cuts.append(match.end())
        number = _NUMBER.match(s, match.end())
        if number is not None:
            cuts.append(number.end())
    return cuts


def never_wraps(s: str) -> bool:
    return s[:1] == "[" or bool(_ELISION.match(s)) or bool(_PROMPT.match(s))
