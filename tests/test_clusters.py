"""The indexed clustering of copies (:mod:`oomsleuth.clock.clusters`) gives exactly the clusters
of the plain scan (each item joins the first cluster all of whose members it is a copy of),
whatever the mix of items with and without a kernel stamp, near and far, in any order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from oomsleuth.clock.clusters import NEAR, Clusters

# an item: (kernel stamp or None, a second key copies must share, a tie breaker)
Item = tuple[float | None, int, int]


def copies(a: Item, b: Item) -> bool:
    """Shaped like copies._report_copies: stamps decide when both have one."""
    if a[2] == b[2]:
        return False  # "the same line twice"
    if a[0] is not None and b[0] is not None:
        return abs(a[0] - b[0]) < NEAR
    return a[1] == b[1]


def scanned(items: list[Item]) -> list[list[Item]]:
    clusters: list[list[Item]] = []
    for item in items:
        home = next((c for c in clusters if all(copies(item, o) for o in c)), None)
        if home is None:
            home = []
            clusters.append(home)
        home.append(item)
    return clusters


def indexed(items: list[Item]) -> list[list[Item]]:
    group: Clusters[Item] = Clusters(copies, lambda item: item[0])
    order = []
    for item in items:
        home, new = group.place(item)
        if new:
            order.append(home)
    assert order == group.all
    return group.all


# stamps on a grid of half the tolerance, so that near, borderline and far pairs all occur
STAMPS = st.one_of(st.none(), st.integers(0, 40).map(lambda n: 100.0 + n * NEAR / 2))
ITEMS = st.lists(st.tuples(STAMPS, st.integers(0, 2), st.integers(0, 5)), max_size=40)


@settings(max_examples=400, deadline=None)
@given(ITEMS)
def test_indexed_clusters_are_the_scanned_ones(items: list[Item]) -> None:
    assert indexed(items) == scanned(items)


def test_a_pid_repeated_many_times_is_clustered_by_stamp() -> None:
    items: list[Item] = [(float(n % 50), 0, n) for n in range(500)]  # 10 copies of 50 moments
    got = indexed(items)
    assert got == scanned(items)
    assert len(got) == 50 and all(len(c) == 10 for c in got)
