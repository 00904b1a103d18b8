"""Sizes for people. Every size in oomsleuth is kB (1024 bytes) until it is shown."""

from __future__ import annotations


def human_kb(kb: int | None, unknown: str = "?") -> str:
    """A size in kB for people: ``512 KiB``, ``12.9 GiB``."""
    if kb is None:
        return unknown
    value, unit = _scaled(kb)
    return f"{kb} KiB" if unit == "K" else f"{value:.1f} {unit}iB"


def short_kb(kb: int | None, unknown: str = "-") -> str:
    """A size in kB for a narrow column: ``420K``, ``12.4M``, ``524M``, ``13.0G``."""
    if kb is None:
        return unknown
    value, unit = _scaled(kb)
    if unit == "K":
        return f"{kb}K"
    return f"{value:.1f}{unit}" if abs(value) < 100 else f"{value:.0f}{unit}"


def _scaled(kb: int) -> tuple[float, str]:
    value = float(kb)
    for unit in "KMG":
        if abs(value) < 1024:
            return value, unit
        value /= 1024
    return value, "T"
