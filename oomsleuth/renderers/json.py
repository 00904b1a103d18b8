"""The JSON renderer: the model's document (:meth:`Report.to_dict`) written as text."""

from __future__ import annotations

import json
import re
from typing import Any, TextIO

from oomsleuth.model import Report


class JsonRenderer:
    """Writes the document as JSON (UTF-8 text, not ASCII-escaped), then a newline."""

    def __init__(self, indent: int | None = 2) -> None:
        self.indent = indent

    def render(self, result: Report, out: TextIO) -> None:
        out.write(dumps(result.to_dict(), self.indent) + "\n")


# json escapes C0 controls itself; these others are legal raw in JSON but unsafe on a terminal.
_TERMINAL_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def dumps(doc: dict[str, Any], indent: int | None = 2) -> str:
    """JSON text that is safe to print: non-ASCII kept, DEL/C1/bidi controls \\u-escaped."""
    text = json.dumps(doc, ensure_ascii=False, indent=indent)
    return _TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
