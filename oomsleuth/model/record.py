"""Records: dataclasses that cost next to nothing to define.

``@dataclass`` on Python 3.11 writes and compiles six methods for every frozen class (~0.9 ms
each here, and oomsleuth has about a hundred: most of the start-up of a one-report run).
:func:`record` makes the same class, as far as anyone can tell: ``dataclasses.is_dataclass``,
``fields``, ``replace`` and ``asdict`` work on it, it compares, hashes, prints, pickles and
refuses assignment (when frozen) like the dataclass, and type checkers see a dataclass
(``dataclass_transform``). Only ``__init__`` is compiled, one small function per class, and only
at the class's eighth construction (a one-report run builds most classes fewer times: the
first seven set the fields the general way, as the compiled one will); equality, hash, repr and
pickling are shared functions reading the fields in order through an ``operator.attrgetter``.
A slotted frozen record sets its fields through the slots' own descriptors: construction costs
~0.6 µs instead of the dataclass's ~1 µs.

The subset is what oomsleuth uses: plain classes (no base class), fields with a default or a
``field(default_factory=...)``; ``frozen``, ``slots`` and nothing else. Anything beyond, or a
Python whose ``dataclasses`` lacks the internals relied on (``tests/test_record.py`` checks them
against ``@dataclass``), gets the real ``@dataclass``.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:  # Python 3.10 has no typing.dataclass_transform; only type checkers need it
    dataclass_transform = getattr(typing, "dataclass_transform", lambda **_: lambda f: f)

T = TypeVar("T")

_MISSING = dataclasses.MISSING
_FIELD = getattr(dataclasses, "_FIELD", None)  # the marker dataclasses.fields() keeps
_OWN = frozenset({"__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"})
FrozenInstanceError = dataclasses.FrozenInstanceError


@overload
def field(*, default: T) -> T: ...
@overload
def field(*, default_factory: Callable[[], T]) -> T: ...
def field(*, default: Any = _MISSING, default_factory: Any = _MISSING) -> Any:
    """A field's default: ``dataclasses.field`` (only ``default`` or ``default_factory``)."""
    return dataclasses.field(default=default, default_factory=default_factory)


@dataclass_transform(field_specifiers=(field, dataclasses.field))
def record(*, frozen: bool = False, slots: bool = False) -> Callable[[type[T]], type[T]]:
    """``@dataclass(frozen=..., slots=...)``, made cheaply (see the module doc)."""

    def wrap(cls: type[T]) -> type[T]:
        if (
            _FIELD is None
            or cls.__bases__ != (object,)
            or type(cls) is not type
            or _OWN & cls.__dict__.keys()
        ):
            return cast("type[T]", dataclasses.dataclass(frozen=frozen, slots=slots)(cls))
        return _make(cls, frozen, slots)

    return wrap


def _make(cls: type[T], frozen: bool, slots: bool) -> type[T]:
    notes = cls.__dict__.get("__annotations__", {})  # noqa: RUF063 (own ones, unevaluated)
    fields = {n: _field(n, notes[n], cls.__dict__.get(n, _MISSING)) for n in notes}
    added = _methods(tuple(fields), frozen)
    added["__dataclass_fields__"] = fields
    added["__dataclass_params__"] = _params(frozen, slots)
    added["__match_args__"] = tuple(fields)
    if slots:
        body = {k: v for k, v in cls.__dict__.items() if k not in fields}
        body.pop("__dict__", None)
        body.pop("__weakref__", None)
        body["__slots__"] = tuple(fields)
        new = cast("type[T]", type(cls.__name__, cls.__bases__, body | added))
        new.__qualname__ = cls.__qualname__
    else:
        new = cls
        for key, value in added.items():
            setattr(cls, key, value)
        for name, f in fields.items():  # as dataclass: a default stays a class attribute
            if isinstance(cls.__dict__.get(name), dataclasses.Field):
                if f.default is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, f.default)
    new.__init__ = _first_init(new, fields, frozen and slots, frozen)  # type: ignore[method-assign]
    return new


