"""The JSON renderer: the model's document (:meth:`Report.to_dict`) written as text."""

from __future__ import annotations

import json
import re
from typing import Any, TextIO

from oomsleuth.errors import UNSAFE
from oomsleuth.model import Report


class JsonRenderer:
    """Writes the document as JSON (UTF-8 text, not ASCII-escaped), then a newline."""

    def __init__(self, indent: int | None = 2) -> None:
        self.indent = indent

    def render(self, result: Report, out: TextIO) -> None:
        out.write(dumps(result.to_dict(), self.indent) + "\n")


# The characters other formats show as escapes (oomsleuth.errors.UNSAFE) less C0, which json
# escapes itself: legal raw in JSON, unsafe or invisible on a terminal, so written as \uXXXX.
# The value a JSON parser reads back is the true one. One character class (a lookahead before
# it costs 4x the time on a big document).
_C0 = "[\x00-\x1f"
_TERMINAL_UNSAFE = (
    re.compile("[" + UNSAFE.pattern[len(_C0) :])
    if UNSAFE.pattern.startswith(_C0)
    else re.compile(f"(?![\\x00-\\x1f]){UNSAFE.pattern}")
)


def dumps(doc: dict[str, Any], indent: int | None = 2) -> str:
    """JSON text that is safe to print: non-ASCII kept, DEL, C1, format (zero-width, bidi) and
    other invisible characters \\u-escaped (a surrogate pair above the BMP)."""
    text = json.dumps(doc, ensure_ascii=False, indent=indent)
    if text.isascii() and "\x7f" not in text:
        return text  # of the set only C0 is ASCII besides DEL, and json escaped C0 itself
    return _TERMINAL_UNSAFE.sub(_json_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    return json.dumps(match.group(), ensure_ascii=True)[1:-1]
