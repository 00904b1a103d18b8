"""Regular expressions compiled when first used, not when their module is imported.

oomsleuth's modules hold about 200 patterns; a one-report run uses a quarter of them, and
compiling them all at import was ~20 ms of its start-up. :func:`lazy_compile` is ``re.compile``
for a module-level pattern: it returns an object that compiles on its first use, then keeps the
compiled pattern's methods and attributes as its own, so a later ``PATTERN.match(text)`` costs
what it costs on the compiled pattern (one attribute lookup, no bound method made per call).
It lives beside the model because every stage uses it, as it does :mod:`oomsleuth.model.record`.
``tests/test_patterns.py`` compiles every lazy pattern in the package (a bad one fails there,
not at 3 a.m.).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, AnyStr, cast

_METHODS = (
    "match",
    "search",
    "fullmatch",
    "finditer",
    "findall",
    "sub",
    "subn",
    "split",
    "scanner",
)

MADE: list[LazyPattern] = []  # every lazy pattern, for the test that compiles them all


class LazyPattern:
    """Stands for ``re.compile(pattern, flags)`` until first used (see the module doc).

    Each of its methods (``_METHODS``, set below the class) runs once: compiling puts the
    compiled pattern's own bound methods in the instance, where they shadow the class's (no
    ``__getattr__``: it would slow every lookup)."""

    def __init__(self, pattern: str | bytes, flags: int) -> None:
        self._source = (pattern, flags)
        self._real: re.Pattern[Any] | None = None

    def compiled(self) -> re.Pattern[Any]:
        """The compiled pattern (compiling it now, once)."""
        if self._real is None:
            real: re.Pattern[Any] = re.compile(*self._source)
            for name in _METHODS:
                self.__dict__[name] = getattr(real, name)
            self._real = real
        return self._real

    @property
    def pattern(self) -> str | bytes:
        return self._source[0]

    @property
    def flags(self) -> int:
        return self.compiled().flags

    @property
    def groups(self) -> int:
        return self.compiled().groups

    @property
    def groupindex(self) -> Any:
        return self.compiled().groupindex

    def __repr__(self) -> str:
        return f"lazy {self.compiled()!r}"


def _first_use(name: str) -> Callable[..., Any]:
    """The class's ``name`` method: compile, then call the compiled pattern's own."""

    def method(self: LazyPattern, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.compiled(), name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = name
    return method


for _name in _METHODS:
    setattr(LazyPattern, _name, _first_use(_name))


def lazy_compile(pattern: AnyStr, flags: int | re.RegexFlag = 0) -> re.Pattern[AnyStr]:
    """``re.compile(pattern, flags)``, done on first use."""
    made = LazyPattern(pattern, int(flags))
    MADE.append(made)
    return cast("re.Pattern[AnyStr]", made)
