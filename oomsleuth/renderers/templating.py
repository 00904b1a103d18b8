"""The Jinja2 environment of the HTML (and Markdown) reports: built once, cached, autoescaping.

Templates are found in the installed package (``oomsleuth/templates``, force-included in the
wheel) through :mod:`importlib.resources`, else in the checkout's top-level ``templates/``.

Every ``{{ expression }}`` goes through :func:`finalize` before it is escaped: a plain string
(log text is hostile) has its control characters, bidi overrides and lone surrogates shown as
escapes (:func:`~oomsleuth.renderers.base.safe_text`); ``None`` shows as ``?``. Only
:class:`~markupsafe.Markup` built by oomsleuth itself (charts, inlined assets) passes untouched.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from base64 import b64encode
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import TextIO

from jinja2 import Environment, FunctionLoader, StrictUndefined
from markupsafe import Markup

from oomsleuth.model.document import unencodable_escaped
from oomsleuth.model.units import human_count, human_kb, is_count, short_kb
from oomsleuth.renderers.base import (
    plural,
    safe_text,
)

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # pragma: no cover - Python 3.10
    from importlib.abc import Traversable

PACKAGE = "oomsleuth"
CHECKOUT_TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
MARKER = "report.html.j2"  # a templates folder without it is not ours


def templates_root() -> Traversable:
    """The templates folder: the installed package's, else the checkout's."""
    return _root()[0]


def templates_origin() -> str:
    """Where the templates were found, for people and tests: a path (or resource name)."""
    return _root()[1]


@functools.cache
def _root() -> tuple[Traversable, str]:
    try:
        packaged = resources.files(PACKAGE).joinpath("templates")
        if packaged.joinpath(MARKER).is_file():
            return packaged, str(packaged)
    except (ModuleNotFoundError, OSError):  # pragma: no cover - a broken installation
        pass
    return CHECKOUT_TEMPLATES, str(CHECKOUT_TEMPLATES)


def _load(name: str) -> str | None:
    node = templates_root()
    for part in name.split("/"):
        if part in ("", ".", ".."):
            return None
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8") if node.is_file() else None


def asset(name: str) -> str:
    """The text of an asset under ``templates/assets`` (CSS, JS), for inlining."""
    text = _load(f"assets/{name}")
    if text is None:
        raise FileNotFoundError(f"oomsleuth template asset {name!r} not found in {_root()[1]}")
    return text


def csp_hash(script: str) -> str:
    """The CSP source expression of an inline script: ``'sha256-<base64>'``."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{b64encode(digest).decode('ascii')}'"


def finalize(value: object) -> object:
    """Applied to every expression a template prints, before autoescaping."""
    if value is None:
        return "?"
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return safe_text(value)
    return value


def _kb(value: int | float | None) -> str:
    return human_kb(None if value is None else int(value))


def _short(value: int | float | None) -> str:
    return short_kb(None if value is None else int(value))


def _stat(name: str, value: int) -> str:
    """A memory.stat value: an event counter as a count, a size (bytes) in binary units."""
    return human_count(value) if is_count(name) else human_kb(value // 1024)


def _pct(value: float | None, digits: int = 0) -> str:
    return "?" if value is None else f"{100 * value:.{digits}f}%"


@functools.cache
def environment() -> Environment:
    """The one Jinja2 environment (autoescape on for every template, strict undefined)."""
    env = Environment(
        loader=FunctionLoader(_load),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(kb=_kb, short=_short, pct=_pct, plural=plural, text=safe_text)
    env.filters.update(stat=_stat, conf=lambda c: "?" if c is None else f"{c:.2f}")
    return env


def write_pieces(pieces: Iterable[str], out: TextIO, size: int = 1 << 16) -> None:
    """Write the template's text as it is made, ``size`` characters at a time (the report of
    2,000 incidents is ~40 MB of text: made whole, and joined, it took ~260 MB more memory),
    lone surrogates escaped (:func:`unencodable_escaped`, character by character: the same
    text as the whole page escaped at once)."""
    held: list[str] = []
    count = 0
    for piece in pieces:
        held.append(piece)
        count += len(piece)
        if count >= size:
            out.write(unencodable_escaped("".join(held)))
            held, count = [], 0
    out.write(unencodable_escaped("".join(held)))
