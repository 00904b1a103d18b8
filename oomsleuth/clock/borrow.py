"""Borrowed anchors: a boot segment with no wall clock of its own takes one from another
source's segment of the same boot (see :mod:`oomsleuth.clock.anchors`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from oomsleuth.clock.samples import BootEstimates, KeySet, centred
from oomsleuth.model.lines import BootSegment
from oomsleuth.model.record import replace

if TYPE_CHECKING:
    from oomsleuth.clock.segment import OpenSegment

Table = dict[str, tuple[int, float | datetime] | None]  # text -> (segment, value); None: twice
_Match = tuple[int, float, datetime]  # (line here, uptime, wall)


def enter(table: Table, keys: KeySet, i: int) -> None:
    for text, (_, up, wall) in keys.items.items():
        value = up if up is not None else wall
        if value is not None:
            table[text] = None if text in table else (i, value)


def _match(keys: KeySet, table: Table, donor: int | None) -> tuple[int | None, list[_Match]]:
    """Pid lines here matched by text to copies in one other segment: an uptime on one side and
    a wall on the other. Returns that segment and the matches."""
    found: list[_Match] = []
    for text, (line, up, wall) in sorted(keys.items.items(), key=lambda kv: kv[1][0]):
        hit = table.get(text)
        if hit is None or donor not in (None, hit[0]):
            continue
        if up is not None and isinstance(hit[1], datetime):
            found.append((line, up, hit[1]))
        elif wall is not None and isinstance(hit[1], float):
            found.append((line, hit[1], wall))
        else:
            continue
        donor = hit[0]
    return donor, found


def borrow(
    seg: BootSegment,
    built: OpenSegment,
    out: list[BootSegment],
    by_key: dict[str, int],
    tables: tuple[Table, Table],
) -> BootSegment:
    """An unanchored segment's boot wall from another source: the same lines with the same
    uptimes (or dmesg -T pid lines) in an anchored segment, or else its pid lines paired with
    the receive times of copies that have no uptime."""
    donor = next((by_key[k] for k in built.keys.items if k in by_key), None)
    donor, matched = _match(built.texts, tables[0], donor)
    if donor is not None:
        d, tee = out[donor], BootEstimates()
        for line, up, wall in matched:
            tee.add(wall, up, line)
        return replace(
            seg, boot_id=seg.boot_id or d.boot_id, boot_wall=d.boot_wall, anchor_kind=d.anchor_kind,
            spread_s=d.spread_s, core_spread_s=d.core_spread_s, drift_s=d.drift_s,
            borrowed_from=f"{d.source}:{d.first_line}",
            matched=tuple(matched), dmesg_t_boot=tee.boot() or seg.dmesg_t_boot,
        )  # fmt: skip
    donor, pairs = _match(built.texts, tables[1], None)
    if donor is None:
        return seg
    d, got = out[donor], BootEstimates(kind="syslog")
    for line, up, wall in pairs:
        got.add(wall, centred(wall, up), line)
    drift = got.drift()
    return replace(
        seg, boot_wall=got.boot(), anchors=got.count, anchor_kind="syslog",
        spread_s=got.hi - got.lo, core_spread_s=got.core_spread(),
        drift_s=drift[0] if drift else None,
        drift_line=drift[1] if drift else None, borrowed_from=f"{d.source}:{d.first_line}",
    )  # fmt: skip
