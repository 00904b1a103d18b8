"""Month names in every glibc locale, for syslog lines, ``journalctl -o short`` and ``dmesg -T``
written under a host's own language (``дек 06 02:29:59``, ``12月 06``, ``[dim. déc.  6 ...]``).

The table (``month_names.json``) is derived by ``scripts/month_table.py`` from what glibc prints
in every locale Debian's ``locales-all`` installs (``scripts/gen_month_names.py``); it is loaded
the first time a line's month is not an English one. A name that means different months in
different languages (``lis``: October in Croatian, November in Polish and Czech; ``srp``: July in
Croatian, August in Czech) is settled by the other month names of the same log (a
:class:`MonthReader` per source remembers their languages); without any, it is read as the month
most locales give it (the earlier one on a tie).
"""

from __future__ import annotations

from functools import cache

Entry = tuple[int, frozenset[str]]


@cache
def _table() -> tuple[dict[str, Entry], dict[str, list[tuple[int, int, frozenset[str]]]]]:
    import json
    from importlib import resources  # here: it imports tempfile, and most logs need no table

    text = resources.files("oomsleuth.frame").joinpath("month_names.json").read_text("utf-8")
    data = json.loads(text)
    months = {k: (v[0], frozenset(v[1])) for k, v in data["months"].items()}
    ambiguous = {
        k: [(int(month), n, frozenset(langs)) for month, (n, langs) in v.items()]
        for k, v in data["ambiguous"].items()
    }
    return months, ambiguous


def _key(name: str) -> str:
    import unicodedata  # here: only a month name that is not English is looked up

    return unicodedata.normalize("NFC", name.strip()).casefold()


class MonthReader:
    """Reads month names for one source, settling ambiguous ones by the languages of the
    unambiguous names it has seen."""

    def __init__(self) -> None:
        self.languages: frozenset[str] = frozenset()

    def month(self, name: str) -> int | None:
        """The month (1-12) a printed name means in some locale; None when none has it."""
        key = _key(name)
        found = self._lookup(key)
        if found is None and key.endswith("."):
            found = self._lookup(key[:-1])
        return found

    def _lookup(self, key: str) -> int | None:
        months, ambiguous = _table()
        entry = months.get(key)
        if entry is not None:
            number, languages = entry
            self.languages = (self.languages & languages) or languages
            return number
        choices = ambiguous.get(key)
        if not choices:
            return None
        fits = [c for c in choices if c[2] & self.languages]
        return max(fits or choices, key=lambda c: (c[1], -c[0]))[0]
