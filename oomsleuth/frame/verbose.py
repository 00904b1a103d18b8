"""``journalctl -o verbose`` records: a header line with the realtime and the cursor, then one
indented ``KEY=value`` line per field::

    Sun 2026-12-06 02:29:59.978723 UTC [s=46f4…;i=41e;b=617e…;m=41f83cdc;t=661ede2c526e3;x=e3d2…]
        _TRANSPORT=kernel
        MESSAGE=pre-journald invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, …
        _SOURCE_MONOTONIC_TIMESTAMP=1016731082

The cursor holds the boot id (``b=``), journald's monotonic (``m=``) and realtime (``t=``) clocks
when it received the record, in hex microseconds: the same fields ``-o export`` writes, so the
record is read as an export record (:mod:`oomsleuth.frame.journal`).
"""

from __future__ import annotations

import re

from oomsleuth.model.patterns import lazy_compile

_HEAD = lazy_compile(
    r"\w{2,4}\.? \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[s=[0-9a-f]+;i=[0-9a-f]+;"
    r"b=(?P<b>[0-9a-f]{32});m=(?P<m>[0-9a-f]+);t=(?P<t>[0-9a-f]+);x=[0-9a-f]+\]\s*\Z"
)
_FIELD = lazy_compile(r"    ([A-Za-z0-9_]+)=(.*)\Z", re.S)


class VerboseReader:
    """Collects one verbose record at a time; ``feed`` says whether a line belonged to one."""

    def __init__(self) -> None:
        self.fields: dict[str, str] | None = None
        self.start = 0
        self._ready: list[tuple[int, dict[str, str]]] = []

    @staticmethod
    def is_head(line: str) -> bool:
        return "[s=" in line and _HEAD.match(line) is not None

    def feed(self, line: str, lineno: int) -> bool:
        head = _HEAD.match(line) if "[s=" in line else None
        if head is not None:
            self.finish()
            self.start = lineno
            self.fields = {
                "_BOOT_ID": head["b"],
                "__MONOTONIC_TIMESTAMP": str(int(head["m"], 16)),
                "__REALTIME_TIMESTAMP": str(int(head["t"], 16)),
            }
            return True
        field = _FIELD.match(line) if self.fields is not None else None
        if field is None:
            self.finish()
            return False
        assert self.fields is not None
        self.fields.setdefault(field[1], field[2])
        return True

    @property
    def busy(self) -> bool:
        return self.fields is not None

    def finish(self) -> None:
        if self.fields is not None:
            self._ready.append((self.start, self.fields))
        self.fields = None

    def take(self) -> list[tuple[int, dict[str, str]]]:
        ready, self._ready = self._ready, []
        return ready
