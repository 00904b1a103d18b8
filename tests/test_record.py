"""A record is the dataclass it stands for: same construction, defaults, factories, equality,
hash, repr, refusal to change, pickling and ``dataclasses`` functions; every model class of
oomsleuth is checked against ``@dataclass`` applied to its own body."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pickle
import pkgutil
from typing import Any

import pytest

import oomsleuth
from oomsleuth.model import Kill, Stamp, Victim, Where
from oomsleuth.model import record as record_module
from oomsleuth.model.record import compiled_init, field, record, replace


@record(frozen=True, slots=True)
class Point:
    x: int
    y: str = "y"
    tags: list[int] = field(default_factory=list)


@record()
class Mutable:
    n: int
    seen: dict[str, int] = field(default_factory=dict)


@record(frozen=True)
class Plain:
    only: float


def _all_records() -> list[type]:
    found = []
    for info in pkgutil.walk_packages(oomsleuth.__path__, "oomsleuth."):
        if ".cli" in info.name or info.name.startswith("oomsleuth.fleet"):
            continue  # the CLI and the fleet extra import optional packages
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            mine = isinstance(value, type) and value.__module__ == info.name
            if mine and "_record_key" in value.__dict__:
                found.append(value)
    return found


RECORDS = _all_records()


def test_every_model_class_is_a_record() -> None:
    assert len(RECORDS) >= 60
    assert Kill in RECORDS and Stamp in RECORDS


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_record_matches_its_dataclass(cls: type) -> None:
    """Same fields, defaults, parameters and methods' signature as ``@dataclass`` would make."""
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    body = {k: v for k, v in cls.__dict__.items() if not k.startswith("_record")}
    for name in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"):
        body.pop(name, None)
    for name in ("__dataclass_fields__", "__dataclass_params__", "__match_args__", "__reduce__"):
        body.pop(name, None)
    for name in cls.__slots__ if "__slots__" in cls.__dict__ else ():
        body.pop(name, None)
    for name, f in cls.__dataclass_fields__.items():  # type: ignore[attr-defined]
        if f.default is not dataclasses.MISSING:
            body[name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            body[name] = dataclasses.field(default_factory=f.default_factory)
    body.pop("__slots__", None)
    twin: Any = dataclasses.dataclass(frozen=params.frozen, slots="__slots__" in cls.__dict__)(
        type(cls.__name__, (), body)
    )
    ours = {n: (f.default, f.default_factory, f.type) for n, f in _fields(cls)}
    theirs = {n: (f.default, f.default_factory, f.type) for n, f in _fields(twin)}
    assert ours == theirs
    compiled_init(cls)  # before its first construction, a record's __init__ is a stub
    assert _parameters(cls) == _parameters(twin)
    assert (cls.__hash__ is None) == (twin.__hash__ is None)
    assert cls.__match_args__ == twin.__match_args__  # type: ignore[attr-defined]
    assert ("__slots__" in cls.__dict__) == ("__slots__" in twin.__dict__)


def _parameters(cls: type) -> list[tuple[str, str, Any]]:
    """``__init__``'s parameters: name, default (``<factory>`` for a factory), kind."""
    sig = inspect.signature(cls)
    return [(p.name, repr(p.default), p.kind) for p in sig.parameters.values()]


def _fields(cls: type) -> list[tuple[str, dataclasses.Field[Any]]]:
    return [(f.name, f) for f in dataclasses.fields(cls)]


def test_init_is_compiled_at_the_eighth_construction() -> None:
    @record(frozen=True, slots=True)
    class Late:
        a: int
        b: int = 2

    assert "record_args" in vars(Late.__init__)  # the stub
    assert Late(1) == Late(1, 2) and Late(a=1).b == 2
    for _ in range(record_module.COMPILE_AT - 4):
        assert Late(3).a == 3
    assert "record_args" in vars(Late.__init__)  # seven built the general way
    assert Late(4, b=5).b == 5
    assert "record_args" not in vars(Late.__init__)  # replaced by the compiled one
    assert [p.name for p in inspect.signature(Late).parameters.values()] == ["a", "b"]


CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((), {}),
    ((1,), {}),
    ((1, "z"), {}),
    ((1, "z", [3]), {}),
    ((1, "z", [3], 4), {}),
    ((), {"x": 1}),
    ((1,), {"y": "w"}),
    ((1,), {"x": 2}),
    ((1,), {"tags": [5]}),
    ((1,), {"nope": 2}),
    ((dataclasses.MISSING,), {}),
    ((1, record_module._HAS_FACTORY), {}),
    ((1, "y", record_module._HAS_FACTORY), {}),
    ((), {"n": 1, "seen": {"a": 1}}),
    ((0.5,), {}),
    ((), {"only": 0.5, "extra": 1}),
]


