"""The JSON renderer: the model's document (:meth:`Report.to_dict`) written as text, one piece
at a time: the top-level keys in turn, the long lists (events, warnings, incidents, ...) one
element at a time, each built, dumped and dropped before the next (memory: one element, not the
document). The text is exactly ``dumps(result.to_dict(), indent) + "\\n"``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from oomsleuth.errors import UNSAFE_CHARS
from oomsleuth.model import Report
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.rendered import Rendered

if TYPE_CHECKING:
    from oomsleuth.model.rendered import Elsewhere
    from oomsleuth.renderers.json_fast import Encoder


class JsonRenderer:
    """Writes the document as JSON (UTF-8 text, not ASCII-escaped), then a newline."""

    def __init__(self, indent: int | None = 2) -> None:
        self.indent = indent

    def render(self, result: Report, out: TextIO, elsewhere: Elsewhere | None = None) -> None:
        """``elsewhere``: the texts of some reports' events and incidents, written by another
        process (:mod:`oomsleuth.model.rendered`: indented by 2, so used only then)."""
        from oomsleuth.model.document import clean, document_items

        if self.indent != 2:
            elsewhere = None

        # values as built: orjson refuses the one thing cleaning changes (a lone surrogate, an
        # input byte that did not decode), so only what the standard library writes is cleaned
        items = document_items(result, cleaned=False, elsewhere=elsewhere)
        # (a document written ahead is big: orjson from its first character)
        write_document(items, out, self.indent, clean, eager=elsewhere is not None)


def write_document(
    items: Iterable[tuple[str, Any]],
    out: TextIO,
    indent: int | None = 2,
    clean: Callable[[Any], Any] | None = None,
    eager: bool = False,
) -> None:
    """Write the object of ``items`` (key, value; a value that is an iterator is a list given
    element by element) as :func:`dumps` would write it whole, then a newline. ``clean``: what
    makes a value writable as UTF-8 (:func:`oomsleuth.model.document.clean`), for values not
    cleaned yet. ``eager``: orjson's text from the first member (see :data:`EAGER_CHARS`)."""
    layout = _Layout(indent, clean)
    layout.written = EAGER_CHARS if eager else 0
    out.write("{")
    empty = True
    for key, value in items:
        out.write((layout.first(0) if empty else layout.between(0)) + layout.dumps(key) + ": ")
        if isinstance(value, Iterator):
            _write_list(value, out, layout, 1)
        else:
            out.write(layout.nested(layout.dumps(value), 1))
        empty = False
    out.write(("}" if empty else layout.last(0) + "}") + "\n")


def _write_list(values: Iterator[Any], out: TextIO, layout: _Layout, level: int) -> None:
    out.write("[")
    empty = True
    for value in values:
        sep = layout.first(level) if empty else layout.between(level)
        out.write(sep + layout.nested(layout.dumps(value), level + 1))
        empty = False
    out.write("]" if empty else layout.last(level) + "]")


# A document's first characters are the standard library's: importing orjson and checking it
# takes 7-19 ms (measured on a loaded machine), about what the standard library takes for 256 K
# characters (9 ms), a dozen reports; one report (~20 K) never imports it.
EAGER_CHARS = 1 << 18


class _Layout:
    """The whitespace ``json.dumps`` puts around the members of a container at a depth, and the
    text of each member (orjson's once the document has :data:`EAGER_CHARS` characters)."""

    def __init__(self, indent: int | None, clean: Callable[[Any], Any] | None = None) -> None:
        self.indent = indent
        self.clean = clean
        self.step = "" if indent is None else " " * indent
        self.written = 0

    def dumps(self, value: Any) -> str:
        """A member's text, at depth 0 (one written elsewhere: its text)."""
        if type(value) is Rendered:  # (JsonRenderer passes them indented by 2 only)
            text: str = value.text
        else:
            text = dumps(value, self.indent, fast=self.written >= EAGER_CHARS, clean=self.clean)
        self.written += len(text)
        return text

    def first(self, level: int) -> str:
        """Before the first member of a container at ``level``."""
        return "" if self.indent is None else "\n" + self.step * (level + 1)

    def between(self, level: int) -> str:
        """Between two members."""
        return ", " if self.indent is None else ",\n" + self.step * (level + 1)

    def last(self, level: int) -> str:
        """After the last member."""
        return "" if self.indent is None else "\n" + self.step * level

    def nested(self, text: str, level: int) -> str:
        """``text`` (dumped at depth 0) indented as a member at ``level``: JSON text has no raw
        newline but those of its layout."""
        if self.indent is None or "\n" not in text:
            return text
        return text.replace("\n", "\n" + self.step * level)


# The characters other formats show as escapes (oomsleuth.errors.UNSAFE_CHARS) less C0, which json
# escapes itself: legal raw in JSON, unsafe or invisible on a terminal, so written as \uXXXX.
# The value a JSON parser reads back is the true one. One character class (a lookahead before
# it costs 4x the time on a big document).
_C0 = "[\x00-\x1f"
_TERMINAL_UNSAFE = (
    lazy_compile("[" + UNSAFE_CHARS[len(_C0) :])
    if UNSAFE_CHARS.startswith(_C0)
    else lazy_compile(f"(?![\\x00-\\x1f]){UNSAFE_CHARS}")
)
_BEYOND_ASCII = lazy_compile("[^\x00-\x7e]")


def dumps(
    doc: Any, indent: int | None = 2, fast: bool = True, clean: Callable[[Any], Any] | None = None
) -> str:
    """JSON text that is safe to print: non-ASCII kept, DEL, C1, format (zero-width, bidi) and
    other invisible characters \\u-escaped (a surrogate pair above the BMP). One character at a
    time, so the pieces of a document escape as the whole would. Indented by 2 and ``fast``,
    the text is orjson's where it is the standard library's (:mod:`.json_fast`). ``clean``: for
    a ``doc`` not cleaned yet, applied where the standard library writes it (orjson refuses
    what cleaning would change)."""
    encode = _encoder() if fast and indent == 2 else None  # orjson, where it is the same text
    text = encode(doc) if encode is not None else None
    if text is None:
        text = json.dumps(doc if clean is None else clean(doc), ensure_ascii=False, indent=indent)
    if text.isascii() and "\x7f" not in text:
        return text  # of the set only C0 is ASCII besides DEL, and json escaped C0 itself
    # Only DEL and the characters beyond ASCII can be in the set: the set's class is tested on
    # those alone (~30 ns a character of the whole text; finding the few is a quarter of that)
    if _TERMINAL_UNSAFE.search("".join(_BEYOND_ASCII.findall(text))) is None:
        return text
    return _TERMINAL_UNSAFE.sub(_json_escape, text)


def _encoder() -> Encoder | None:
    from oomsleuth.renderers.json_fast import encoder  # here: a small document never asks

    return encoder()


def _json_escape(match: re.Match[str]) -> str:
    return json.dumps(match.group(), ensure_ascii=True)[1:-1]
