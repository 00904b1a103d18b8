"""The per-zone lines of the Mem-Info block: free memory against the watermarks, and the buddy
allocator's free blocks.

``Node 0 Normal free:7012kB boost:0kB min:7560kB low:9448kB high:11336kB ... managed:...kB``
(older kernels: ``Normal free:... min:... low:... high:...``, no node) and the buddy line
``Node 0 Normal: 45*4kB (UME) 12*8kB ... 0*4096kB = 7012kB``. Both carry kB.
"""

from __future__ import annotations

from oomsleuth.model.kernel import Zone
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import field, record

_NAMES = r"(DMA32|DMA|Normal|HighMem|Movable|Device)"
_ZONE = lazy_compile(rf"^(?:Node (\d+) )?{_NAMES} free:(\d+)kB\b")
_FIELD = lazy_compile(r"\b(min|low|high|managed):(\d+)kB\b")
_BUDDY = lazy_compile(rf"^(?:Node (\d+) )?{_NAMES}: (?=\d+\*\d+kB|empty)")
_BLOCK = lazy_compile(r"(\d+)\*(\d+)kB")


@record()
class ZoneDraft:
    """The zones seen so far, by (node, name), in the order the kernel printed them."""

    zones: dict[tuple[int | None, str], Zone] = field(default_factory=dict)

    def feed(self, s: str) -> None:
        """Note a zone or buddy line; any other line is ignored (the caller keeps it)."""
        if (m := _ZONE.match(s)) is not None:
            key = (None if m[1] is None else int(m[1]), m[2])
            values = {k: int(v) for k, v in _FIELD.findall(s)}
            old = self.zones.get(key, Zone(key[0], key[1]))
            self.zones[key] = Zone(
                key[0],
                key[1],
                free_kb=int(m[3]),
                min_kb=values.get("min"),
                low_kb=values.get("low"),
                high_kb=values.get("high"),
                managed_kb=values.get("managed"),
                free_blocks=old.free_blocks,
            )
        elif (m := _BUDDY.match(s)) is not None:
            key = (None if m[1] is None else int(m[1]), m[2])
            blocks = tuple((int(size), int(count)) for count, size in _BLOCK.findall(s))
            old = self.zones.get(key, Zone(key[0], key[1]))
            self.zones[key] = Zone(
                old.node,
                old.name,
                old.free_kb,
                old.min_kb,
                old.low_kb,
                old.high_kb,
                old.managed_kb,
                blocks,
            )

    def finish(self) -> tuple[Zone, ...]:
        return tuple(self.zones.values())