def _first_init(
    cls: type, fields: dict[str, dataclasses.Field[Any]], slotted: bool, frozen: bool
) -> Callable[..., None]:
    """An ``__init__`` that sets the fields the general way (:func:`_generic`) for the first
    ``COMPILE_AT - 1`` constructions, then compiles the real one, puts it in its place and
    runs it: a class a run builds a few times costs no compiling (a report builds most of its
    classes fewer than eight times; compiling one costs as much as ~50 such constructions)."""
    slow = _generic(cls, fields, slotted, frozen)
    built = 0

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal built
        built += 1
        if built < COMPILE_AT:
            slow(self, *args, **kwargs)
        else:
            compiled_init(cls)(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.record_args = (fields, slotted, frozen)  # type: ignore[attr-defined]
    return __init__


COMPILE_AT = 8  # the construction at which a record's __init__ is compiled
_ABSENT = object()  # no value given and no default


def _generic(
    cls: type, fields: dict[str, dataclasses.Field[Any]], slotted: bool, frozen: bool
) -> Callable[..., None]:
    """What the compiled ``__init__`` does, for any record, without compiling: the same
    binding of positional and keyword arguments (and the same ``TypeError`` where they do not
    fit), defaults, factories and way of setting each field."""
    names = tuple(fields)
    defaults = {n: f.default for n, f in fields.items() if f.default is not _MISSING}
    makers = {n: f.default_factory for n, f in fields.items() if f.default_factory is not _MISSING}
    defaults.update(dict.fromkeys(makers, _HAS_FACTORY))
    put = object.__setattr__ if frozen else setattr
    if slotted:
        sets = {n: getattr(cls, n).__set__ for n in names}
    else:
        sets = {n: lambda obj, value, n=n: put(obj, n, value) for n in names}
    where = f"{cls.__qualname__}.__init__()"

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(names):
            given = f"{len(args) + 1} were given"
            raise TypeError(f"{where} takes {len(names) + 1} positional arguments but {given}")
        values = dict(zip(names, args, strict=False))  # (fewer args than names)
        for name, value in kwargs.items():
            if name not in fields:
                raise TypeError(f"{where} got an unexpected keyword argument {name!r}")
            if name in values:
                raise TypeError(f"{where} got multiple values for argument {name!r}")
            values[name] = value
        for name in names:
            value = values[name] if name in values else defaults.get(name, _ABSENT)
            if value is _ABSENT:
                raise TypeError(f"{where} missing 1 required positional argument: {name!r}")
            if value is _HAS_FACTORY and name in makers:
                value = makers[name]()
            sets[name](self, value)

    return __init__


def compiled_init(cls: type) -> Callable[..., None]:
    """The record's real ``__init__``, compiled now if it was not (also for inspection: until it
    is compiled, a record's signature is ``(*args, **kwargs)``)."""
    current: Callable[..., None] = cls.__dict__["__init__"]
    args = getattr(current, "record_args", None)
    if args is None:
        return current
    real: Callable[..., None] = _init(cls, *args)
    cls.__init__ = real  # type: ignore[misc]
    return real


def _field(name: str, annotation: Any, value: Any) -> dataclasses.Field[Any]:
    f = value if isinstance(value, dataclasses.Field) else dataclasses.field(default=value)
    f.name = name
    f.type = annotation
    f._field_type = _FIELD  # type: ignore[union-attr]
    return f


_PARAMS: dict[tuple[bool, bool], Any] = {}


def _params(frozen: bool, slots: bool) -> Any:
    """The ``__dataclass_params__`` of a dataclass so made (taken from an empty one, once)."""
    if (frozen, slots) not in _PARAMS:
        empty: Any = dataclasses.dataclass(frozen=frozen, slots=slots)(type("_Empty", (), {}))
        _PARAMS[frozen, slots] = empty.__dataclass_params__
    return _PARAMS[frozen, slots]


def _methods(names: tuple[str, ...], frozen: bool) -> dict[str, Any]:
    key = _key(names)
    out: dict[str, Any] = {
        "_record_key": staticmethod(key),
        "__repr__": _repr,
        "__eq__": _eq,
        "__reduce__": _reduce,
        "__hash__": _hash if frozen else None,
    }
    if frozen:
        out["__setattr__"] = _frozen_set
        out["__delattr__"] = _frozen_del
    return out


def replace(obj: T, /, **changes: Any) -> T:
    """``dataclasses.replace(obj, **changes)``, the same new object, quicker for a record:
    its values in one call (``_record_key``), the changes put in by position, the class
    called with them in order, with no walk over the fields' metadata (a report's times and
    incident take a dozen replaces). Anything else, or a name that is not a field (which
    raises as ``dataclasses.replace`` does), goes to ``dataclasses.replace``."""
    cls = type(obj)
    key = cls.__dict__.get("_record_key")
    if key is None:
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    names: tuple[str, ...] = cls.__match_args__  # type: ignore[attr-defined]
    values = list(key(obj))
    for name, value in changes.items():
        if name not in names:
            return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
        values[names.index(name)] = value
    return cls(*values)


def _key(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names)


def _init(cls: type, fields: dict[str, dataclasses.Field[Any]], slotted: bool, frozen: bool) -> Any:
    """The one compiled method: ``__init__(self, a, b=..., c=<factory>)``."""
    scope: dict[str, Any] = {"_FACTORY": _HAS_FACTORY, "_set": object.__setattr__}
    lines, defaults = [], []
    for n, f in fields.items():
        if f.default_factory is not _MISSING:
            scope[f"_make_{n}"] = f.default_factory
            lines.append(f" if {n} is _FACTORY: {n} = _make_{n}()")
            defaults.append(_HAS_FACTORY)
        elif f.default is not _MISSING:
            defaults.append(f.default)
        elif defaults:
            raise TypeError(f"non-default argument {n!r} follows default argument")
        if slotted:
            scope[f"_set_{n}"] = getattr(cls, n).__set__
            lines.append(f" _set_{n}(self, {n})")
        else:
            lines.append(f" _set(self, {n!r}, {n})" if frozen else f" self.{n} = {n}")
    args = "".join(f", {n}" for n in fields)
    exec(f"def __init__(self{args}):\n" + ("\n".join(lines) or " pass"), scope)
    init = scope["__init__"]
    init.__defaults__ = tuple(defaults) or None
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


class _Factory:
    def __repr__(self) -> str:
        return "<factory>"


_HAS_FACTORY = _Factory()


def _repr(self: Any) -> str:
    cls = self.__class__
    parts = (f"{n}={v!r}" for n, v in zip(cls.__match_args__, cls._record_key(self), strict=True))
    return f"{cls.__qualname__}({', '.join(parts)})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        key = self._record_key
        return key(self) == key(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self._record_key(self))


def _reduce(self: Any) -> tuple[type, tuple[Any, ...]]:
    return self.__class__, self._record_key(self)


def _frozen_set(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_del(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")