def _outcome(cls: type, init: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What ``init`` does with the call: the fields set, or the TypeError."""
    obj = object.__new__(cls)
    try:
        init(obj, *args, **kwargs)
    except TypeError as exc:
        return "TypeError", str(exc).split("()", 1)[-1]
    values = (getattr(obj, n, "<unset>") for n in cls.__match_args__)  # type: ignore[attr-defined]
    return tuple(_comparable(v) for v in values)


def _comparable(value: Any) -> Any:
    """A value, or its type where it compares by identity (a factory's fresh object)."""
    return type(value) if type(value).__eq__ is object.__eq__ else value


@pytest.mark.parametrize("cls", [Point, Mutable, Plain, *RECORDS], ids=lambda c: c.__qualname__)
def test_the_general_init_does_what_the_compiled_one_does(cls: type) -> None:
    """Before it is compiled, a record's __init__ binds, defaults, makes and sets as the
    compiled one will: every call above (and, for oomsleuth's own records, one by position
    and one by name of their own fields), the same fields, or a TypeError as well."""
    stub = vars(cls)["__init__"]
    if "record_args" in vars(stub):
        fields, slotted, frozen = stub.record_args
    else:  # compiled already (another test built it): the same arguments, from the class
        params: Any = cls.__dataclass_params__  # type: ignore[attr-defined]
        fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
        slotted, frozen = "__slots__" in vars(cls), params.frozen
    general = record_module._generic(cls, fields, slotted, frozen)
    compiled = record_module._init(cls, fields, slotted, frozen)
    names = list(fields)
    own = [(tuple(range(len(names))), {}), ((), {n: i for i, n in enumerate(names)})]
    for call_args, call_kwargs in [*CALLS, *own]:
        want = _outcome(cls, compiled, call_args, call_kwargs)
        got = _outcome(cls, general, call_args, call_kwargs)
        if isinstance(want, tuple) and want and want[0] == "TypeError":
            assert got[0] == "TypeError", (call_args, call_kwargs)
        else:
            assert got == want, (call_args, call_kwargs)


def test_construction_defaults_and_factories() -> None:
    a, b = Point(1), Point(1)
    assert (a.x, a.y, a.tags) == (1, "y", [])
    assert a.tags is not b.tags  # a fresh list each time
    assert Point(2, tags=[3]).tags == [3]
    assert Point(x=4, y="z") == Point(4, "z")
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, nope=2)  # type: ignore[call-arg]


def test_equality_hash_and_repr_are_the_dataclass_ones() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Point:  # the same class as a dataclass
        x: int
        y: str = "y"
        tags: tuple[int, ...] = ()

    @record(frozen=True, slots=True)
    class Ours:
        x: int
        y: str = "y"
        tags: tuple[int, ...] = ()

    nan = float("nan")
    for args in ((1,), (1, "a"), (1, "a", (2, 3)), (nan,)):
        assert repr(Ours(*args)).replace("Ours", "Point") == repr(Point(*args))  # type: ignore[arg-type]
        assert hash(Ours(*args)) == hash(Point(*args))  # type: ignore[arg-type]
    same = Ours(nan)  # type: ignore[arg-type]
    assert same == same and Ours(1) != Ours(2) and Ours(1) == Ours(1)
    assert Ours(1) != Point(1)  # another class is never equal
    assert {Ours(1), Ours(1)} == {Ours(1)}


def test_frozen_refuses_changes_and_mutable_allows_them() -> None:
    p = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del p.x  # type: ignore[misc]
    with pytest.raises(AttributeError):
        p.other = 1  # type: ignore[attr-defined]
    m = Mutable(1)
    m.n = 2
    m.seen["a"] = 1
    assert m == Mutable(2, {"a": 1})
    assert Mutable.__hash__ is None  # unhashable, as a mutable dataclass
    with pytest.raises(dataclasses.FrozenInstanceError):
        Plain(1.0).only = 2.0  # type: ignore[misc]
    assert hash(Plain(1.0)) == hash((1.0,))


def test_dataclasses_functions_pickle_and_copy() -> None:
    p = Point(1, "a", [2])
    assert dataclasses.is_dataclass(p)
    assert [f.name for f in dataclasses.fields(p)] == ["x", "y", "tags"]
    assert dataclasses.asdict(p) == {"x": 1, "y": "a", "tags": [2]}
    assert dataclasses.replace(p, y="b") == Point(1, "b", [2])
    kill = Kill(Victim(pid=7, comm="leaker"), Where("kern.log", 3), Stamp(uptime_s=1.5))
    for clone in (pickle.loads(pickle.dumps(kill)), copy.deepcopy(kill), copy.copy(kill)):
        assert clone == kill and clone is not kill
    assert pickle.loads(pickle.dumps(Mutable(3, {"a": 1}))) == Mutable(3, {"a": 1})


def _records_in(value: Any, seen: dict[int, Any]) -> None:
    """Every record reachable from ``value`` (through records, tuples, lists and dicts)."""
    if id(value) in seen:
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        seen[id(value)] = value
        for f in dataclasses.fields(value):
            _records_in(getattr(value, f.name), seen)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _records_in(item, seen)
    elif isinstance(value, dict):
        for item in value.values():
            _records_in(item, seen)


def test_replace_is_dataclasses_replace_on_every_record_of_real_reports() -> None:
    """``record.replace`` gives what ``dataclasses.replace`` gives, field by field, on every
    record of the reports of real logs (and raises as it does for a name that is no field)."""
    root = oomsleuth.__path__[0] + "/../fixtures"
    logs = ["real/memcg-single.dmesg-T.txt", "handwritten/k5.14-el9-memcg-v2.rsyslog.log"]
    seen: dict[int, Any] = {}
    for log in logs:
        _records_in(oomsleuth.analyze([f"{root}/{log}"], tz="UTC"), seen)
    kinds = {type(v) for v in seen.values()}
    assert len(kinds) >= 15 and all("_record_key" in k.__dict__ for k in kinds)
    for value in seen.values():
        names = [f.name for f in dataclasses.fields(value)]
        assert replace(value) == dataclasses.replace(value)
        for name in names:
            new = object()
            ours, theirs = replace(value, **{name: new}), dataclasses.replace(value, **{name: new})
            assert type(ours) is type(theirs) and ours == theirs and ours is not value
            assert getattr(ours, name) is new
        with pytest.raises(TypeError):
            replace(value, no_such_field=1)
    assert replace(Point(1), y="b", tags=[3]) == Point(1, "b", [3])
