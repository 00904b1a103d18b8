"""Foreign text (log text, file names) as inert GitHub-flavoured Markdown.

Every string from an input reaches the Markdown report through :func:`code` (identifiers:
process names, cgroup paths, units, hosts, file names) or :func:`md` (prose that quotes them:
evidence, warnings, notes). Both first apply the rule of every format
(:func:`oomsleuth.errors.printable` via ``safe_text``: controls, zero-width and bidi characters
shown as ``\\u200b``-style escapes). Then:

- :func:`code` makes a code span fenced by more backticks than the text holds, padded when the
  text starts or ends with a backtick or a blank: nothing inside is Markdown, HTML or a link.
- :func:`md` backslash-escapes every character that could start Markdown or HTML (emphasis,
  links, images, raw HTML, entities, strikethrough, math, headings) and defuses a leading list
  or heading marker. A word GFM's autolink extension (or GitHub) would make a link of (a URL
  with ``://``, ``www.``, an e-mail address or ``@`` mention, an ``#123`` reference) goes into a
  code span instead: cmark-gfm finds e-mail addresses in the merged text, so no backslash can
  stop those.
- :func:`table` escapes every ``|`` of a cell, which GFM strips again before the cell's inline
  parse, inside code spans too; so a cell holds one cell whatever the text, and code spans show
  ``|`` (not ``\\|``) outside tables.

tests/test_escaping.py renders hostile reports with cmark-gfm (GitHub's own parser) and finds
no link, image or raw HTML made of foreign text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from oomsleuth.model.patterns import lazy_compile
from oomsleuth.renderers.base import safe_text

_SPECIAL = lazy_compile(r"([\\`*_\[\]<>|#~&!$])")  # escaped anywhere
_LEADING = lazy_compile(r"^([-+=])|^(\d+)([.)])")  # list, setext or ordered-list markers
# in a word that GFM's autolinks or GitHub's references would link: the word goes in a code span
_LINKISH = lazy_compile(r"://|www\.|@|#\d", re.IGNORECASE)
_WORDS = lazy_compile(r"(\s+)")


def md(text: str | None, unknown: str = "?") -> str:
    """Log text as inert Markdown prose: controls escaped, outer blanks stripped, metacharacters
    backslash-escaped, a leading list/heading marker defused, link-like words in code spans.
    Safe inside a table cell (through :func:`table`)."""
    if text is None:
        return unknown
    words = _WORDS.split(safe_text(text).strip())
    return "".join(_word(w, i == 0) for i, w in enumerate(words))


def _word(word: str, first: bool) -> str:
    if _LINKISH.search(word):
        return code(word)
    escaped = _SPECIAL.sub(r"\\\1", word)
    if not first:
        return escaped
    return _LEADING.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", escaped)


def code(text: str | None, unknown: str = "?") -> str:
    """Log text as an inline code span: no Markdown, HTML or link inside, whatever it holds."""
    if text is None:
        return unknown
    shown = safe_text(text)
    if not shown.strip():
        return f"`{shown}`" if shown else '""'
    fence = "`" * (1 + max((len(t) for t in re.findall("`+", shown)), default=0))
    pad = " " if shown[0] in "` " or shown[-1] in "` " else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], right: Sequence[int] = ()) -> str:
    """A GFM table; cells must already be escaped (md/code). Columns in ``right`` align right."""
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = [_row(header), _row(align)] + [_row(r) for r in rows]
    return "\n".join(lines)


def _row(cells: Sequence[str]) -> str:
    """One table line: every ``|`` of a cell escaped (GFM unescapes one backslash before a pipe
    before parsing the cell, code spans included), line breaks made spaces."""
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _cell(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", " ") or " "


def bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)
