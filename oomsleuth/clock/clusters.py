"""The clusters of copies of one group (:mod:`oomsleuth.clock.copies`), found with an index.

An item joins the first cluster (in the order clusters began) all of whose members it is a copy
of, else it starts a new one. Scanning every cluster of its group for each item is quadratic
when a group is large (a pid and name that repeat many times in one log, as a dense log of
back-to-back reports does). Where the copy test requires a number two copies share within
``NEAR`` (kernel stamps: ``abs(a - b) < 0.001``) whenever both items have it, the clusters are
indexed by that number in buckets of ``NEAR``: a cluster with a member whose number lies more
than two buckets away from the item's cannot take it, so only the clusters in the five nearest
buckets and those with no such member are tested, in their order. The result is the scan's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
NEAR = 0.001


class Clusters(Generic[T]):
    """The clusters of one group; ``near(item)``: the number copies share (None: none)."""

    def __init__(self, copies: Callable[[T, T], bool], near: Callable[[T], float | None]) -> None:
        self.copies = copies
        self.near = near
        self.all: list[list[T]] = []
        self._loose: set[int] = set()  # clusters with no member that has a number
        self._buckets: dict[int, set[int]] = {}

    def place(self, item: T) -> tuple[list[T], bool]:
        """The cluster ``item`` joins (True: a new one), with ``item`` appended to it."""
        value = self.near(item)
        bucket = math.floor(value / NEAR) if value is not None and math.isfinite(value) else None
        i = self._find(item, bucket)
        new = i is None
        if i is None:
            i = len(self.all)
            self.all.append([])
            self._loose.add(i)
        self.all[i].append(item)
        if bucket is not None:
            self._loose.discard(i)
            self._buckets.setdefault(bucket, set()).add(i)
        return self.all[i], new

    def _find(self, item: T, bucket: int | None) -> int | None:
        if bucket is None:
            candidates: list[int] | range = range(len(self.all))
        else:
            near = (i for b in range(bucket - 2, bucket + 3) for i in self._buckets.get(b, ()))
            candidates = sorted({*self._loose, *near})
        copies, clusters = self.copies, self.all
        for i in candidates:
            if all(copies(item, other) for other in clusters[i]):
                return i
        return None
